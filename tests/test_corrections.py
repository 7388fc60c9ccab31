"""Requests to correct (issue 18 item 2): a holder reports a wrong field of their result; the issuing
unit's reviewers acknowledge and answer it within working days, by a replacement or a refusal."""

from __future__ import annotations

import io
import random
import re
from datetime import date, datetime

import pytest
from PIL import Image
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, CorrectionRequest
from portal.operations import corrections, settings
from portal.operations.accounts import create_user
from portal.timeutil import local_zone

from .conftest import CCCD_B, PASSWORD, csrf_token, image_bytes, login, make_result

# Friday 28 August 2026: the weekend, then 1 and 2 September (National Day, in the default holidays).
FRIDAY_BEFORE_NATIONAL_DAY = datetime(2026, 8, 28, 10, 0, tzinfo=local_zone())


@pytest.fixture
def result(world, pdfs, clock):
    return make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None, document_number="77/GP-SKHCN")


def signed_in(app, username):
    client = app.test_client()
    login(client, username)
    return client


def ask(client, code, field="holder_name", value="Nguyễn Văn Đúng", file=None):
    url = f"/me/results/{code}/corrections/new"
    data = {"csrf_token": csrf_token(client, url), "field": field, "value": value}
    if file is not None:
        data["attachment"] = file
    return client.post(url, data=data, content_type="multipart/form-data")


def post(client, url, page, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def only_request() -> CorrectionRequest:
    return db.session.scalars(select(CorrectionRequest)).one()


def test_a_request_corrected_by_replacement_with_due_dates_across_a_weekend_and_holidays(
        app, world, pdfs, result, clock, backend):
    clock.move_to(FRIDAY_BEFORE_NATIONAL_DAY)
    holder = signed_in(app, "holder_a")
    assert "Báo thông tin sai" in holder.get(f"/me/results/{result.code}").get_data(as_text=True)
    response = ask(holder, result.code, file=(io.BytesIO(pdfs[3]), "cccd.pdf"))
    assert response.status_code == 302
    request = only_request()
    # Mon 31 Aug, (Tue 1, Wed 2 Sep off), Thu 3 Sep: 2 working days; 15 working days: 22 September.
    assert (request.acknowledge_due, request.answer_due) == (date(2026, 9, 3), date(2026, 9, 22))
    assert request.status == "received" and request.shown_value == result.holder_name
    assert holder.get(f"/me/corrections/{request.id}/attachment").data.startswith(b"%PDF-")
    page = holder.get("/me/corrections").get_data(as_text=True)
    assert "Đã tiếp nhận" in page and "03/09/2026" in page and "Nguyễn Văn Đúng" in page

    reviewer = signed_in(app, "reviewer_a")
    queue_url = "/admin/corrections"
    assert f"/admin/corrections/{request.id}\"" in reviewer.get(queue_url).get_data(as_text=True)
    detail = f"/admin/corrections/{request.id}"
    assert post(reviewer, f"{detail}/acknowledge", detail).status_code == 302
    assert only_request().status == "acknowledged" and only_request().acknowledged_by.username == "reviewer_a"

    # Not yet a replacement: refused. Then the replacement made the usual way, published, linked.
    assert post(reviewer, f"{detail}/correct", detail, code=result.code).status_code == 422
    replacement = make_result(world, pdfs[1], reviewer="reviewer_a", replaces=result, valid_until=None,
                              document_number="77/GP-SKHCN-SĐ")
    assert post(reviewer, f"{detail}/correct", detail, code=replacement.code).status_code == 302
    request = only_request()
    assert request.status == "corrected" and request.replacement_id == replacement.id
    assert request.answered_by.username == "reviewer_a"
    page = holder.get(f"/me/results/{result.code}").get_data(as_text=True)
    assert "Đã sửa" in page and replacement.code in page and "Kiểm tra A" in page
    assert [c.id for c in corrections.requests_of(world["holder_a"])] == [request.id]
    # An answered request takes no more answers.
    assert post(reviewer, f"{detail}/refuse", detail, reason="Muộn").status_code == 422
    log = holder.get("/me/access").get_data(as_text=True)
    assert "Gửi yêu cầu sửa thông tin" in log and "Sửa thông tin bằng kết quả thay thế" in log


def test_a_request_refused_with_a_reason_and_overdue_shown(app, world, result, clock, backend):
    settings.change(world["admin"], settings.CORRECTION_ANSWER_DAYS, 3)
    clock.move_to(FRIDAY_BEFORE_NATIONAL_DAY)
    holder = signed_in(app, "holder_a")
    assert ask(holder, result.code, field="issue_date", value="01/02/2026").status_code == 302
    request = only_request()
    assert request.answer_due == date(2026, 9, 4)  # Mon 31 Aug, Thu 3, Fri 4 September
    reviewer = signed_in(app, "reviewer_a")
    assert "Quá hạn" not in reviewer.get("/admin/corrections").get_data(as_text=True)
    clock.move_to(datetime(2026, 9, 4, 9, 0, tzinfo=local_zone()))
    reviewer = signed_in(app, "reviewer_a")  # (sessions end when idle for days)
    assert "Quá hạn xác nhận" in reviewer.get("/admin/corrections").get_data(as_text=True)
    clock.move_to(datetime(2026, 9, 7, 9, 0, tzinfo=local_zone()))
    reviewer, holder = signed_in(app, "reviewer_a"), signed_in(app, "holder_a")
    detail = f"/admin/corrections/{request.id}"
    # Digitizers of the unit see the queue, read only.
    staff = signed_in(app, "staff_a")
    assert "Quá hạn trả lời" in staff.get("/admin/corrections").get_data(as_text=True)
    assert post(staff, f"{detail}/refuse", detail, reason="x").status_code == 422
    no_reason = post(reviewer, f"{detail}/refuse", detail, reason="")
    assert no_reason.status_code == 422
    assert 'href="#reason">Lý do từ chối: Cần ghi lý do' in no_reason.get_data(as_text=True)  # the error summary
    assert post(reviewer, f"{detail}/refuse", detail, reason="Ngày cấp đúng như bản giấy lưu.").status_code == 302
    request = only_request()
    assert request.status == "refused" and request.acknowledged_at is not None
    page = holder.get("/me/corrections").get_data(as_text=True)
    assert "Từ chối sửa" in page and "Ngày cấp đúng như bản giấy lưu." in page
    assert sorted(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("correction.%")))) == [
        "correction.refuse", "correction.submit"]


