from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime
from .users import User

NATIONAL_METHOD = "vneid"  # a session opened through the national identity provider


class UserSession(db.Model):
    """A login, kept on the server: the signed cookie carries only a random token whose hash is
    here, so ending the record (logout, password change, removal, idle) ends the session wherever
    the cookie is kept."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    # How the person proved who they are: "password", "password+totp", "claim", "vneid" (the national identity).
    method: Mapped[str] = mapped_column(String(32), default="password")
    # A "vneid" session: the assurance level the provider asserted (copies need the configured one,
    # portal/access.py), and its ID token, sent back as id_token_hint at logout (erased when the session ends).
    assurance_level: Mapped[int | None] = mapped_column()
    id_token: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):
    """Failed logins counted per key ("ip:<address>" or "acct:<username>@<address>"): each key
    waits longer after every failure, and only that key waits; nobody else's login is locked."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
