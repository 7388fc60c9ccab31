"""Requests to correct a result (issue 18; Law 91/2025 on personal data protection, Decree 356/2025):
received from the holder, acknowledged by a reviewer of the issuing unit within 2 working days, and
answered within the legal time (settings.CORRECTION_ANSWER_DAYS working days): corrected by a
replacement of the result made the usual way (a published result is never edited), or refused with
a reason. One operation per step; each is in the audit trail and the holder's "Ai đã xem"."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from .. import audit
from ..access import PermissionDenied, visible_corrections, why_not_answer_correction, why_not_request_correction
from ..extensions import db
from ..models import CorrectionRequest, Result, StoredFile, User
from ..models.corrections import ACKNOWLEDGED, CORRECTED, FIELDS, OPEN_STATES, RECEIVED, REFUSED
from ..models.results import PUBLISHED
from ..scans import PreparedScan
from ..storage import storage
from ..timeutil import today, utcnow
from ..workdays import add_working_days
from . import OperationError, settings, transactional
from .results import stored_file

ACKNOWLEDGE_DAYS = 2  # Decree 356/2025: a data subject's request is acknowledged within 2 working days
VALUE_MAX, REASON_MAX = 1000, 2000


def shown_value(result: Result, field: str) -> str:
    """The field as the holder's result page shows it (dates as dd/mm/yyyy)."""
    value = getattr(result, field)
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)


def due_dates(received: date) -> tuple[date, date]:
    """(acknowledgement due, answer due) for a request received on `received`, in working days."""
    off = settings.holidays()
    return (add_working_days(received, ACKNOWLEDGE_DAYS, off),
            add_working_days(received, int(settings.get(settings.CORRECTION_ANSWER_DAYS)), off))


def _text(raw, limit: int, empty: str, what: str) -> str:
    text = str(raw or "").strip()
    if not text:
        raise OperationError(empty)
    if len(text) > limit:
        raise OperationError(f"{what} không được dài quá {limit} ký tự.")
    return text


def _attachment(actor: User, scan: PreparedScan) -> StoredFile:
    """The checked file (a PDF, or the PDF made from an image) kept in the file store, once."""
    if scan.source is not None:  # the PDF made from it says all the image said
        storage().discard(scan.source.path)
    return stored_file(scan.document, scan, actor, None, with_text=False)


@transactional
def submit(actor: User, result: Result, field, value, attachment: PreparedScan | None = None) -> CorrectionRequest:
    """The holder's request that `field` of `result` should read `value`, received now."""
    try:
        if (reason := why_not_request_correction(actor, result)) is not None:
            raise PermissionDenied(reason)
        if field not in FIELDS:
            raise OperationError("Hãy chọn thông tin cần sửa trong danh sách.")
        value = _text(value, VALUE_MAX, "Hãy ghi thông tin đúng phải là gì.", "Thông tin đúng")
        acknowledge_due, answer_due = due_dates(today())
        request = CorrectionRequest(
            result=result, unit_id=result.unit_id, holder_id=result.holder_id, requested_by_id=actor.id,
            field=field, shown_value=shown_value(result, field), requested_value=value, status=RECEIVED,
            received_at=utcnow(), acknowledge_due=acknowledge_due, answer_due=answer_due,
            attachment=_attachment(actor, attachment) if attachment is not None else None)
        db.session.add(request)
        db.session.flush()
    except BaseException:
        if attachment is not None:
            attachment.discard()
        raise
    audit.record("correction.submit", actor=actor, result=result,
                 details={"correction": request.id, "field": field})
    return request


def _require_answerer(actor: User, request: CorrectionRequest) -> None:
    if (reason := why_not_answer_correction(actor, request)) is not None:
        raise PermissionDenied(reason)
    if request.status not in OPEN_STATES:
        raise OperationError("Yêu cầu này đã được trả lời.")


@transactional
def acknowledge(actor: User, request: CorrectionRequest) -> None:
    _require_answerer(actor, request)
    if request.status != RECEIVED:
        raise OperationError("Yêu cầu này đã được xác nhận.")
    request.status, request.acknowledged_at, request.acknowledged_by_id = ACKNOWLEDGED, utcnow(), actor.id
    audit.record("correction.acknowledge", actor=actor, result=request.result, details={"correction": request.id})


def _acknowledged_now(actor: User, request: CorrectionRequest) -> None:
    """An answer given before the acknowledgement acknowledges too (the holder sees both dates)."""
    if request.acknowledged_at is None:
        request.acknowledged_at, request.acknowledged_by_id = utcnow(), actor.id


@transactional
def correct(actor: User, request: CorrectionRequest, replacement_code) -> Result:
    """Answered by the published result that replaces the request's (made with the replacement of
    portal/operations/results.py, by whoever digitized it): the request names it for the holder."""
    _require_answerer(actor, request)
    code = str(replacement_code or "").strip()
    replacement = db.session.scalars(select(Result).where(Result.code == code)).first() if code else None
    if replacement is None or replacement.replaces_id != request.result_id:
        raise OperationError("Hãy ghi mã của kết quả thay thế kết quả này (tạo bằng chức năng «Thay thế» "
                             "trên trang kết quả).")
    if replacement.status != PUBLISHED:
        raise OperationError(f"Kết quả thay thế {replacement.code} chưa được phát hành; hãy phát hành trước.")
    _acknowledged_now(actor, request)
    request.status, request.answered_at, request.answered_by_id = CORRECTED, utcnow(), actor.id
    request.replacement = replacement
    audit.record("correction.correct", actor=actor, result=request.result,
                 details={"correction": request.id, "replacement": replacement.code})
    return replacement


@transactional
def refuse(actor: User, request: CorrectionRequest, reason) -> None:
    _require_answerer(actor, request)
    reason = _text(reason, REASON_MAX, "Cần ghi lý do từ chối để người yêu cầu được biết.", "Lý do")
    _acknowledged_now(actor, request)
    request.status, request.answered_at, request.answered_by_id = REFUSED, utcnow(), actor.id
    request.refusal_reason = reason
    audit.record("correction.refuse", actor=actor, result=request.result, details={"correction": request.id})


def requests_of(user: User) -> list[CorrectionRequest]:
    """The holder's requests (their business's, for a member), newest first: for their pages and
    the "my data" export."""
    return list(db.session.scalars(visible_corrections(user).order_by(
        CorrectionRequest.received_at.desc(), CorrectionRequest.id.desc())))


def queue(user: User, open_only: bool = True):
    """The requests of `user`'s unit (an admin: all), the oldest open first (the ones due soonest)."""
    query = visible_corrections(user)
    if open_only:
        query = query.where(CorrectionRequest.status.in_(OPEN_STATES))
    return query.order_by(CorrectionRequest.answer_due, CorrectionRequest.id)
