"""Binding accounts to holders: one-time claim codes, and the members of a business."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from .. import audit
from ..access import PermissionDenied, require, why_not_fellow, why_not_remove_member
from ..extensions import db
from ..identifiers import InvalidInput, normalize_holder_id
from ..models import ClaimCode, Result, User
from ..models.users import HOLDER
from ..timeutil import utcnow
from . import OperationError, transactional
from .accounts import add_user, business_has_account
from .sessions import end_sessions

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


def holder_has_account(holder_id: str) -> bool:
    return business_has_account(holder_id)


@transactional
def issue_claim_code(actor: User, result: Result) -> str:
    """A new code for the holder of a published result, who has no account yet; earlier unused
    codes for it stop working. Only a reviewer who did not digitize the result issues one: a
    claim code opens the holder's whole store."""
    require(actor, "claim_code", result)
    if holder_has_account(result.holder_id):
        raise OperationError("Người được cấp đã có tài khoản trên cổng nên không cần mã nhận tài khoản; "
                             "doanh nghiệp thêm người qua trang Thành viên.")
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
    """Open the first account of a holder with a claim code (a business's first account manages
    its members: colleagues are added there, not with another code)."""
    try:
        _kind, holder = normalize_holder_id(holder_id)
    except InvalidInput:
        raise OperationError(REFUSED) from None
    now = utcnow()
    claim = db.session.scalars(select(ClaimCode).where(ClaimCode.code_hash == _hash(code or ""))).first()
    if claim is None or claim.used_at is not None or claim.expires_at <= now or claim.holder_id != holder:
        raise OperationError(REFUSED)
    if holder_has_account(holder):
        raise OperationError("Người được cấp này đã có tài khoản. Hãy đăng nhập; doanh nghiệp thêm người "
                             "qua trang Thành viên của người quản lý. Cần hỗ trợ, xin liên hệ Sở.")
    user = add_user(None, username, HOLDER, password, full_name=full_name, holder_id=holder)
    claim.used_at, claim.used_by_id = now, user.id
    audit.record("claim.use", actor=user, result=claim.result)
    return user


def members(user: User) -> list[User]:
    """The active accounts of the business `user` belongs to, managers first."""
    return list(db.session.scalars(select(User).where(User.role == HOLDER, User.holder_id == user.holder_id,
                                                      User.active)
                                   .order_by(User.business_manager.desc(), User.username)))


def _managers(holder_id: str) -> int:
    return len(db.session.scalars(select(User.id).where(User.role == HOLDER, User.holder_id == holder_id,
                                                        User.active, User.business_manager)).all())


def member_username(actor: User, short_name: str) -> str:
    """A member's username: the business's tax code, a dot, the name the manager chose."""
    return f"{actor.holder_id}.{(short_name or '').strip().lower()}"


@transactional
def add_member(actor: User, short_name: str, password: str, full_name: str) -> User:
    """A manager adds a colleague. The username lives under the business's tax code, so a name
    already taken can only be a colleague's: nothing is revealed about other accounts."""
    require(actor, "manage_members")
    username = member_username(actor, short_name)
    if not (short_name or "").strip():
        raise OperationError("Chưa nhập tên đăng nhập.")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise OperationError(f"Doanh nghiệp đã có (hoặc đã từng có) thành viên {username}; hãy chọn tên khác.")
    user = add_user(None, username, HOLDER, password, full_name=full_name, holder_id=actor.holder_id,
                    member_of=actor.holder_id)
    audit.record("member.add", actor=actor, target=user.username)
    return user


@transactional
def remove_member(actor: User, member: User) -> None:
    """The member loses access at once: the account is closed and its sessions end. A business
    keeps at least one manager."""
    if why := why_not_remove_member(actor, member):
        raise PermissionDenied(why)
    if member.business_manager and _managers(actor.holder_id) <= 1:
        raise OperationError("Không gỡ được người quản lý cuối cùng của doanh nghiệp; hãy chỉ định người quản lý "
                             "khác trước.")
    member.active = False
    member.business_manager = False
    end_sessions(member, "member.remove")
    audit.record("member.remove", actor=actor, target=member.username)


@transactional
def set_manager(actor: User, member: User, manager: bool) -> None:
    """Make a member a manager of the business, or no longer one (never the last)."""
    require(actor, "manage_members")
    if (why := why_not_fellow(actor, member)) is not None:
        raise OperationError(why)
    if not manager and member.business_manager and _managers(actor.holder_id) <= 1:
        raise OperationError("Doanh nghiệp phải có ít nhất một người quản lý.")
    member.business_manager = manager
    audit.record("member.manager" if manager else "member.unmanager", actor=actor, target=member.username)
