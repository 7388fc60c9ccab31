from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime
from .users import User


class HandoverSlip(db.Model):
    """The printable hand-over slips made when a reviewer publishes a batch: one PDF, one slip per
    holder without an account, each with a claim code in clear. The row is the truth: the PDF
    (PORTAL_DATA_DIR/slips/<sha256>.pdf, outside the backed-up store) is sent only to the
    reviewer who made it, only until `expires_at`; after that it is deleted (`removed_at`)."""

    __tablename__ = "handover_slips"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    slip_count: Mapped[int]
    result_codes: Mapped[list] = mapped_column(JSON)  # the results on the slips (never the claim codes)
    sha256: Mapped[str] = mapped_column(String(64))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User] = relationship()
