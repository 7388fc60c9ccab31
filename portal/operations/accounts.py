"""Units, users and the procedure catalogue: what an admin manages."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from .. import audit, passwords
from ..access import require
from ..extensions import db
from ..identifiers import ORGANISATION, normalize_holder_id, normalize_procedure_code, normalize_unit_code
from ..models import Procedure, Unit, User
from ..models.users import HOLDER, REVIEWER, ROLES, STAFF
from . import OperationError, transactional

# "<tax code>.<name>": a business's members' usernames, given out only by its managers
# (operations/claims.add_member), so that adding one reveals nothing about other accounts.
MEMBER_NAMESPACE = re.compile(r"\d{10}(-\d{3})?\.")
NO_PASSWORD = "!"  # no hash: no password matches it
PERMANENT = "permanent"  # a retention period in the audit log (the column holds NULL)


def _audit(event_action: str, actor: User | None, target: str, details: dict | None = None) -> None:
    audit.record(event_action, actor=actor, target=target, details=details)


def _require_admin(actor: User | None) -> None:
    if actor is not None:  # None: the command line, run by whoever runs the server
        require(actor, "manage")


@transactional
def create_unit(actor: User | None, code: str, name: str) -> Unit:
    _require_admin(actor)
    code = normalize_unit_code(code)
    name = (name or "").strip()
    if not name:
        raise OperationError("Chưa nhập tên đơn vị.")
    if db.session.scalar(select(Unit.id).where(Unit.code == code)):
        raise OperationError(f"Mã đơn vị {code} đã tồn tại.")
    unit = Unit(code=code, name=name)
    db.session.add(unit)
    db.session.flush()
    _audit("unit.create", actor, code, {"name": name})
    return unit


@transactional
def update_unit(actor: User, unit: Unit, name: str, active: bool, push_publishes: bool | None = None) -> Unit:
    _require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise OperationError("Chưa nhập tên đơn vị.")
    unit.name, unit.active = name, active
    if push_publishes is not None:
        unit.push_publishes = push_publishes
    _audit("unit.update", actor, unit.code, {"name": name, "active": active, "push_publishes": unit.push_publishes})
    return unit


def check_password(password: str, username: str) -> None:
    if (reason := passwords.problem(password, username)) is not None:
        raise OperationError(reason)


def business_has_account(holder_id: str) -> bool:
    return db.session.scalar(select(User.id).where(User.role == HOLDER, User.holder_id == holder_id, User.active)
                             .limit(1)) is not None


def check_username(username: str, *, member_of: str | None = None) -> str:
    """The username as stored, or why it cannot be: charset, length, and the members' namespace."""
    username = (username or "").strip().lower()
    if not username or len(username) > 64 or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise OperationError("Tên đăng nhập chỉ gồm chữ, số, dấu chấm, gạch dưới, gạch ngang (tối đa 64 ký tự).")
    if MEMBER_NAMESPACE.match(username) and not (member_of and username.startswith(f"{member_of}.")):
        raise OperationError("Tên đăng nhập bắt đầu bằng mã số thuế và dấu chấm dành cho thành viên do doanh nghiệp "
                             "đó thêm; hãy chọn tên khác.")
    return username


def _bind(user: User, role: str, unit_code: str | None, holder_id: str | None) -> None:
    if role not in ROLES:
        raise OperationError(f"Vai trò «{role}» không hợp lệ; chọn một trong: {', '.join(ROLES)}.")
    unit = kind = holder = None
    if role in (STAFF, REVIEWER):
        if not unit_code:
            raise OperationError("Cán bộ số hóa và cán bộ kiểm tra phải thuộc một đơn vị.")
        unit = db.session.scalars(select(Unit).where(Unit.code == normalize_unit_code(unit_code))).first()
        if unit is None:
            raise OperationError(f"Không có đơn vị mã {unit_code}.")
    elif role == HOLDER:
        if not holder_id:
            raise OperationError("Tài khoản công dân, doanh nghiệp phải gắn với số CCCD hoặc mã số thuế.")
        kind, holder = normalize_holder_id(holder_id)
    user.role, user.unit, user.holder_kind, user.holder_id = role, unit, kind, holder


