"""Requests to correct (issue 18): a holder says a field of one of their results is wrong; the issuing
unit's reviewers acknowledge it and answer it, by a replacement of the result or by a refusal with a
reason (portal/operations/corrections.py). Every step keeps when and who, for the holder to see."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .files import StoredFile
from .results import Result
from .types import UTCDateTime
from .users import User

RECEIVED, ACKNOWLEDGED, CORRECTED, REFUSED = "received", "acknowledged", "corrected", "refused"
STATES = (RECEIVED, ACKNOWLEDGED, CORRECTED, REFUSED)
OPEN_STATES = (RECEIVED, ACKNOWLEDGED)
STATE_LABELS = {RECEIVED: "Đã tiếp nhận", ACKNOWLEDGED: "Đã xác nhận, đang xử lý",
                CORRECTED: "Đã sửa (cấp kết quả thay thế)", REFUSED: "Từ chối sửa"}
# The fields of a result a holder is shown, and may say are wrong (Result's columns).
FIELDS = {
    "holder_name": "Tên người được cấp",
    "holder_address": "Địa chỉ người được cấp",
    "document_number": "Số, ký hiệu văn bản",
    "issue_date": "Ngày cấp",
    "summary": "Trích yếu nội dung",
    "signer_name": "Người ký",
    "signer_title": "Chức vụ người ký",
    "valid_from": "Hiệu lực từ ngày",
    "valid_until": "Hiệu lực đến ngày",
}


class CorrectionRequest(db.Model):
    __tablename__ = "correction_requests"
    __table_args__ = (CheckConstraint(f"status IN {STATES}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"), index=True)
    # Copied from the result when received: the queue is the unit's, the request the holder's.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    holder_id: Mapped[str] = mapped_column(String(16), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    field: Mapped[str] = mapped_column(String(32))
    shown_value: Mapped[str] = mapped_column(Text, default="")  # what the result said when asked
    requested_value: Mapped[str] = mapped_column(Text)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    status: Mapped[str] = mapped_column(String(16), default=RECEIVED, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledge_due: Mapped[date] = mapped_column(Date)
    answer_due: Mapped[date] = mapped_column(Date)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    replacement_id: Mapped[int | None] = mapped_column(ForeignKey("results.id"))

    result: Mapped[Result] = relationship(foreign_keys=[result_id])
    replacement: Mapped[Result | None] = relationship(foreign_keys=[replacement_id])
    attachment: Mapped[StoredFile | None] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])

    @property
    def field_label(self) -> str:
        return FIELDS.get(self.field, self.field)

    @property
    def status_label(self) -> str:
        return STATE_LABELS[self.status]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def overdue(self, on: date) -> str | None:
        """What is late on `on` (a Vietnamese date): "answer" (the later and graver), "acknowledge", or None."""
        if self.is_open and on > self.answer_due:
            return "answer"
        if self.status == RECEIVED and on > self.acknowledge_due:
            return "acknowledge"
        return None