def test_another_holders_result_and_another_units_reviewer(app, world, result, backend):
    create_user(None, "holder_b", "holder", PASSWORD, holder_id=CCCD_B)
    other = signed_in(app, "holder_b")
    assert other.get(f"/me/results/{result.code}/corrections/new").status_code == 404
    assert ask(signed_in(app, "holder_a"), result.code).status_code == 302
    request = only_request()
    assert other.get("/me/corrections").get_data(as_text=True).count("Yêu cầu số") == 0
    for username in ("reviewer_b", "staff_b"):
        foreign = signed_in(app, username)
        assert foreign.get(f"/admin/corrections/{request.id}").status_code == 404
        listed = foreign.get("/admin/corrections?tat_ca=1").get_data(as_text=True)
        assert f"/admin/corrections/{request.id}\"" not in listed
        token = csrf_token(foreign, "/admin/corrections")
        assert foreign.post(f"/admin/corrections/{request.id}/acknowledge",
                            data={"csrf_token": token}).status_code == 404
    assert only_request().status == "received"
    assert signed_in(app, "admin").get(f"/admin/corrections/{request.id}").status_code == 200


def test_an_attachment_must_be_a_pdf_or_image_within_the_limit(app, world, result, backend):
    holder = signed_in(app, "holder_a")
    response = ask(holder, result.code, file=(io.BytesIO(b"MZ not a document" * 10), "virus.pdf"))
    assert response.status_code == 422
    app.config["MAX_UPLOAD_BYTES"] = 2048
    assert ask(holder, result.code, file=(io.BytesIO(image_bytes("PNG", size=(900, 900))), "big.png")).status_code \
        == 422
    assert db.session.scalars(select(CorrectionRequest)).all() == []
    app.config["MAX_UPLOAD_BYTES"] = 50 * 1024 * 1024
    assert ask(holder, result.code, file=(io.BytesIO(image_bytes("JPEG")), "anh.jpg")).status_code == 302
    assert only_request().attachment.media_type == "application/pdf"


def test_an_attachment_larger_than_a_form_is_taken_from_a_holder_only(app, world, result, backend):
    """The request's page takes a scan's size (a photo of an ID card), not a form's 64 KB."""
    out = io.BytesIO()
    Image.frombytes("RGB", (300, 300), random.Random(18).randbytes(300 * 300 * 3)).save(out, format="PNG")
    photo = out.getvalue()
    assert len(photo) > app.config["MAX_FORM_BYTES"]
    assert ask(signed_in(app, "holder_a"), result.code, file=(io.BytesIO(photo), "cccd.png")).status_code == 302
    assert only_request().attachment.media_type == "application/pdf"
    staff = signed_in(app, "staff_a")  # nobody else's body of that size is read there
    refused = staff.post(f"/me/results/{result.code}/corrections/new", content_type="multipart/form-data",
                         data={"csrf_token": csrf_token(staff, "/admin/corrections"), "field": "holder_name",
                               "value": "X", "attachment": (io.BytesIO(photo), "cccd.png")})
    assert refused.status_code == 413


def test_the_forms_refuse_a_missing_csrf_token(app, world, result):
    holder = signed_in(app, "holder_a")
    response = holder.post(f"/me/results/{result.code}/corrections/new",
                           data={"field": "holder_name", "value": "X"})
    assert response.status_code == 400
    assert ask(holder, result.code).status_code == 302
    request = only_request()
    reviewer = signed_in(app, "reviewer_a")
    for step in ("acknowledge", "refuse", "correct"):
        assert reviewer.post(f"/admin/corrections/{request.id}/{step}", data={"reason": "x"}).status_code == 400
    assert only_request().status == "received"


def test_holidays_setting_is_checked_and_used(app, world, result, clock):
    admin = signed_in(app, "admin")
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "2026-02-16" in page and "2026-09-02" in page
    form = dict(re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', page))
    form.update(csrf_token=csrf_token(admin, "/admin/settings"), correction_answer_days="15",
                holidays="2026-06-16\n16/06/2026")
    form.pop("require_second_factor", None)
    assert "Dòng 2" in admin.post("/admin/settings", data=form).get_data(as_text=True)
    form["holidays"] = "2026-06-16\n2026-06-17"
    assert admin.post("/admin/settings", data=form).status_code == 302
    # Received Monday 15 June: Tue 16 and Wed 17 are now holidays.
    assert corrections.due_dates(date(2026, 6, 15))[0] == date(2026, 6, 19)