@transactional
def create_user(
    actor: User | None, username: str, role: str, password: str, *,
    full_name: str = "", unit_code: str | None = None, holder_id: str | None = None,
) -> User:
    _require_admin(actor)
    return add_user(actor, username, role, password, full_name=full_name, unit_code=unit_code, holder_id=holder_id)


def add_user(
    actor: User | None, username: str, role: str, password: str | None, *,
    full_name: str = "", unit_code: str | None = None, holder_id: str | None = None, member_of: str | None = None,
) -> User:
    """The account added to the session (the caller commits). The first account of a business
    becomes its manager. `member_of`: a business's tax code, when its manager adds a member.
    `password` None: an account opened through the national identity, which no password opens."""
    username = check_username(username, member_of=member_of)
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username)):
        raise OperationError(f"Tên đăng nhập {username} đã có người dùng.")
    if password is not None:
        check_password(password, username)
    user = User(username=username, full_name=(full_name or "").strip())
    _bind(user, role, unit_code, holder_id)
    user.business_manager = user.holder_kind == ORGANISATION and not business_has_account(user.holder_id)
    if password is None:
        user.password_hash, user.password_login = NO_PASSWORD, False
    else:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    _audit("user.create", actor, username, {"role": role, "unit": unit_code, "holder_id": user.holder_id,
                                            **({"manager": True} if user.business_manager else {})})
    return user


@transactional
def update_user(
    actor: User, user: User, *, role: str, full_name: str, active: bool,
    unit_code: str | None = None, holder_id: str | None = None, new_password: str | None = None,
    business_manager: bool | None = None,
) -> User:
    from .sessions import end_sessions

    _require_admin(actor)
    if user.id == actor.id and (not active or role != actor.role):
        raise OperationError("Không thể tự khóa hoặc đổi vai trò của chính mình.")
    before = (user.role, user.unit_id, user.holder_id, user.active)
    _bind(user, role, unit_code, holder_id)
    user.full_name, user.active = (full_name or "").strip(), active
    if new_password:
        check_password(new_password, user.username)
        user.set_password(new_password)
        user.password_login = True  # an admin handing a password over means it to open the account
    if business_manager is not None:
        user.business_manager = bool(business_manager) and user.holder_kind == ORGANISATION
    if new_password or before != (user.role, user.unit_id, user.holder_id, user.active):
        end_sessions(user, "account.changed")  # what the account may see has changed: log in again
    _audit("user.update", actor, user.username,
            {"role": role, "active": active, "password_reset": bool(new_password)})
    return user


@transactional
def save_procedure(
    actor: User | None, code: str, name: str, field: str, retention_years: int | None,
    procedure: Procedure | None = None,
) -> Procedure:
    """Add a procedure to the catalogue, or correct one (its code stays)."""
    _require_admin(actor)
    name, field = (name or "").strip(), (field or "").strip()
    if not name or not field:
        raise OperationError("Thủ tục cần có tên và lĩnh vực.")
    if retention_years is not None and not 1 <= retention_years <= 200:
        raise OperationError("Thời hạn lưu trữ phải từ 1 đến 200 năm, hoặc để trống nếu lưu vĩnh viễn.")
    if procedure is None:
        code = normalize_procedure_code(code)
        if db.session.scalar(select(Procedure.id).where(Procedure.code == code)):
            raise OperationError(f"Mã thủ tục {code} đã có trong danh mục.")
        procedure = Procedure(code=code)
        db.session.add(procedure)
        action, old_retention = "procedure.create", None
    else:
        action, old_retention = "procedure.update", procedure.retention_years
    procedure.name, procedure.field, procedure.retention_years = name, field, retention_years
    db.session.flush()
    details = {"name": name, "field": field, "retention_years": _retention(retention_years)}
    if action == "procedure.update" and old_retention != retention_years:
        # The retention period decides when a record may be destroyed: its change is kept as old and new.
        details["retention_change"] = {"from": _retention(old_retention), "to": _retention(retention_years)}
    _audit(action, actor, procedure.code, details)
    return procedure


def _retention(years: int | None) -> int | str:
    return PERMANENT if years is None else years


def staff_without_second_factor() -> int:
    """Active staff accounts with no second factor yet (the settings page says how many)."""
    return len(db.session.scalars(select(User.id).where(User.role != HOLDER, User.active,
                                                        User.totp_enabled_at.is_(None))).all())
