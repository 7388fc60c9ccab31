from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime
from .users import User


class NationalIdentity(db.Model):
    """An account bound to a person of the national identity provider: the provider's (issuer,
    subject), the 12-digit number it asserted, and, for a login on behalf of a business, the tax code
    it asserted (empty for the person's own account). One person has their own account and at most
    one member account per business (portal/operations/national_login.py)."""

    __tablename__ = "national_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject", "tax_code", name="uq_national_identities_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    person_number: Mapped[str] = mapped_column(String(12), index=True)
    tax_code: Mapped[str] = mapped_column(String(16), default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
