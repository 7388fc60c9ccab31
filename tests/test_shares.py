"""Share links (issue 17 item 4): a holder lets someone without an account download one certified
copy until the link expires or is revoked; every opening is recorded for the holder to see."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, CertifiedCopy, CopyShare, ShareUse
from portal.operations.accounts import create_user
from portal.operations.copies import issue_copy
from portal.storage import storage

from .conftest import CCCD_A, CCCD_B, MST_C, PASSWORD, csrf_token, login, make_app, make_result
from .test_national_login import citizen, national  # noqa: F401 (a fixture)


@pytest.fixture
def copy(world, pdfs) -> CertifiedCopy:
    """(No clock of its own: the VNeID test's provider signs at the machine's time.)"""
    result = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None, document_number="901/GP-SKHCN")
    return issue_copy(world["holder_a"], result)


@pytest.fixture
def holder(app, world, clock):
    client = app.test_client()
    login(client, "holder_a")
    return client


def token_of(client) -> str:
    return csrf_token(client, "/account/password")


def share_by_api(client, code: str, recipient="Ngân hàng TMCP Ngoại thương, chi nhánh Quảng Ngãi", days=3):
    return client.post(f"/api/v1/me/copies/{code}/shares", json={"recipient": recipient, "days": days},
                       headers={"X-CSRFToken": token_of(client)})


def path_of(url: str) -> str:
    return urlsplit(url).path


def stored_bytes(copy: CertifiedCopy) -> bytes:
    with storage().open_verified(copy.sha256) as fh:
        return fh.read()


def uses_of(share_id: int) -> list[str]:
    db.session.expire_all()
    return [u.outcome for u in db.session.scalars(select(ShareUse).where(ShareUse.share_id == share_id)
                                                  .order_by(ShareUse.id))]


def test_the_link_downloads_the_registered_file_until_it_expires(app, holder, copy, clock):
    made = share_by_api(holder, copy.display_code)  # the code as the copies list gives it, dashes and all
    assert made.status_code == 201, made.get_json()
    answer = made.get_json()
    assert set(answer) == {"id", "url", "expires_at"}
    assert answer["url"].startswith(app.config["BASE_URL"] + "/share/")
    share = db.session.get(CopyShare, answer["id"])
    assert share.expires_at - share.created_at == timedelta(days=3)
    assert answer["expires_at"] == share.expires_at.isoformat()

    stranger = app.test_client()  # no account, no session
    got = stranger.get(path_of(answer["url"]))
    assert got.status_code == 200 and got.mimetype == "application/pdf"
    assert got.data == stored_bytes(copy) == holder.get(f"/me/copies/{copy.verification_code}.pdf").data
    assert hashlib.sha256(got.data).hexdigest() == copy.sha256
    assert copy.file_name in got.headers["Content-Disposition"]

    clock.shift(timedelta(days=3) - timedelta(minutes=1))
    assert stranger.get(path_of(answer["url"])).status_code == 200
    clock.shift(timedelta(minutes=2))
    gone = stranger.get(path_of(answer["url"]))
    assert gone.status_code == 410 and gone.mimetype == "text/html"
    page = gone.get_data(as_text=True)
    assert "Đường dẫn chia sẻ đã hết hạn" in page and "%PDF" not in page
    assert uses_of(share.id) == ["downloaded", "downloaded", "link_expired"]

    # The holder sees each opening, with its time and address, in the API, on the copy's page and in "Ai đã xem".
    holder = app.test_client()  # three days on, the morning's session has ended
    login(holder, "holder_a")
    listed = holder.get("/api/v1/me/shares").get_json()["shares"]
    assert [s["id"] for s in listed] == [share.id] and listed[0]["status"] == "expired"
    assert [u["outcome"] for u in listed[0]["uses"]] == ["link_expired", "downloaded", "downloaded"]
    assert {u["address"] for u in listed[0]["uses"]} == {"127.0.0.1"}
    copy_page = holder.get(f"/me/copies/{copy.verification_code}").get_data(as_text=True)
    assert "Đã hết hạn" in copy_page and copy_page.count('<span class="address">127.0.0.1</span>') == 3
    assert copy_page.count("Đã tải bản sao") == 2 and "Từ chối: đường dẫn đã hết hạn" in copy_page
    access = holder.get("/me/access").get_data(as_text=True)
    assert access.count("Mở đường dẫn chia sẻ") == 3 and "Tạo đường dẫn chia sẻ bản sao" in access
    assert "Ngân hàng TMCP Ngoại thương" in access and "127.0.0.1" in access
    # One event per opening: a download through a link is not also counted as the holder's own download.
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(("share.use", "copy.download")))).all()
    assert sorted(e.action for e in events) == ["copy.download", "share.use", "share.use", "share.use"]

    # The code as the copy prints it (dashes, any case) opens the same page and the same file.
    assert holder.get(f"/me/copies/{copy.display_code.lower()}").get_data(as_text=True) == copy_page
    assert holder.get(f"/me/copies/{copy.display_code}.pdf").data == stored_bytes(copy)


def test_revoked_through_the_api_or_the_button_the_link_answers_that_it_was_revoked(app, holder, copy):
    by_api = share_by_api(holder, copy.verification_code).get_json()
    page = holder.post(f"/me/copies/{copy.verification_code}/shares",
                       data={"csrf_token": csrf_token(holder, f"/me/copies/{copy.verification_code}"),
                             "recipient": "Tòa án nhân dân tỉnh", "days": "3"})
    assert page.status_code == 201
    shown = page.get_data(as_text=True)
    by_page = re.search(r'value="(http[^"]+/share/[^"]+)"', shown).group(1)
    assert "Đường dẫn chỉ hiện một lần này" in shown
    stranger = app.test_client()
    assert stranger.get(path_of(by_api["url"])).status_code == 200
    assert stranger.get(path_of(by_page)).status_code == 200

    assert holder.delete(f"/api/v1/me/shares/{by_api['id']}", headers={"X-CSRFToken": token_of(holder)}).status_code \
        == 204
    refused = stranger.get(path_of(by_api["url"]))
    assert refused.status_code == 410 and "đã bị thu hồi" in refused.get_data(as_text=True)
    assert holder.delete(f"/api/v1/me/shares/{by_api['id']}",
                         headers={"X-CSRFToken": token_of(holder)}).status_code == 204  # again: still revoked

    other = db.session.scalars(select(CopyShare).where(CopyShare.recipient == "Tòa án nhân dân tỉnh")).one()
    # The button without its CSRF token changes nothing.
    forged = holder.post(f"/me/shares/{other.id}/revoke", data={})
    assert forged.status_code == 400
    assert stranger.get(path_of(by_page)).status_code == 200
    pressed = holder.post(f"/me/shares/{other.id}/revoke", data={"csrf_token": token_of(holder)})
    assert pressed.status_code == 302 and f"/me/copies/{copy.verification_code}" in pressed.headers["Location"]
    assert "Đã thu hồi đường dẫn chia sẻ cho Tòa án nhân dân tỉnh" in holder.get(pressed.headers["Location"]).get_data(
        as_text=True)
    assert stranger.get(path_of(by_page)).status_code == 410
    db.session.expire_all()
    assert {s.status() for s in db.session.scalars(select(CopyShare))} == {"revoked"}
    assert all(s.revoked_by_id for s in db.session.scalars(select(CopyShare)))
    assert uses_of(other.id) == ["downloaded", "downloaded", "link_revoked"]
    from_list = holder.post(f"/me/shares/{other.id}/revoke", data={"csrf_token": token_of(holder), "back": "list"})
    assert from_list.headers["Location"].endswith("/me/shares")


def test_the_lists_of_shares_and_copies_say_when_there_is_a_next_page(world, pdfs, holder, copy):
    for n in range(3):
        assert share_by_api(holder, copy.verification_code, recipient=f"Ngân hàng {n}").status_code == 201
    first = holder.get("/api/v1/me/shares?per_page=2").get_json()
    second = holder.get("/api/v1/me/shares?page=2&per_page=2").get_json()
    assert first["has_next"] and not second["has_next"]
    # Every list has the shape of the results list: a client follows `next` the same way.
    assert first["next"] == "/api/v1/me/shares?page=2&per_page=2" and second["next"] is None
    page_keys = {"page", "per_page", "has_next", "next"}
    assert set(first) == page_keys | {"shares"}
    assert set(holder.get("/api/v1/me/results").get_json()) == page_keys | {"results"}
    assert [s["recipient"] for s in first["shares"] + second["shares"]] == ["Ngân hàng 2", "Ngân hàng 1", "Ngân hàng 0"]
    issue_copy(world["holder_a"], make_result(world, pdfs[1], reviewer="reviewer_a", valid_until=None))
    copies = holder.get("/api/v1/me/copies?per_page=1").get_json()
    assert copies["has_next"] and len(copies["copies"]) == 1 and set(copies) == page_keys | {"copies"}
    assert holder.get(copies["next"]).get_json()["copies"] != copies["copies"]
    assert not holder.get("/api/v1/me/copies?page=2&per_page=1").get_json()["has_next"]


def test_another_holders_copy_or_share_is_not_there(app, world, holder, copy):
    mine = share_by_api(holder, copy.verification_code).get_json()
    create_user(None, "holder_b", "holder", PASSWORD, holder_id=CCCD_B)
    other = app.test_client()
    login(other, "holder_b")
    token = token_of(other)
    code = copy.verification_code
    assert share_by_api(other, code).status_code == 404
    assert share_by_api(other, "ABCDEFGHJKLMNPQR").status_code == 404  # exactly as a copy that does not exist
    assert other.get(f"/me/copies/{code}").status_code == 404
    assert other.post(f"/me/copies/{code}/shares", data={"csrf_token": token, "recipient": "x", "days": "3"}) \
        .status_code == 404
    assert other.delete(f"/api/v1/me/shares/{mine['id']}", headers={"X-CSRFToken": token}).status_code == 404
    assert other.delete("/api/v1/me/shares/999999", headers={"X-CSRFToken": token}).status_code == 404
    assert other.post(f"/me/shares/{mine['id']}/revoke", data={"csrf_token": token}).status_code == 404
    assert other.get("/api/v1/me/shares").get_json()["shares"] == []
    assert "Ngân hàng" not in other.get("/me/shares").get_data(as_text=True)
    staff = app.test_client()
    login(staff, "staff_a")
    assert share_by_api(staff, code).status_code == 403
    assert staff.get("/me/shares").status_code == 404
    db.session.expire_all()
    assert db.session.get(CopyShare, mine["id"]).status() == "active"
    assert db.session.scalar(select(func.count()).select_from(CopyShare)) == 1


def test_members_of_a_business_share_and_revoke_its_copies(app, world, pdfs, clock):
    result = make_result(world, pdfs[2], reviewer="reviewer_a", valid_until=None, holder_id=MST_C,
                         holder_name="Công ty TNHH Thiết bị Y tế Minh Phát", document_number="903/GP-SKHCN")
    first = create_user(None, "member_1", "holder", PASSWORD, holder_id=MST_C)
    create_user(None, "member_2", "holder", PASSWORD, holder_id=MST_C)
    made = issue_copy(first, result)
    one, two = app.test_client(), app.test_client()
    login(one, "member_1")
    login(two, "member_2")
    share = share_by_api(one, made.verification_code).get_json()
    assert [s["id"] for s in two.get("/api/v1/me/shares").get_json()["shares"]] == [share["id"]]
    assert two.delete(f"/api/v1/me/shares/{share['id']}", headers={"X-CSRFToken": token_of(two)}).status_code == 204


def test_a_share_of_a_result_revoked_since_answers_why_instead_of_the_file(app, world, holder, copy):
    from portal.operations import results as ops

    made = share_by_api(holder, copy.verification_code).get_json()
    ops.revoke(world["reviewer_a"], copy.result, "Cơ sở đã chấm dứt hoạt động bức xạ")
    refused = app.test_client().get(path_of(made["url"]))
    assert refused.status_code == 410
    page = refused.get_data(as_text=True)
    assert "Kết quả này đã bị thu hồi" in page and "Cơ sở đã chấm dứt hoạt động bức xạ" in page
    assert refused.mimetype == "text/html" and "%PDF" not in page
    assert uses_of(made["id"]) == ["result_invalid"]
    # Nor is a new link made for it.
    again = share_by_api(holder, copy.verification_code)
    assert again.status_code == 422 and "đã bị thu hồi" in again.get_json()["message"]
    assert "Kết quả này đã bị thu hồi" in holder.get(f"/me/copies/{copy.verification_code}").get_data(as_text=True)


def test_a_damaged_stored_copy_is_not_sent_nor_logged_as_downloaded(app, holder, copy):
    made = share_by_api(holder, copy.verification_code).get_json()
    path = storage().path_for(copy.sha256)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes().replace(b"%PDF", b"%pdf", 1))
    opened = app.test_client().get(path_of(made["url"]))
    assert opened.status_code == 503 and b"%pdf" not in opened.data
    assert "tạm thời không tải được" in opened.get_data(as_text=True).lower()
    assert uses_of(made["id"]) == ["file_unavailable"]
    listed = holder.get("/api/v1/me/shares").get_json()["shares"][0]["uses"]
    assert [u["outcome"] for u in listed] == ["file_unavailable"]
    page = holder.get(f"/me/copies/{copy.verification_code}").get_data(as_text=True)
    assert "tệp bản sao tạm thời không đọc được" in page and "Đã tải bản sao" not in page


def test_the_token_is_kept_only_as_its_hash_and_never_in_the_audit_trail(app, holder, copy):
    made = share_by_api(holder, copy.verification_code).get_json()
    token = path_of(made["url"]).rsplit("/", 1)[1]
    assert len(token) == 22  # secrets.token_urlsafe(16): 128 bits
    app.test_client().get(path_of(made["url"]))
    holder.delete(f"/api/v1/me/shares/{made['id']}", headers={"X-CSRFToken": token_of(holder)})
    share = db.session.get(CopyShare, made["id"])
    assert share.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    rows = []
    for table in ("copy_shares", "copy_share_uses", "audit_events"):
        rows += [json.dumps(list(row), default=str) for row in db.session.execute(db.text(f"SELECT * FROM {table}"))]
    assert rows and not [row for row in rows if token in row]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("share.%"))).all()
    assert sorted(e.action for e in events) == ["share.create", "share.revoke", "share.use"]
    assert all(e.details["share"] == made["id"] for e in events)
    # Whom it was for stays with the holder's share, not in the trail.
    assert not [e for e in events if "Ngân hàng" in json.dumps(e.details, ensure_ascii=False)]
    # Listing shares never shows a link again.
    assert token not in holder.get("/api/v1/me/shares").get_data(as_text=True)
    assert token not in holder.get(f"/me/copies/{copy.verification_code}").get_data(as_text=True)


def test_an_unknown_or_malformed_token_is_not_found(client):
    for path in ("/share/AAAAAAAAAAAAAAAAAAAAAA", "/share/x", "/share/" + "A" * 80, "/share/..%2F..%2Fetc"):
        response = client.get(path)
        assert response.status_code == 404, path
    assert "Không tìm thấy đường dẫn chia sẻ" in client.get("/share/AAAAAAAAAAAAAAAAAAAAAA").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ShareUse)) == 0


@pytest.mark.parametrize("body, field", [
    ({"recipient": "Ngân hàng", "days": 0}, "days"), ({"recipient": "Ngân hàng", "days": 31}, "days"),
    ({"recipient": "Ngân hàng", "days": "3"}, "days"), ({"recipient": "Ngân hàng", "days": 2.5}, "days"),
    ({"recipient": "Ngân hàng"}, "days"), ({"days": 3}, "recipient"), ({"recipient": "   ", "days": 3}, "recipient"),
    ({"recipient": "x" * 201, "days": 3}, "recipient"), ({"recipient": 5, "days": 3}, "recipient"),
])
def test_a_bad_recipient_or_number_of_days_is_refused_field_by_field(holder, copy, body, field):
    response = holder.post(f"/api/v1/me/copies/{copy.verification_code}/shares", json=body,
                           headers={"X-CSRFToken": token_of(holder)})
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["error"] == "invalid" and field in answer["errors"], answer
    assert db.session.scalar(select(func.count()).select_from(CopyShare)) == 0


def test_the_form_says_what_is_wrong_and_defaults_to_three_days(holder, copy):
    url = f"/me/copies/{copy.verification_code}"
    page = holder.get(url).get_data(as_text=True)
    assert re.search(r'id="days"[^>]*value="3"', page) or re.search(r'value="3"[^>]*id="days"', page)
    for data, words in (({"recipient": "Ngân hàng", "days": "31"}, "Số ngày phải là số nguyên từ 1 đến 30."),
                        ({"recipient": "", "days": "3"}, "Cần ghi người nhận")):
        response = holder.post(f"{url}/shares", data={"csrf_token": csrf_token(holder, url), **data})
        assert response.status_code == 422 and words in response.get_data(as_text=True)
    assert holder.post(f"{url}/shares", data={"recipient": "Ngân hàng", "days": "3"}).status_code == 400  # no CSRF
    assert db.session.scalar(select(func.count()).select_from(CopyShare)) == 0


def test_the_links_are_rate_limited_per_address(db_url, tmp_path, world, signing_keys):
    limited = make_app(db_url, tmp_path / "limited", RATELIMIT_ENABLED=True, SHARE_RATE_LIMIT="3 per minute",
                       **signing_keys)
    client = limited.test_client()
    codes = [client.get("/share/AAAAAAAAAAAAAAAAAAAAAA").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    other = limited.test_client()
    assert other.get("/share/AAAAAAAAAAAAAAAAAAAAAA", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 404


def test_a_weak_vneid_session_cannot_share_but_can_revoke(app, national, world, copy):  # noqa: F811
    strong = app.test_client()
    login(strong, "holder_a")
    made = share_by_api(strong, copy.verification_code).get_json()
    weak = app.test_client()
    citizen(weak, national, number=CCCD_A, level=1)
    page = weak.get(f"/me/copies/{copy.verification_code}").get_data(as_text=True)
    assert "Chia sẻ bản sao điện tử bằng đường dẫn cần tài khoản định danh điện tử VNeID mức độ 2" in page
    assert "Đăng nhập lại bằng VNeID" in page and "Tạo đường dẫn chia sẻ" not in page
    api = share_by_api(weak, copy.verification_code)
    assert api.status_code == 403 and api.get_json()["error"] == "assurance_too_low"
    assert "mức độ 2" in api.get_json()["message"]
    form = weak.post(f"/me/copies/{copy.verification_code}/shares",
                     data={"csrf_token": token_of(weak), "recipient": "Ngân hàng", "days": "3"})
    assert form.status_code == 302 and "mức độ 2" in weak.get(form.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CopyShare)) == 1
    # Taking a link back only takes away: any session of the holder may.
    assert weak.delete(f"/api/v1/me/shares/{made['id']}", headers={"X-CSRFToken": token_of(weak)}).status_code == 204
    level2 = app.test_client()
    citizen(level2, national, number=CCCD_A, level=2)
    assert share_by_api(level2, copy.verification_code).status_code == 201


def test_the_holders_pages_link_to_the_copy_and_its_shares(holder, copy):
    code = copy.verification_code
    share_by_api(holder, code, recipient="Ngân hàng Nông nghiệp")
    assert f'href="/me/copies/{code}"' in holder.get("/me/copies").get_data(as_text=True)
    assert f'href="/me/copies/{code}"' in holder.get(f"/me/results/{copy.result.code}").get_data(as_text=True)
    listing = holder.get("/me/shares").get_data(as_text=True)
    assert "Ngân hàng Nông nghiệp" in listing and copy.register_number in listing and "Chưa ai mở" in listing
    assert 'href="/me/shares"' in listing  # the navigation


def test_a_share_of_a_result_replaced_or_expired_since_answers_why(app, world, pdfs, holder, clock):
    lasting = make_result(world, pdfs[3], reviewer="reviewer_a", valid_until="30/06/2026", issue_date="01/06/2026",
                          document_number="904/GP-SKHCN")
    replaced = make_result(world, pdfs[4], reviewer="reviewer_a", valid_until=None, document_number="905/GP-SKHCN")
    links = {}
    for result in (lasting, replaced):
        made = issue_copy(world["holder_a"], result)
        links[result.document_number] = path_of(share_by_api(holder, made.verification_code, days=30).get_json()["url"])
    make_result(world, pdfs[5], reviewer="reviewer_a", valid_until=None, document_number="906/GP-SKHCN",
                replaces=replaced)
    stranger = app.test_client()
    answer = stranger.get(links["905/GP-SKHCN"])
    assert answer.status_code == 410
    assert "đã được thay thế bằng một kết quả khác" in answer.get_data(as_text=True)
    assert "906/GP-SKHCN" in answer.get_data(as_text=True)
    assert stranger.get(links["904/GP-SKHCN"]).status_code == 200  # valid until the end of 30 June
    clock.shift(timedelta(days=16))  # 1 July
    answer = stranger.get(links["904/GP-SKHCN"])
    assert answer.status_code == 410 and "đã hết hiệu lực (hiệu lực đến hết ngày 30/06/2026)" in answer.get_data(
        as_text=True)
    outcomes = [u.outcome for u in db.session.scalars(select(ShareUse).order_by(ShareUse.id))]
    assert outcomes == ["result_invalid", "downloaded", "result_invalid"]
