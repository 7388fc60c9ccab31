from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime
from .units import Unit

ADMIN, STAFF, REVIEWER, HOLDER = "admin", "staff", "reviewer", "holder"
ROLES = (ADMIN, STAFF, REVIEWER, HOLDER)
ROLE_LABELS = {
    ADMIN: "Quản trị hệ thống",
    STAFF: "Cán bộ số hóa",
    REVIEWER: "Cán bộ kiểm tra",
    HOLDER: "Công dân / doanh nghiệp",
}


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES}", name="role"),
        # Staff and reviewers belong to a unit; holders are bound to a holder identifier.
        CheckConstraint("role NOT IN ('staff', 'reviewer') OR unit_id IS NOT NULL", name="staff_unit"),
        CheckConstraint("role <> 'holder' OR holder_id IS NOT NULL", name="holder_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    full_name: Mapped[str] = mapped_column(String(255), default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    holder_kind: Mapped[str | None] = mapped_column(String(16))
    holder_id: Mapped[str | None] = mapped_column(String(16), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A business's manager adds and removes its members (a business has at least one).
    business_manager: Mapped[bool] = mapped_column(default=False, server_default="0")
    # The second factor (TOTP, RFC 6238): the secret encrypted with a key derived from SECRET_KEY
    # (portal/second_factor.py), when it was turned on, and the last time step used (no replay).
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Whether the password opens this account: a holder who logs in through the national identity
    # may turn it off (portal/operations/national_login.py); an account opened there has none.
    password_login: Mapped[bool] = mapped_column(default=True, server_default="1")
    # Which version of the privacy notice (portal/privacy.py) a holder was shown, and when: at their
    # first login after each new version (Law 91/2025: the holder is told what is processed and why).
    privacy_notice_version: Mapped[str | None] = mapped_column(String(16))
    privacy_notice_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit | None] = relationship()

    def set_password(self, password: str) -> None:
        # scrypt with a random salt by default; tests choose a cheaper method to run fast.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        # The session itself is checked against its server-side record (portal/operations/sessions.py).
        return str(self.id)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def is_staff(self) -> bool:
        """Department staff of any kind: digitizers, reviewers and admins."""
        return self.role in (ADMIN, STAFF, REVIEWER)

    @property
    def is_holder(self) -> bool:
        return self.role == HOLDER

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class RecoveryCode(db.Model):
    """A single-use code that stands for the second factor when the phone is lost; only its hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
