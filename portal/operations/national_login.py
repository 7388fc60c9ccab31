"""Who a national-identity login opens: the binding rules, in one place.

Only what the provider asserted in the verified ID token counts (portal/national_identity.py has
checked it): the person's 12-digit number (PORTAL_OIDC_ID_CLAIM), their name, a tax code when they
log in for a business (PORTAL_OIDC_ORG_CLAIM), and the assurance level.

- A person (no tax code) opens the holder account of their number: the one already linked to this
  (issuer, subject), else the department's existing account of that number (linked, not duplicated;
  its password keeps working until the holder turns it off), else a new account with no password.
- A person with a tax code opens their member account of that business: the one linked to
  (issuer, subject, tax code), else a new member `<tax code>.<name>`; the business's first account
  becomes its manager. A member a manager removed stays removed.
- Staff, reviewers and admins never: nothing here ever opens an account that is not a holder's, even
  if a link pointed at one. A closed account is not replaced by a new one.

A refusal changes nothing (the transaction rolls back) and is recorded as "login.national_refused".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select

from .. import audit
from ..access import current_login
from ..extensions import db
from ..identifiers import ORGANISATION, PERSON, InvalidInput, normalize_cccd, normalize_mst
from ..models import NationalIdentity, User, UserSession
from ..models.sessions import NATIONAL_METHOD
from ..models.users import HOLDER
from ..national_identity import Asserted, LoginRefused
from ..timeutil import utcnow
from . import OperationError, transactional
from .accounts import add_user, check_password

CONTACT = "Cần hỗ trợ, xin liên hệ Sở."


@dataclass(frozen=True)
class Person:
    """The verified claims, read by the configured names and checked."""

    subject: str
    number: str
    name: str
    tax_code: str  # "" for the person's own account
    level: int | None


def _config(name: str) -> str:
    from flask import current_app

    return current_app.config[name]


def read_claims(claims: dict) -> Person:
    """The person the token asserts, or LoginRefused: a missing or malformed number, a tax code
    with a wrong check digit. Nothing is guessed or repaired."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 0 < len(subject) <= 255:
        raise LoginRefused("missing_subject", "Thông tin định danh nhận được thiếu mã người dùng. " + CONTACT)
    number = claims.get(_config("OIDC_ID_CLAIM"))
    if not isinstance(number, str) or not number.strip():
        raise LoginRefused("missing_id", "Thông tin định danh nhận được không có số định danh cá nhân nên không "
                                         "đăng nhập được. Hãy thử lại, hoặc đăng nhập bằng tài khoản và mật khẩu.")
    try:
        number = normalize_cccd(number)
    except InvalidInput as err:
        raise LoginRefused("malformed_id", "Số định danh cá nhân nhận được từ Cổng Dịch vụ công quốc gia không hợp "
                                           f"lệ: {err} Không có tài khoản nào được mở. " + CONTACT) from None
    tax_code = claims.get(_config("OIDC_ORG_CLAIM"))
    if tax_code is not None and not isinstance(tax_code, str):
        raise LoginRefused("malformed_tax_code", "Mã số thuế nhận được không hợp lệ. " + CONTACT)
    if tax_code and tax_code.strip():
        try:
            tax_code = normalize_mst(tax_code)
        except InvalidInput as err:
            raise LoginRefused("malformed_tax_code", "Mã số thuế của doanh nghiệp nhận được từ Cổng Dịch vụ công quốc "
                                                     f"gia không hợp lệ: {err} Không có tài khoản nào được mở. "
                               + CONTACT) from None
    else:
        tax_code = ""
    name = claims.get(_config("OIDC_NAME_CLAIM"))
    name = " ".join(name.split())[:255] if isinstance(name, str) else ""
    return Person(subject=subject, number=number, name=name, tax_code=tax_code,
                  level=_level(claims.get(_config("OIDC_LEVEL_CLAIM"))))


