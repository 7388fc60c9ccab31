from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .results import Result
from .types import UTCDateTime

PENDING, SENT, FAILING = "pending", "sent", "failing"
OUTBOX_STATUSES = (PENDING, SENT, FAILING)


class OutboxMessage(db.Model):
    """One state of a published result, to be sent to the national data store (portal/outbox.py).

    Written in the transaction that changes the result, so a change is never without its message;
    `version` (PhienBan) rises per result and the messages of one result go out in its order."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("result_id", "version", name="uq_outbox_messages_result_version"),
        CheckConstraint(f"status IN {OUTBOX_STATUSES}", name="status"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"), index=True)
    version: Mapped[int]
    state: Mapped[str] = mapped_column(String(32))  # TrangThai as sent
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None]  # None: no answer (timeout, connection refused)
    last_answer: Mapped[str | None] = mapped_column(Text)  # the answer's first bytes, or the error
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    result: Mapped[Result] = relationship()
