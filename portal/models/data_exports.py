"""A holder's export of their own data built in the background (portal/operations/mydata.py): a
store too large to pack while they wait. The ZIP is kept in the store's JOBS area until it expires."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime
from .users import User

QUEUED, RUNNING, DONE, FAILED, EXPIRED = "queued", "running", "done", "failed", "expired"
STATUS_LABELS = {QUEUED: "Đang chờ", RUNNING: "Đang đóng gói", DONE: "Sẵn sàng tải về", FAILED: "Không đóng gói được",
                 EXPIRED: "Đã hết hạn tải"}


class DataExport(db.Model):
    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Whoever asked: only they download it (a business colleague's account is never in it, nor theirs in this).
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The lease of the worker building it (portal/jobs.py claim): another takes over once it ran out.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leased_by: Mapped[str | None] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(default=0)
    # Progress: results and copies packed, out of how many.
    done_items: Mapped[int] = mapped_column(default=0)
    total_items: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    error: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def percent(self) -> int:
        return 100 if self.status == DONE else int(100 * self.done_items / self.total_items) if self.total_items else 0