def _level(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _slug(name: str) -> str:
    """ASCII letters, digits and dashes from a Vietnamese name: "Phạm Minh Khánh" -> "pham-minh-khanh"."""
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_only = folded.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")


def _free_username(base: str) -> str:
    """`base`, or `base-2`, `base-3`... whichever nobody has: a username chosen by someone else
    (a claim code's holder picks theirs) never blocks a login."""
    base = base[:60]
    candidate, n = base, 1
    while db.session.scalar(select(User.id).where(func.lower(User.username) == candidate)):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _refuse_unless_holder_of(user: User, holder_id: str, kind: str) -> None:
    """The account a link or a number leads to must be a holder's, of this identifier."""
    if user.role != HOLDER:
        raise LoginRefused("staff_account", "Tài khoản cán bộ của Sở chỉ đăng nhập bằng tên đăng nhập, mật khẩu (và "
                                            "xác thực hai bước), không đăng nhập bằng VNeID.", 403)
    if user.holder_id != holder_id or user.holder_kind != kind:
        raise LoginRefused("link_mismatch", "Tài khoản gắn với định danh này không còn khớp với số định danh Cổng Dịch "
                                            "vụ công quốc gia xác nhận nên không được mở. " + CONTACT, 403)
    if not user.active:
        if kind == ORGANISATION:
            raise LoginRefused("member_removed", "Bạn không còn là thành viên của doanh nghiệp này trên Cổng "
                                                 "(người quản lý đã gỡ). Hãy nhờ người quản lý của doanh nghiệp "
                                                 "thêm lại.", 403)
        raise LoginRefused("account_closed", "Tài khoản của bạn trên Cổng đang bị khóa. " + CONTACT, 403)


def _link_of(issuer: str, person: Person) -> NationalIdentity | None:
    link = db.session.scalars(select(NationalIdentity).where(
        NationalIdentity.issuer == issuer, NationalIdentity.subject == person.subject,
        NationalIdentity.tax_code == person.tax_code)).first()
    if link is not None and link.person_number != person.number:
        raise LoginRefused("link_mismatch", "Số định danh Cổng Dịch vụ công quốc gia xác nhận khác với số đã gắn với "
                                            "tài khoản này nên tài khoản không được mở. " + CONTACT, 403)
    return link


def _citizen_account(person: Person) -> tuple[User, bool]:
    """The holder account of the person's number: the department's (oldest open) one, or a new one."""
    accounts = db.session.scalars(select(User).where(User.role == HOLDER, User.holder_id == person.number)
                                  .order_by(User.id)).all()
    for account in accounts:
        if account.active and account.holder_kind == PERSON:
            return account, False
    if accounts:  # only closed ones: the department closed it for a reason, a new one would undo that
        _refuse_unless_holder_of(accounts[0], person.number, PERSON)
    user = add_user(None, _free_username(f"vneid-{person.number}"), HOLDER, None, full_name=person.name,
                    holder_id=person.number)
    return user, True


def _member_account(person: Person) -> tuple[User, bool]:
    """A new member account of the business for this person (the first of a business manages it)."""
    short = _slug(person.name)[:40] or "thanh-vien"
    username = _free_username(f"{person.tax_code}.{short}")
    user = add_user(None, username, HOLDER, None, full_name=person.name, holder_id=person.tax_code,
                    member_of=person.tax_code)
    return user, True


@transactional
def log_in(asserted: Asserted) -> tuple[User, Person]:
    """The account this verified identity opens (linked, or made, here), or LoginRefused."""
    person = read_claims(asserted.claims)
    kind, holder_id = (ORGANISATION, person.tax_code) if person.tax_code else (PERSON, person.number)
    link = _link_of(asserted.issuer, person)
    created = False
    if link is not None:
        user = link.user
    elif kind == PERSON:
        user, created = _citizen_account(person)
    else:
        user, created = _member_account(person)
    _refuse_unless_holder_of(user, holder_id, kind)
    if link is None:
        link = NationalIdentity(issuer=asserted.issuer, subject=person.subject, person_number=person.number,
                                tax_code=person.tax_code, user_id=user.id)
        db.session.add(link)
        audit.record("national.link", actor=user, target=user.username,
                     details={"tax_code": person.tax_code or None, "created": created,
                              "manager": user.business_manager or None})
    link.last_login_at = utcnow()
    if person.name and not user.full_name:
        user.full_name = person.name
    return user, person


@transactional
def record_refusal(err: LoginRefused) -> None:
    """The audit trail's line for a login that did not happen."""
    details = {"reason": err.reason}
    if err.detail:
        details["detail"] = err.detail
    audit.record("login.national_refused", actor=None, target="", details=details)


def is_linked(user: User) -> bool:
    return db.session.scalar(select(NationalIdentity.id).where(NationalIdentity.user_id == user.id).limit(1)) \
        is not None


@transactional
def turn_password_off(user: User) -> None:
    """The holder's password no longer opens the account (only the national identity does); the
    sessions it opened end. Only for an account linked to the national identity: anyone else would
    lock themself out."""
    if not is_linked(user):
        raise OperationError("Chỉ tắt được đăng nhập bằng mật khẩu khi tài khoản đã gắn với VNeID "
                             "(đăng nhập bằng VNeID ít nhất một lần).")
    if not user.password_login:
        return
    user.password_login = False
    others = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                          UserSession.ended_at.is_(None),
                                                          UserSession.method != NATIONAL_METHOD)).all()
    for record in others:
        record.ended_at, record.end_reason, record.id_token = utcnow(), "password.off", None
    audit.record("password.off", actor=user, target=user.username)


@transactional
def turn_password_on(user: User, new: str, confirm: str) -> None:
    """A new password, which opens the account again: only from a session the national identity
    opened (the old password is never revived)."""
    login = current_login()
    if login is None or login.method != NATIONAL_METHOD:
        raise OperationError("Hãy đăng nhập bằng VNeID để đặt lại mật khẩu.")
    if new != confirm:
        raise OperationError("Hai lần nhập mật khẩu mới không khớp.")
    check_password(new, user.username)
    user.set_password(new)
    user.password_login = True
    audit.record("password.on", actor=user, target=user.username)
