"""The second factor of staff accounts: a time-based one-time code (TOTP, RFC 6238, the codes of
any authenticator app), with single-use recovery codes for a lost phone.

The secret is kept encrypted (Fernet) with a key derived from SECRET_KEY, so that a copy of the
database alone does not give away the codes; rotating SECRET_KEY means enrolling again (an admin
turns the second factor off for the account, its owner turns it on anew). A code is accepted once:
the last time step used is kept, so a code seen over someone's shoulder cannot be replayed.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import delete, select

from .. import audit
from ..access import require
from ..extensions import db
from ..models import RecoveryCode, User
from ..timeutil import utcnow
from . import OperationError, settings, throttle, transactional
from .sessions import end_sessions

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # as the claim codes: no 0/O, 1/I/L
RECOVERY_LENGTH = 10
WRONG_CODE = "Mã xác thực không đúng hoặc đã được dùng."


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"portal-second-factor", info=b"totp-secret").derive(
        current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _secret(user: User) -> str | None:
    if not user.totp_secret:
        return None
    try:
        return _fernet().decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:  # SECRET_KEY changed since enrolment
        return None


def _hash(code: str) -> str:
    return hashlib.sha256("".join(ch for ch in code.upper() if ch.isalnum()).encode()).hexdigest()


def provisioning_uri(user: User) -> str | None:
    """What the enrolment QR code holds (otpauth://totp/...), for an enrolment not yet confirmed."""
    secret = _secret(user)
    if secret is None or user.totp_enabled:
        return None
    issuer = f"Kho kết quả số hóa - {current_app.config['DEPARTMENT_NAME']}"
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)


def pending_secret(user: User) -> str | None:
    """The secret of an enrolment not yet confirmed, for typing it into an app by hand."""
    return None if user.totp_enabled else _secret(user)


def _require_staff(user: User) -> None:
    if not user.is_staff:
        raise OperationError("Xác thực hai bước dành cho tài khoản cán bộ.")


@transactional
def begin_enrolment(user: User) -> None:
    """A new secret for the user's app; it counts only once a code from it is confirmed."""
    _require_staff(user)
    if user.totp_enabled:
        raise OperationError("Xác thực hai bước đã được bật.")
    user.totp_secret = _fernet().encrypt(pyotp.random_base32().encode()).decode()


def _matching_step(secret: str, code: str) -> int | None:
    """The time step whose code this is (the current one, or one either side for a slow typist)."""
    code = "".join(ch for ch in code or "" if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = utcnow()
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH)) for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


@transactional
def confirm_enrolment(user: User, code: str) -> list[str]:
    """Turn the second factor on with a first code from the app; returns the recovery codes,
    shown once."""
    _require_staff(user)
    secret = None if user.totp_enabled else _secret(user)
    if secret is None:
        raise OperationError("Hãy bắt đầu lại việc bật xác thực hai bước.")
    step = _matching_step(secret, code)
    if step is None:
        raise OperationError("Mã không khớp. Hãy kiểm tra giờ trên điện thoại rồi nhập mã đang hiện trong ứng dụng.")
    user.totp_enabled_at, user.totp_last_step = utcnow(), step
    audit.record("totp.enable", actor=user, target=user.username)
    return _new_recovery_codes(user)


def _use_code(user: User, code: str) -> str | None:
    """'totp' or 'recovery' when `code` proves the second factor (and is now spent), else None."""
    secret = _secret(user)
    step = _matching_step(secret, code) if secret else None
    if step is not None and (user.totp_last_step is None or step > user.totp_last_step):
        user.totp_last_step = step
        return "totp"
    recovery = db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                             RecoveryCode.code_hash == _hash(code or ""),
                                                             RecoveryCode.used_at.is_(None))).first()
    if recovery is not None:
        recovery.used_at = utcnow()
        return "recovery"
    return None


def check_at_login(user: User, code: str) -> str:
    """Spend a code at login, after the password: 'totp' or 'recovery', or OperationError.
    Wrong codes are throttled per account (whoever types them knows the password)."""
    keys = throttle.second_factor_keys(user.username)
    if (wait := throttle.wait(keys)) is not None:
        raise OperationError(throttle.message(wait))
    used = _use_code(user, code) if user.totp_enabled else None
    if used is None:
        throttle.failed(keys)
        audit.record("login.failed", actor=user, target=user.username, details={"second_factor": True})
        db.session.commit()
        raise OperationError(WRONG_CODE)
    throttle.forget(keys[0][0])
    if used == "recovery":
        audit.record("totp.recovery_used", actor=user, target=user.username,
                     details={"left": recovery_codes_left(user)})
    db.session.commit()
    return used


def recovery_codes_left(user: User) -> int:
    return len(db.session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                                RecoveryCode.used_at.is_(None))).all())


@transactional
def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    if not user.totp_enabled or _use_code(user, code) is None:
        raise OperationError(WRONG_CODE)
    audit.record("totp.recovery_codes", actor=user, target=user.username)
    return _new_recovery_codes(user)


def _forget(user: User) -> None:
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


@transactional
def disable(user: User, password: str, code: str) -> None:
    """The owner turns it off, with their password and a code; not while it is required of them."""
    if settings.second_factor_required(user):
        raise OperationError("Quản trị hệ thống yêu cầu cán bộ dùng xác thực hai bước; không tắt được.")
    if not user.check_password(password or "") or _use_code(user, code) is None:
        raise OperationError("Mật khẩu hoặc mã xác thực không đúng.")
    _forget(user)
    audit.record("totp.disable", actor=user, target=user.username)


@transactional
def reset(actor: User, user: User) -> None:
    """An admin turns it off for someone who lost their phone and their recovery codes; they set it
    up again at their next login (if required) and their sessions end now."""
    require(actor, "manage")
    _forget(user)
    end_sessions(user, "totp.reset")
    audit.record("totp.reset", actor=actor, target=user.username)
