"""Binding accounts to holders: one-time claim codes, and the members of a business."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from .. import audit
from ..access import require
from ..extensions import db
from ..identifiers import InvalidInput, normalize_holder_id
from ..models import ClaimCode, Result, User
from ..models.results import PUBLISHED
from ..models.users import HOLDER
from ..timeutil import utcnow
from . import OperationError, transactional
from .accounts import create_user

# Easy to read aloud and to type from paper: no 0/O, 1/I/L.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12  # 31^12: about 59 bits, and single use, expiring, rate-limited
VALID_DAYS = 90
REFUSED = "Mã nhận tài khoản không đúng, đã được dùng hoặc đã hết hạn, hoặc không khớp với số định danh."


def _hash(code: str) -> str:
    canonical = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(canonical.encode()).hexdigest()


def _format(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


@transactional
def issue_claim_code(actor: User, result: Result) -> str:
    """A new code for the holder of a published result; earlier unused codes for it stop working."""
    require(actor, "view", result)
    if result.status != PUBLISHED:
        raise OperationError("Chỉ cấp mã nhận tài khoản cho kết quả đang có hiệu lực.")
    now = utcnow()
    db.session.execute(update(ClaimCode).where(ClaimCode.result_id == result.id, ClaimCode.used_at.is_(None),
                                               ClaimCode.expires_at > now).values(expires_at=now))
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    db.session.add(ClaimCode(code_hash=_hash(code), result_id=result.id, holder_id=result.holder_id,
                             created_by_id=actor.id, expires_at=now + timedelta(days=VALID_DAYS)))
    audit.record("claim.issue", actor=actor, result=result)
    return _format(code)


@transactional
def claim_account(code: str, holder_id: str, username: str, password: str, full_name: str = "") -> User:
    """Open a holder account with a claim code. A business may open several (its members)."""
    try:
        kind, holder = normalize_holder_id(holder_id)
    except InvalidInput:
        raise OperationError(REFUSED) from None
    now = utcnow()
    claim = db.session.scalars(select(ClaimCode).where(ClaimCode.code_hash == _hash(code or ""))).first()
    if claim is None or claim.used_at is not None or claim.expires_at <= now or claim.holder_id != holder:
        raise OperationError(REFUSED)
    if kind == "person" and db.session.scalar(
            select(User.id).where(User.holder_id == holder, User.role == HOLDER, User.active)):
        raise OperationError("Số định danh này đã có tài khoản. Hãy đăng nhập, hoặc đến Sở để được hỗ trợ.")
    # The undecorated operation: the account and the used code commit together, or neither does.
    user = create_user.__wrapped__(None, username, HOLDER, password, full_name=full_name, holder_id=holder)
    claim.used_at, claim.used_by_id = now, user.id
    audit.record("claim.use", actor=user, result=claim.result)
    return user


def members(user: User) -> list[User]:
    """The active accounts of the business `user` belongs to."""
    return list(db.session.scalars(select(User).where(User.role == HOLDER, User.holder_id == user.holder_id,
                                                      User.active).order_by(User.username)))


def _require_business_member(actor: User) -> None:
    if actor.role != HOLDER or actor.holder_kind != "organisation" or not actor.active:
        raise OperationError("Chỉ thành viên của doanh nghiệp mới quản lý được thành viên.")


@transactional
def add_member(actor: User, username: str, password: str, full_name: str) -> User:
    _require_business_member(actor)
    user = create_user.__wrapped__(None, username, HOLDER, password, full_name=full_name,
                                   holder_id=actor.holder_id)
    audit.record("member.add", actor=actor, target=user.username)
    return user


@transactional
def remove_member(actor: User, member: User) -> None:
    """The member loses access at once: the account is closed and its sessions end."""
    _require_business_member(actor)
    if member.role != HOLDER or member.holder_id != actor.holder_id:
        raise OperationError("Tài khoản này không thuộc doanh nghiệp của bạn.")
    member.active = False
    member.session_version += 1
    audit.record("member.remove", actor=actor, target=member.username)
