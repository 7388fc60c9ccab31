"""Accounts bound to holders: claim codes from the hand-over slip, and a business's members."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.errors import UserError
from portal.extensions import db
from portal.models import ClaimCode, User
from portal.operations import claims
from portal.operations.accounts import create_user

from .conftest import CCCD_A, CCCD_B, MST_C, PASSWORD, csrf_token, login, make_result


def _claim(client, code, holder, username, password="mat-khau-rieng-1"):
    return client.post("/claim", data={"csrf_token": csrf_token(client, "/claim"), "code": code, "holder_id": holder,
                                       "username": username, "password": password, "confirm": password})


def test_publishing_shows_a_claim_code_once_and_it_opens_an_account(client, world, pdfs):
    draft = make_result(world, pdfs[0], holder_id=CCCD_B, document_number="9/GP-SKHCN")
    login(client, "reviewer_a")
    response = client.post(f"/admin/results/{draft.id}/publish",
                           data={"csrf_token": csrf_token(client, f"/admin/results/{draft.id}"),
                                 "version": draft.version})
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


def test_a_holder_claims_one_account_a_business_adds_the_others(client, world, pdfs):
    own = make_result(world, pdfs[0], reviewer="reviewer_a")  # holder_a already has an account
    with pytest.raises(UserError, match="đã có tài khoản"):
        claims.issue_claim_code(world["reviewer_a"], own)
    business = make_result(world, pdfs[1], holder_id=MST_C, reviewer="reviewer_a", document_number="5/GP-SKHCN")
    first, second = (claims.issue_claim_code(world["reviewer_a"], business) for _ in range(2))
    other_result = make_result(world, pdfs[2], holder_id=MST_C, reviewer="reviewer_a", document_number="6/GP-SKHCN")
    spare = claims.issue_claim_code(world["reviewer_a"], other_result)
    assert _claim(client, second, MST_C, "dn-0").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/me/results")})
    # A code issued before the business had an account opens no second one.
    assert "đã có tài khoản" in _claim(client, spare, MST_C, "dn-1").get_data(as_text=True)
    assert claims.REFUSED in _claim(client, first, MST_C, "dn-2").get_data(as_text=True)
    manager = db.session.scalars(select(User).where(User.username == "dn-0")).one()
    assert manager.business_manager and [u.username for u in claims.members(manager)] == ["dn-0"]


def test_only_a_reviewer_who_did_not_digitize_issues_a_claim_code(app, client, world, pdfs):
    """A claim code opens the holder's whole store: the digitizer of a result never gets one."""
    result = make_result(world, pdfs[0], holder_id=CCCD_B, reviewer="reviewer_a")
    for who in ("staff_a", "staff_b", "reviewer_b"):
        with pytest.raises(UserError):
            claims.issue_claim_code(world[who], result)
    login(client, "staff_a")
    url = f"/admin/results/{result.id}"
    assert "Cấp mã nhận tài khoản mới" not in client.get(url).get_data(as_text=True)
    refused = client.post(f"{url}/claim-code", data={"csrf_token": csrf_token(client, url)}, follow_redirects=True)
    page = refused.get_data(as_text=True)
    assert "Chỉ cán bộ kiểm tra được cấp mã" in page and "Mã nhận tài khoản của người được cấp:" not in page
    assert not db.session.scalars(select(ClaimCode)).all()
    # A reviewer who digitized the result is refused too.
    own = make_result(world, pdfs[1], staff="reviewer_a", holder_id=CCCD_B, document_number="7/GP-SKHCN")
    own.status = "published"
    db.session.commit()
    with pytest.raises(UserError, match="Người số hóa"):
        claims.issue_claim_code(world["reviewer_a"], own)
    # The reviewer issues it, and the holder sees it in "who looked" once they have claimed.
    reviewer = app.test_client()
    login(reviewer, "reviewer_a")
    issued = reviewer.post(f"{url}/claim-code", data={"csrf_token": csrf_token(reviewer, url)}, follow_redirects=True)
    code = re.search(r"Mã nhận tài khoản của người được cấp: ([A-Z0-9-]+)", issued.get_data(as_text=True)).group(1)
    holder = app.test_client()
    assert _claim(holder, code, CCCD_B, "holder-b").status_code == 302
    access = holder.get("/me/access").get_data(as_text=True)
    assert "Cấp mã nhận tài khoản" in access and "Kiểm tra A" in access and "Nhận tài khoản bằng mã" in access


