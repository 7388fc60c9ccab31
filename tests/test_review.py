"""Reviewers publish or send back drafts; published results are revoked or replaced, never deleted."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Result, ResultStatusChange

from .conftest import at_every_instant, csrf_token, login, make_result, upload, vietnam_now


def _text(response) -> str:
    return response.get_data(as_text=True)


def _post(client, result, action, **data):
    token = csrf_token(client, f"/admin/results/{result.id}")
    if action == "publish":
        data.setdefault("version", result.version)  # what the reviewer's page showed
    return client.post(f"/admin/results/{result.id}/{action}", data={"csrf_token": token, **data})


def test_reviewer_sees_the_queue_with_a_preview_and_publishes(client, world, pdfs):
    draft = make_result(world, pdfs[0])
    login(client, "reviewer_a")
    queue = _text(client.get("/admin/review"))
    assert draft.code in queue
    page = _text(client.get(f"/admin/results/{draft.id}"))
    assert f"/admin/results/{draft.id}/pages/1.png" in page and "Phát hành" in page
    image = client.get(f"/admin/results/{draft.id}/pages/1.png")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    assert client.get(f"/admin/results/{draft.id}/pages/2.png").status_code == 404
    response = _post(client, draft, "publish")
    assert response.status_code == 302
    db.session.refresh(draft)
    assert draft.status == "published" and draft.checked_by.username == "reviewer_a"
    assert draft.published_at is not None
    assert f'href="/admin/results/{draft.id}"' not in _text(client.get("/admin/review"))


def test_a_digitizer_cannot_check_their_own_work(client, world, pdfs):
    draft = make_result(world, pdfs[0], staff="reviewer_a")
    login(client, "reviewer_a")
    assert "Phát hành" not in _text(client.get(f"/admin/results/{draft.id}"))
    response = _post(client, draft, "publish")
    assert "Người số hóa không được tự kiểm tra" in _text(client.get(response.headers["Location"]))
    db.session.refresh(draft)
    assert draft.status == "draft"


def test_staff_cannot_publish(client, world, pdfs):
    draft = make_result(world, pdfs[0], staff="admin")
    login(client, "staff_a")
    _post(client, draft, "publish")
    db.session.refresh(draft)
    assert draft.status == "draft"


def test_send_back_needs_a_reason_and_the_fix_goes_back_to_the_queue(client, world, pdfs):
    draft = make_result(world, pdfs[0])
    login(client, "reviewer_a")
    response = _post(client, draft, "return", **{"return-reason": ""})
    assert "Cần ghi rõ lý do." in _text(client.get(response.headers["Location"]))
    db.session.refresh(draft)
    assert draft.status == "draft"
    _post(client, draft, "return", **{"return-reason": "Thiếu trang 2 của giấy phép."})
    db.session.refresh(draft)
    assert draft.status == "returned" and draft.status_reason == "Thiếu trang 2 của giấy phép."

    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/results")})
    login(client, "staff_a")
    page = _text(client.get(f"/admin/results/{draft.id}"))
    assert "Thiếu trang 2 của giấy phép." in page and "Sửa thông tin" in page
    from .conftest import result_form

    data = result_form(csrf_token=csrf_token(client, f"/admin/results/{draft.id}/edit"),
                       unit_id=str(draft.unit_id), paper_pages="1")
    assert client.post(f"/admin/results/{draft.id}/edit", data=data).status_code == 302
    db.session.refresh(draft)
    assert draft.status == "draft"
    assert [h.to_status for h in draft.history] == ["draft", "returned", "draft"]


def test_revoke_needs_a_reason_and_keeps_everything(client, world, pdfs):
    result = make_result(world, pdfs[0], reviewer="reviewer_a")
    login(client, "reviewer_a")
    _post(client, result, "revoke", **{"revoke-reason": "no"})
    db.session.refresh(result)
    assert result.status == "published"
    _post(client, result, "revoke", **{"revoke-reason": "Cơ sở đã ngừng sử dụng thiết bị."})
    db.session.refresh(result)
    assert result.status == "revoked" and result.document is not None
    history = _text(client.get(f"/admin/results/{result.id}"))
    assert "Đã thu hồi" in history and "Cơ sở đã ngừng sử dụng thiết bị." in history
    assert "Kiểm tra A" in history
    # A revoked result cannot be published or revoked again.
    _post(client, result, "publish")
    db.session.refresh(result)
    assert result.status == "revoked"


def test_replacement_is_reviewed_then_retires_the_old_result(client, world, pdfs):
    old = make_result(world, pdfs[0], reviewer="reviewer_a")
    login(client, "staff_a")
    form = _text(client.get(f"/admin/results/{old.id}/replace"))
    assert "Phạm Minh Khánh" in form  # the old metadata is offered
    from .conftest import result_form

    data = result_form(csrf_token=csrf_token(client, f"/admin/results/{old.id}/replace"),
                       document_number="125A/GP-SKHCN", issue_date="20/03/2019")
    import io

    data["file"] = (io.BytesIO(pdfs[1]), "moi.pdf")
    response = client.post(f"/admin/results/{old.id}/replace", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, _text(response)[-2000:]
    new = db.session.scalars(select(Result).where(Result.replaces_id == old.id)).one()
    assert new.status == "draft"
    db.session.refresh(old)
    assert old.status == "published"  # until the replacement is checked

    # A second replacement while one is pending is refused.
    data["file"] = (io.BytesIO(pdfs[2]), "moi2.pdf")
    data["csrf_token"] = csrf_token(client, f"/admin/results/{old.id}/replace")
    response = client.post(f"/admin/results/{old.id}/replace", data=data, content_type="multipart/form-data")
    assert f"đã có bản thay thế {new.code}" in _text(response)

    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/results")})
    login(client, "reviewer_a")
    _post(client, new, "publish")
    db.session.refresh(old)
    db.session.refresh(new)
    assert new.status == "published" and old.status == "replaced"
    assert new.code in old.status_reason
    assert db.session.scalar(select(func.count(Result.id))) == 2
    assert [h.to_status for h in old.history] == ["draft", "published", "replaced"]
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "result.replace" in actions and actions.count("result.publish") == 2


def test_every_state_change_has_who_and_when(client, world, pdfs):
    result = make_result(world, pdfs[0], reviewer="reviewer_a")
    changes = db.session.scalars(select(ResultStatusChange).where(ResultStatusChange.result_id == result.id)).all()
    assert [(c.from_status, c.to_status, c.actor.username) for c in changes] == [
        (None, "draft", "staff_a"), ("draft", "published", "reviewer_a")]
    assert all(c.at is not None and c.at.tzinfo is not None for c in changes)


@at_every_instant
def test_expired_is_shown_from_the_date_alone(clock, client, world, pdfs):
    today = vietnam_now().date()
    result = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=f"{today - timedelta(days=1):%d/%m/%Y}")
    last_day = make_result(world, pdfs[1], reviewer="reviewer_a", document_number="2/GP-SKHCN",
                           valid_until=f"{today:%d/%m/%Y}")
    assert result.status == "published" and result.effective_status() == "expired"
    assert last_day.effective_status() == "published"  # valid all of its last day, in Vietnam
    login(client, "staff_a")
    assert "Hết hiệu lực" in _text(client.get(f"/admin/results/{result.id}"))
    page = _text(client.get(f"/admin/results/{last_day.id}"))
    assert "Còn hiệu lực" in page and "Hết hiệu lực" not in page


def test_upload_then_publish_through_the_pages(client, world, pdfs):
    login(client, "staff_a")
    response = upload(client, pdfs[2], paper_pages="2")
    assert response.status_code == 302
    result = db.session.scalars(select(Result)).one()
    assert result.document.page_count == 2


def test_the_reviewer_publishes_what_they_saw_not_what_changed_since(app, client, world, pdfs):
    """Four eyes: a draft changed after the reviewer opened it (its holder, say) is not published;
    it stays in the queue and the reviewer is told who changed it."""
    from portal.identifiers import normalize_holder_id
    from portal.operations import results as ops

    draft = make_result(world, pdfs[0])
    login(client, "reviewer_a")
    page = _text(client.get(f"/admin/results/{draft.id}"))
    seen = int(re.search(r'name="version" value="(\d+)"', page).group(1))
    queue = _text(client.get("/admin/review"))
    assert f'value="{draft.id}:{seen}"' in queue
    # Meanwhile the digitizer gives the result to someone else.
    data = ops.ResultInput(**{name: getattr(draft, name) for name in ops.METADATA_FIELDS},
                           procedure=draft.procedure, unit=draft.unit)
    data.holder_kind, data.holder_id = normalize_holder_id("051195000321")
    data.holder_name = "Người Khác"
    ops.update_draft(world["staff_a"], draft, data)
    response = _post(client, draft, "publish", version=seen)
    assert response.headers["Location"].endswith(f"/admin/results/{draft.id}")
    shown = _text(client.get(response.headers["Location"]))
    assert "đã được sửa sau khi bạn mở" in shown and "Cán bộ A" in shown
    db.session.refresh(draft)
    assert draft.status == "draft" and draft.holder_id == "051195000321"
    # The same from the queue's "publish the ticked ones".
    token = csrf_token(client, "/admin/review")
    done = client.post("/admin/review/publish", data={"csrf_token": token, "result_id": f"{draft.id}:{seen}"},
                       follow_redirects=True)
    assert "đã được sửa sau khi bạn mở" in _text(done)
    db.session.refresh(draft)
    assert draft.status == "draft"
    # Looked at again, it is published as it now stands.
    assert _post(client, draft, "publish").status_code == 302
    db.session.refresh(draft)
    assert draft.status == "published"


def test_a_change_racing_a_publish_fails_cleanly(world, pdfs):
    """Two sessions changing the same row: the one working from the older copy is refused (the
    version is checked in the UPDATE itself), not silently applied."""
    from sqlalchemy.orm import Session

    from portal.operations import OperationError
    from portal.operations import results as ops

    draft = make_result(world, pdfs[0])
    seen = draft.version  # the row as this session read it
    with Session(db.engine) as other:
        row = other.get(Result, draft.id)
        row.summary = "Sửa từ một phiên khác"
        other.commit()
    with pytest.raises(OperationError, match="vừa được người khác thay đổi"):
        ops.publish(world["reviewer_a"], draft, seen_version=seen)
    db.session.refresh(draft)
    assert draft.status == "draft" and draft.summary == "Sửa từ một phiên khác"


def test_ticked_ids_past_the_databases_integers_are_no_ids(client, world, pdfs):
    draft = make_result(world, pdfs[0])
    login(client, "reviewer_a")
    token = csrf_token(client, "/admin/review")
    done = client.post("/admin/review/publish", follow_redirects=True, data={
        "csrf_token": token, "result_id": ["99999999999999:1", "١٢:1", f"{draft.id}:{draft.version}"]})
    assert done.status_code == 200 and "Đã phát hành 1 kết quả" in _text(done)
