"""Logging in and staying logged in: credentials checked under a throttle, every session a
server-side record that logout, a password change, "log out everywhere", removal from a business
and an idle or over-long session end.

The cookie (signed by Flask) carries only a random token; its SHA-256 is the record's key. A cookie
copied before the record ended opens nothing afterwards.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app, g, has_request_context, request
from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit
from ..access import SessionLogin
from ..extensions import db
from ..models import User, UserSession
from ..models.users import HOLDER
from ..timeutil import utcnow
from . import OperationError, throttle, transactional
from .accounts import check_password

WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."
PASSWORD_OFF = ("Tài khoản này đã tắt đăng nhập bằng mật khẩu. Hãy đăng nhập bằng tài khoản Cổng Dịch vụ công "
                "quốc gia / VNeID (nút ở đầu trang).")
COOKIE_KEY = "portal_session"  # the session token's key in Flask's signed cookie
# last_seen_at is written at most this often: a write per request would cost more than the
# minute of precision it buys on an idle limit counted in tens of minutes.
TOUCH_EVERY = timedelta(seconds=60)
KEEP_ENDED = timedelta(days=30)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_address() -> str:
    return (request.remote_addr or "")[:64] if has_request_context() else ""


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def _password_matches(user: User | None, password: str) -> bool:
    """Checks a hash whether or not the user exists, so that an unknown username costs the same
    time as a known one (a quick "no" would tell which usernames exist)."""
    if user is None:
        check_password_hash(_dummy_hash(current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")), password or "")
        return False
    return user.check_password(password or "")


def check_credentials(username: str, password: str) -> User:
    """The active user whose username and password these are, or OperationError. Failures are
    counted by (username, address) and by address: each key waits longer after every failure,
    whether the username exists or not, and nobody else is locked out."""
    username = (username or "").strip().lower()[:64]
    keys = throttle.login_keys(username, client_address())
    if (wait := throttle.wait(keys)) is not None:
        audit.record("login.throttled", target=username, details={"wait_seconds": wait})
        db.session.commit()
        raise OperationError(throttle.message(wait))
    user = db.session.scalars(select(User).where(func.lower(User.username) == username)).first()
    if _password_matches(user, password) and user.active:
        throttle.forget(keys[0][0])
        if not user.password_login:  # said only to whoever knows the password
            audit.record("login.password_off", actor=user, target=username)
            db.session.commit()
            raise OperationError(PASSWORD_OFF)
        db.session.commit()
        return user
    throttle.failed(keys)
    audit.record("login.failed", actor=user, target=username)
    db.session.commit()
    raise OperationError(WRONG)


@transactional
def start_session(user: User, method: str = "password", *, assurance_level: int | None = None,
                  id_token: str | None = None) -> str:
    """A new session for `user`; returns the token the cookie carries. A session opened through the
    national identity keeps the assurance level the provider asserted and its ID token (for logout)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(token_hash=_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
                               method=method, ip=client_address(), assurance_level=assurance_level,
                               id_token=id_token,
                               user_agent=(request.user_agent.string or "")[:255] if has_request_context() else ""))
    if has_request_context():
        g.portal_login = SessionLogin(method, assurance_level)
    user.last_login_at = now
    # The user's sessions of long ago go (the audit trail keeps their logins and logouts).
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id,
                                                 UserSession.last_seen_at < now - KEEP_ENDED))
    audit.record("login", actor=user, details={"method": method})
    return token


def _limits(user: User) -> tuple[timedelta, timedelta]:
    config = current_app.config
    idle = config["SESSION_IDLE_MINUTES_HOLDER"] if user.role == HOLDER else config["SESSION_IDLE_MINUTES_STAFF"]
    return timedelta(minutes=idle), timedelta(hours=config["SESSION_MAX_HOURS"])


def _why_over(record: UserSession, user: User, now: datetime) -> str | None:
    idle, longest = _limits(user)
    if now - record.last_seen_at > idle:
        return "idle"
    if now - record.created_at > longest:
        return "expired"
    return None


def session_user(token: str | None, user_id: str) -> tuple[User | None, str | None]:
    """(the user of the session this token opened, None) while it is open; (None, why it ended)
    otherwise. Ends a session that has been idle or open too long. Called once per request, before
    the view does anything (the commit here must not carry a view's half-done work)."""
    g.portal_login = None
    if not token or not user_id.isdigit():
        return None, None
    row = db.session.execute(select(UserSession, User).join(User, User.id == UserSession.user_id)
                             .where(UserSession.token_hash == _hash(token))).first()
    if row is None or row[0].ended_at is not None or row[1].id != int(user_id) or not row[1].active:
        return None, row[0].end_reason if row is not None else None
    record, user = row
    now = utcnow()
    if (reason := _why_over(record, user, now)) is not None:
        record.ended_at, record.end_reason, record.id_token = now, reason, None
        db.session.commit()
        return None, reason
    if now - record.last_seen_at > TOUCH_EVERY:
        record.last_seen_at = now
        db.session.commit()
    g.portal_login = SessionLogin(record.method, record.assurance_level)  # what access.py asks of this request
    return user, None


def end_sessions(user: User, reason: str) -> int:
    """End every open session of `user`, in the caller's transaction."""
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    return db.session.execute(query.values(ended_at=utcnow(), end_reason=reason, id_token=None)).rowcount


@transactional
def end_session(token: str | None, reason: str = "logout") -> str | None:
    """Log out: this session ends on the server. Returns the ID token of a session opened through
    the national identity (the provider's logout wants it back), which the record no longer keeps."""
    if not token:
        return None
    record = db.session.scalars(select(UserSession).where(UserSession.token_hash == _hash(token),
                                                          UserSession.ended_at.is_(None))).first()
    if record is None:
        return None
    id_token = record.id_token
    record.ended_at, record.end_reason, record.id_token = utcnow(), reason, None
    audit.record("logout", actor=record.user, details={"reason": reason} if reason != "logout" else None)
    return id_token


def open_sessions(user: User) -> list[UserSession]:
    """The user's sessions still open, newest first (the account page lists them). One whose
    browser simply went away is over once idle, though nothing has marked it yet."""
    now = utcnow()
    records = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                           UserSession.ended_at.is_(None))
                                 .order_by(UserSession.last_seen_at.desc()))
    return [record for record in records if _why_over(record, user, now) is None]


def is_current(record: UserSession, token: str | None) -> bool:
    return bool(token) and record.token_hash == _hash(token)


@transactional
def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """A new password; every session of the user ends (the caller opens a new one for the person
    who changed it)."""
    if not user.check_password(current or ""):
        raise OperationError("Mật khẩu hiện tại không đúng.")
    if new != confirm:
        raise OperationError("Hai lần nhập mật khẩu mới không khớp.")
    if new == current:
        raise OperationError("Mật khẩu mới phải khác mật khẩu hiện tại.")
    check_password(new, user.username)
    user.set_password(new)
    end_sessions(user, "password.change")
    audit.record("password.change", actor=user, target=user.username)


@transactional
def end_all_sessions(user: User) -> None:
    """Log the user out on every device (a lost phone, a shared computer)."""
    end_sessions(user, "logout.all")
    audit.record("logout.all", actor=user, target=user.username)
