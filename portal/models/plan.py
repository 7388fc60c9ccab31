from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime
from .units import Unit
from .users import User


class InventoryCount(db.Model):
    """A unit's count of the paper results still in force to digitize in one phase, and their
    pages (the plan's phase-1 survey). Never updated in place: each correction is a new row, the
    latest per (unit, phase) is the figure, the earlier ones are its history."""

    __tablename__ = "inventory_counts"
    __table_args__ = (
        CheckConstraint("phase BETWEEN 2 AND 5", name="phase"),
        CheckConstraint("results >= 0 AND pages >= 0", name="not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    phase: Mapped[int]
    results: Mapped[int]
    pages: Mapped[int]
    note: Mapped[str] = mapped_column(default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    recorded_by: Mapped[User | None] = relationship()