def test_a_manager_adds_a_colleague_and_removes_one_who_left(app, client, world, pdfs):
    business = make_result(world, pdfs[0], holder_id=MST_C, reviewer="reviewer_a")
    create_user(None, "dn-chinh", "holder", PASSWORD, holder_id=MST_C, full_name="Giám đốc")
    login(client, "dn-chinh")
    url = "/me/members"
    added = client.post(url, data={"csrf_token": csrf_token(client, url), "full_name": "Kế toán",
                                   "username": "ketoan", "password": "mat-khau-ke-toan"})
    assert added.status_code == 302
    assert f"{MST_C}.ketoan" in client.get(url).get_data(as_text=True)
    colleague = app.test_client()
    login(colleague, f"{MST_C}.ketoan", "mat-khau-ke-toan")
    assert business.code in colleague.get("/me/results").get_data(as_text=True)
    member = db.session.scalars(select(User).where(User.username == f"{MST_C}.ketoan")).one()
    assert not member.business_manager
    # Removal asks first; only the confirmation removes.
    remove_url = f"/me/members/{member.id}/remove"
    assert "Gỡ Kế toán khỏi doanh nghiệp?" in client.get(remove_url).get_data(as_text=True)
    db.session.refresh(member)
    assert member.active
    assert client.post(remove_url, data={"csrf_token": csrf_token(client, url)}).status_code == 302
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


def test_only_managers_manage_and_the_last_one_stays(app, client, world, pdfs):
    manager = create_user(None, "dn-chinh", "holder", PASSWORD, holder_id=MST_C, full_name="Giám đốc")
    member = claims.add_member(manager, "nhanvien", "mat-khau-nhan-vien", "Nhân viên")
    assert manager.business_manager and not member.business_manager
    login(client, member.username, "mat-khau-nhan-vien")
    url = "/me/members"
    page = client.get(url).get_data(as_text=True)
    assert "Giám đốc" in page and "Thêm thành viên" not in page and "Gỡ khỏi doanh nghiệp" not in page
    # A member who is not a manager can neither add nor remove, whatever they post.
    client.post(url, data={"csrf_token": csrf_token(client, url), "full_name": "X", "username": "ke-gian",
                           "password": "mat-khau-ke-gian"})
    assert not db.session.scalars(select(User).where(User.username.like("%ke-gian"))).all()
    assert client.get(f"/me/members/{manager.id}/remove").status_code == 404
    client.post(f"/me/members/{manager.id}/remove", data={"csrf_token": csrf_token(client, url)})
    db.session.refresh(manager)
    assert manager.active
    # Nobody removes themselves (a manager leaves when another removes them); the last manager cannot
    # stop being one; with a second manager, they can be removed.
    with pytest.raises(UserError, match="không tự gỡ mình"):
        claims.remove_member(manager, manager)
    with pytest.raises(UserError, match="ít nhất một người quản lý"):
        claims.set_manager(manager, manager, False)
    claims.set_manager(manager, member, True)
    claims.remove_member(member, manager)
    db.session.refresh(manager)
    assert not manager.active


def test_adding_a_member_reveals_nothing_about_other_accounts(client, world):
    create_user(None, "dn-chinh", "holder", PASSWORD, holder_id=MST_C)
    login(client, "dn-chinh")
    url = "/me/members"
    for name in ("admin", "staff_a", "holder_a", "khong-ai-dung"):  # taken elsewhere, or not
        response = client.post(url, data={"csrf_token": csrf_token(client, url), "full_name": name,
                                          "username": name, "password": "mat-khau-thanh-vien"})
        assert response.status_code == 302, name
    assert {u.username for u in db.session.scalars(select(User).where(User.holder_id == MST_C))} == {
        "dn-chinh", *(f"{MST_C}.{n}" for n in ("admin", "staff_a", "holder_a", "khong-ai-dung"))}
    # Nobody else may take a name in a business's namespace.
    with pytest.raises(UserError, match="mã số thuế"):
        create_user(None, f"{MST_C}.gia-mao", "holder", PASSWORD, holder_id=CCCD_B)


def test_a_second_click_on_publish_keeps_the_first_code(client, world, pdfs):
    draft = make_result(world, pdfs[0], holder_id=CCCD_B)
    login(client, "reviewer_a")
    url = f"/admin/results/{draft.id}/publish"
    first = client.get(client.post(url, data={"csrf_token": csrf_token(client, f"/admin/results/{draft.id}"),
                                 "version": draft.version})
                       .headers["Location"]).get_data(as_text=True)
    code = re.search(r"Mã nhận tài khoản của người được cấp: ([A-Z0-9-]+)", first).group(1)
    again = client.get(client.post(url, data={"csrf_token": csrf_token(client, f"/admin/results/{draft.id}"),
                                 "version": draft.version})
                       .headers["Location"]).get_data(as_text=True)
    assert "không ở trạng thái chờ kiểm tra" in again and "Mã nhận tài khoản của người được cấp" not in again
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/results")})
    assert _claim(client, code, CCCD_B, "van-dung").status_code == 302


def test_claim_form_says_when_passwords_differ(client, world):
    response = client.post("/claim", data={"csrf_token": csrf_token(client, "/claim"), "code": "AAAA-BBBB-CCCC",
                                           "holder_id": CCCD_B, "username": "x", "password": "mot-mat-khau-dai",
                                           "confirm": "mat-khau-khac-han"})
    assert "Hai lần nhập mật khẩu không khớp." in response.get_data(as_text=True)
