"""Accounts bound to holders: claim codes from the hand-over slip, and a business's members."""

import re
from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import ClaimCode, User
from portal.operations import claims

from .conftest import CCCD_A, CCCD_B, MST_C, PASSWORD, csrf_token, login, make_result


def _claim(client, code, holder, username, password="mat-khau-rieng-1"):
    return client.post("/claim", data={"csrf_token": csrf_token(client, "/claim"), "code": code, "holder_id": holder,
                                       "username": username, "password": password, "confirm": password})


def test_publishing_shows_a_claim_code_once_and_it_opens_an_account(client, world, pdfs):
    draft = make_result(world, pdfs[0], holder_id=CCCD_B, document_number="9/GP-SKHCN")
    login(client, "reviewer_a")
    response = client.post(f"/admin/results/{draft.id}/publish",
                           data={"csrf_token": csrf_token(client, f"/admin/results/{draft.id}")})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    code = re.search(r"Mã nhận tài khoản của người được cấp: ([A-Z0-9-]+)", page).group(1)
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code)
    assert code.replace("-", "") not in {c.code_hash for c in db.session.scalars(select(ClaimCode))}
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/results")})

    # A wrong holder ID gets the same refusal as a wrong code.
    refusal = _claim(client, code, CCCD_A, "nguoi-khac").get_data(as_text=True)
    assert claims.REFUSED in refusal
    assert claims.REFUSED in _claim(client, "AAAA-BBBB-CCCC", CCCD_B, "nguoi-khac").get_data(as_text=True)
    done = _claim(client, code.lower().replace("-", " "), CCCD_B, "holder-b")
    assert done.status_code == 302 and done.headers["Location"].endswith("/me/results")
    assert draft.code in client.get("/me/results").get_data(as_text=True)
    user = db.session.scalars(select(User).where(User.username == "holder-b")).one()
    assert user.holder_id == CCCD_B and user.role == "holder"
    # Single use.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/me/results")})
    assert claims.REFUSED in _claim(client, code, CCCD_B, "lan-hai").get_data(as_text=True)


def test_expired_and_replaced_codes_are_refused(clock, client, world, pdfs):
    result = make_result(world, pdfs[0], holder_id=CCCD_B, reviewer="reviewer_a")
    first = claims.issue_claim_code(world["reviewer_a"], result)
    second = claims.issue_claim_code(world["reviewer_a"], result)
    assert claims.REFUSED in _claim(client, first, CCCD_B, "cu").get_data(as_text=True)  # replaced by the second
    clock.shift(timedelta(days=claims.VALID_DAYS, seconds=1))
    assert claims.REFUSED in _claim(client, second, CCCD_B, "het-han").get_data(as_text=True)
    assert db.session.scalar(select(User.id).where(User.holder_id == CCCD_B)) is None


def test_a_code_works_until_the_end_of_its_days(clock, client, world, pdfs):
    result = make_result(world, pdfs[0], holder_id=CCCD_B, reviewer="reviewer_a")
    code = claims.issue_claim_code(world["reviewer_a"], result)
    clock.shift(timedelta(days=claims.VALID_DAYS) - timedelta(minutes=1))
    assert _claim(client, code, CCCD_B, "van-kip").status_code == 302


def test_a_person_has_one_account_a_business_several(client, world, pdfs):
    own = make_result(world, pdfs[0], reviewer="reviewer_a")  # holder_a already has an account
    code = claims.issue_claim_code(world["reviewer_a"], own)
    assert "đã có tài khoản" in _claim(client, code, CCCD_A, "ban-sao").get_data(as_text=True)
    business = make_result(world, pdfs[1], holder_id=MST_C, reviewer="reviewer_a", document_number="5/GP-SKHCN")
    for n in range(2):
        code = claims.issue_claim_code(world["reviewer_a"], business)
        assert _claim(client, code, MST_C, f"dn-{n}").status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/me/results")})
    first = db.session.scalars(select(User).where(User.username == "dn-0")).one()
    assert {u.username for u in claims.members(first)} == {"dn-0", "dn-1"}


def test_members_add_a_colleague_and_remove_one_who_left(app, client, world, pdfs):
    business = make_result(world, pdfs[0], holder_id=MST_C, reviewer="reviewer_a")
    from portal.operations.accounts import create_user

    create_user(None, "dn-chinh", "holder", PASSWORD, holder_id=MST_C, full_name="Giám đốc")
    login(client, "dn-chinh")
    url = "/me/members"
    added = client.post(url, data={"csrf_token": csrf_token(client, url), "full_name": "Kế toán",
                                   "username": "dn-ketoan", "password": "mat-khau-ke-toan"})
    assert added.status_code == 302
    colleague = app.test_client()
    login(colleague, "dn-ketoan", "mat-khau-ke-toan")
    assert business.code in colleague.get("/me/results").get_data(as_text=True)
    member = db.session.scalars(select(User).where(User.username == "dn-ketoan")).one()
    removed = client.post(f"/me/members/{member.id}/remove", data={"csrf_token": csrf_token(client, url)})
    assert removed.status_code == 302
    # Access ends at once, in the session already open.
    assert colleague.get("/me/results").status_code == 302
    # A citizen has no members page and cannot remove anyone.
    person = app.test_client()
    login(person, "holder_a")
    assert person.get(url).status_code == 404
    assert person.post(f"/me/members/{world['holder_a'].id}/remove",
                       data={"csrf_token": csrf_token(person, "/me/results")}).status_code in (302, 404)
    db.session.refresh(world["holder_a"])
    assert world["holder_a"].active


def test_a_second_click_on_publish_keeps_the_first_code(client, world, pdfs):
    draft = make_result(world, pdfs[0], holder_id=CCCD_B)
    login(client, "reviewer_a")
    url = f"/admin/results/{draft.id}/publish"
    first = client.get(client.post(url, data={"csrf_token": csrf_token(client, f"/admin/results/{draft.id}")})
                       .headers["Location"]).get_data(as_text=True)
    code = re.search(r"Mã nhận tài khoản của người được cấp: ([A-Z0-9-]+)", first).group(1)
    again = client.get(client.post(url, data={"csrf_token": csrf_token(client, f"/admin/results/{draft.id}")})
                       .headers["Location"]).get_data(as_text=True)
    assert "không ở trạng thái chờ kiểm tra" in again and "Mã nhận tài khoản của người được cấp" not in again
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/results")})
    assert _claim(client, code, CCCD_B, "van-dung").status_code == 302


def test_claim_form_says_when_passwords_differ(client, world):
    response = client.post("/claim", data={"csrf_token": csrf_token(client, "/claim"), "code": "AAAA-BBBB-CCCC",
                                           "holder_id": CCCD_B, "username": "x", "password": "mot-mat-khau-dai",
                                           "confirm": "mat-khau-khac-han"})
    assert "Hai lần nhập mật khẩu không khớp." in response.get_data(as_text=True)
