"""Logging in safely: lockout after repeated failures, password changes, ending every session."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from .. import audit
from ..extensions import db
from ..models import User
from ..timeutil import to_local, utcnow
from . import OperationError, transactional
from .accounts import check_password

MAX_FAILURES = 5
LOCK_MINUTES = 15
WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."


def authenticate(username: str, password: str) -> User:
    """The user whose credentials these are, or OperationError (and the failure is counted)."""
    username = (username or "").strip().lower()
    user = db.session.scalars(select(User).where(func.lower(User.username) == username)).first()
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        audit.record("login.failed", actor=user, target=username[:64], details={"locked": True})
        db.session.commit()
        raise OperationError(_locked_message(user))
    if user is not None and user.active and user.check_password(password):
        user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
        audit.record("login", actor=user)
        db.session.commit()
        return user
    audit.record("login.failed", actor=user, target=username[:64])
    if user is not None:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.failed_logins, user.locked_until = 0, now + timedelta(minutes=LOCK_MINUTES)
            audit.record("login.locked", actor=user, target=username[:64])
            db.session.commit()
            raise OperationError(_locked_message(user))
    db.session.commit()
    raise OperationError(WRONG)


def _locked_message(user: User) -> str:
    until = to_local(user.locked_until)
    return (f"Tài khoản tạm khóa vì đăng nhập sai {MAX_FAILURES} lần liên tiếp. "
            f"Hãy thử lại sau {until:%H:%M} ngày {until:%d/%m/%Y}, hoặc liên hệ quản trị hệ thống.")


@transactional
def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """A new password; every other session of the user ends."""
    if not user.check_password(current or ""):
        raise OperationError("Mật khẩu hiện tại không đúng.")
    if new != confirm:
        raise OperationError("Hai lần nhập mật khẩu mới không khớp.")
    if new == current:
        raise OperationError("Mật khẩu mới phải khác mật khẩu hiện tại.")
    check_password(new)
    user.set_password(new)
    user.session_version += 1
    audit.record("password.change", actor=user, target=user.username)


@transactional
def end_all_sessions(user: User) -> None:
    """Log the user out on every device (a lost phone, a shared computer)."""
    user.session_version += 1
    audit.record("logout.all", actor=user, target=user.username)
