"""Who may see and do what: the one place that decides it.

Every list, search, page and download of results starts from `visible_results(user)`;
every state change asks `require(user, action, result)`.
"""

from __future__ import annotations

from typing import NamedTuple

from flask import current_app, g, has_request_context
from sqlalchemy import Select, false, select

from .errors import UserError
from .extensions import db
from .identifiers import ORGANISATION, verification_code
from .models import (
    CertifiedCopy,
    CopyShare,
    CorrectionRequest,
    DataExport,
    HandoverSlip,
    HeldUpload,
    ImportBatch,
    OutboxMessage,
    Result,
    Unit,
    User,
)
from .models.results import DRAFT, HOLDER_VISIBLE_STATUSES, PUBLISHED, RETURNED
from .models.sessions import NATIONAL_METHOD
from .models.users import ADMIN, HOLDER, REVIEWER, STAFF
from .timeutil import utcnow


class PermissionDenied(UserError):
    """The user may not do this; str(err) says why in Vietnamese."""


class NotVisible(Exception):
    """What the user asked for is not there for them; the web layer answers 404, exactly as for a
    missing thing (another unit's result looks like none at all)."""


class AssuranceTooLow(PermissionDenied):
    """The session was opened through the national identity at a level below what this needs."""


class SessionLogin(NamedTuple):
    """How the current request's session was opened (portal/operations/sessions.py sets it)."""

    method: str
    assurance_level: int | None


def current_login() -> SessionLogin | None:
    """This request's session; None outside a request (the command line, an operation run by the
    portal itself), where no assurance rule applies."""
    return g.get("portal_login") if has_request_context() else None


# What a session opened through the national identity may do only at the configured level: a
# certified copy stands in for the original, and a share link hands one to someone else.
ASSURED_ACTIONS = ("copy", "share")
ASSURED_WORDS = {"copy": "Cấp bản sao điện tử từ sổ gốc", "share": "Chia sẻ bản sao điện tử bằng đường dẫn"}


def why_not_assured(login: SessionLogin | None, action: str) -> str | None:
    """None when `login` is strong enough for `action`, otherwise why and how to raise it. Sessions
    opened with a password (or a claim code) are the department's own accounts and keep what they
    could do before; the level applies to those the national identity opened."""
    if action not in ASSURED_ACTIONS or login is None or login.method != NATIONAL_METHOD:
        return None
    needed = current_app.config["OIDC_COPY_LEVEL"]
    level = login.assurance_level
    if level is not None and level >= needed:
        return None
    asserted = f"mức độ {level}" if level is not None else "không rõ mức độ"
    return (f"{ASSURED_WORDS[action]} cần tài khoản định danh điện tử VNeID mức độ {needed}; "
            f"phiên đăng nhập này được Cổng Dịch vụ công quốc gia xác nhận ở {asserted}. "
            f"Hãy nâng tài khoản VNeID lên mức độ {needed} (đăng ký bằng thẻ căn cước gắn chip trên ứng dụng "
            "VNeID, hoặc tại cơ quan công an nơi cư trú), rồi đăng xuất và đăng nhập lại bằng VNeID.")


def _active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


class Scope(NamedTuple):
    """Which results a user may see, said without any engine: everything, the results of some
    units, or one holder's in some states (none of these: nothing). The database (`results_in`) and
    each search backend (portal/search/restriction.py) turn it into their own query."""

    everything: bool = False
    unit_ids: frozenset[int] = frozenset()
    holder_id: str | None = None
    statuses: frozenset[str] = frozenset()  # a holder's: never a draft


NOTHING = Scope()


def scope_of(user) -> Scope:
    """The results `user` may see at all."""
    if not _active(user):
        return NOTHING
    if user.role == ADMIN:
        return Scope(everything=True)
    if user.role in (STAFF, REVIEWER):
        return Scope(unit_ids=frozenset({user.unit_id}))
    # A holder sees only results issued to them, and never a draft.
    return Scope(holder_id=user.holder_id, statuses=frozenset(HOLDER_VISIBLE_STATUSES))


def results_in(scope: Scope) -> Select:
    query = select(Result)
    if scope.everything:
        return query
    if scope.unit_ids:
        return query.where(Result.unit_id.in_(sorted(scope.unit_ids)))
    if scope.holder_id is not None:
        return query.where(Result.holder_id == scope.holder_id, Result.status.in_(sorted(scope.statuses)))
    return query.where(false())


def visible_results(user) -> Select:
    """The results `user` may see at all, as a query of the database."""
    return results_in(scope_of(user))


def visible_outbox_messages(user) -> Select:
    """The messages to the national data store about results `user` may see (staff: their unit's)."""
    if not _active(user) or not user.is_staff:
        return select(OutboxMessage).where(false())
    mine = visible_results(user).with_only_columns(Result.id).scalar_subquery()
    return select(OutboxMessage).where(OutboxMessage.result_id.in_(mine))


def may_retry_sync(user) -> bool:
    """Sending a message to the national data store again before its backoff time is an admin's."""
    return can(user, "manage")


def get_retryable_message_or_404(user, message_id: int) -> OutboxMessage:
    """A message an admin may send again now; for anyone else it does not exist."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or not may_retry_sync(user):
        raise NotVisible
    return message


def get_sent_result_or_404(code: str | None) -> Result:
    """A result the national data store may fetch through the signed link its message carried
    (the signature checked by the caller): one that has been published, never a draft."""
    result = db.session.scalars(select(Result).where(Result.code == code)).first() if code else None
    if result is None or result.status not in HOLDER_VISIBLE_STATUSES:
        raise NotVisible
    return result


def get_holder_result_or_404(user, code: str) -> Result:
    """A holder's own result by its code, or 404 whatever code is put in the URL."""
    if not _active(user) or user.role != HOLDER:
        raise NotVisible
    result = db.session.scalars(visible_results(user).where(Result.code == code)).first()
    if result is None:
        raise NotVisible
    return result


def visible_copies(user) -> Select:
    """The certified copies `user` may see: a holder's own (any member's, for a business), the
    copies of a unit's results for its staff, all for an admin."""
    query = select(CertifiedCopy)
    if not _active(user):
        return query.where(false())
    if user.role == ADMIN:
        return query
    if user.role in (STAFF, REVIEWER):
        return query.join(CertifiedCopy.result).where(Result.unit_id == user.unit_id)
    return query.where(CertifiedCopy.holder_id == user.holder_id)


def visible_units(user) -> Select:
    """The units whose figures (plan, reports) `user` sees: their own, or all for an admin."""
    query = select(Unit).where(Unit.active).order_by(Unit.code)
    if not _active(user) or user.role not in (ADMIN, STAFF, REVIEWER):
        return query.where(false())
    return query if user.role == ADMIN else query.where(Unit.id == user.unit_id)


def visible_batches(user) -> Select:
    """Import batches: a unit's for its staff (and their own), every one for an admin."""
    query = select(ImportBatch)
    if not _active(user) or user.role not in (ADMIN, STAFF, REVIEWER):
        return query.where(false())
    if user.role == ADMIN:
        return query
    return query.where((ImportBatch.unit_id == user.unit_id) | (ImportBatch.created_by_id == user.id))


def sees_all_background_work(user) -> bool:
    """The background queues (OCR, the national sync, the index queue) are an admin's to watch;
    staff see their unit's import jobs only (visible_batches)."""
    return can(user, "manage")


def get_batch_or_404(user, batch_id: int) -> ImportBatch:
    batch = db.session.scalars(visible_batches(user).where(ImportBatch.id == batch_id)).first()
    if batch is None:
        raise NotVisible
    return batch


def get_holder_copy_or_404(user, code: str) -> CertifiedCopy:
    """The holder's own copy by its verification code (as printed, with dashes, in any case), or 404."""
    code = verification_code(code)
    if code is None or not _active(user) or user.role != HOLDER:
        raise NotVisible
    copy = db.session.scalars(visible_copies(user).where(CertifiedCopy.verification_code == code)).first()
    if copy is None:
        raise NotVisible
    return copy


def visible_shares(user) -> Select:
    """The share links of the copies `user` holds (a business's members share them all); nobody
    else sees a holder's shares, staff included."""
    query = select(CopyShare).join(CopyShare.copy)
    if not has_own_store(user):
        return query.where(false())
    return query.where(CertifiedCopy.holder_id == user.holder_id)


def get_holder_share_or_404(user, share_id: int) -> CopyShare:
    """A share of the user's own copies by its id, or 404 whatever id is put in the URL."""
    share = db.session.scalars(visible_shares(user).where(CopyShare.id == share_id)).first()
    if share is None:
        raise NotVisible
    return share


def get_data_export_or_404(user, export_id: int) -> DataExport:
    """A built export of the caller's own data, still within its download time, for the account
    that asked for it only (it holds that account's details: not a colleague's to read)."""
    from .models.data_exports import DONE

    job = db.session.get(DataExport, export_id)
    if (job is None or not has_own_store(user) or job.user_id != user.id or job.status != DONE
            or job.sha256 is None or job.expires_at is None or job.expires_at <= utcnow()):
        raise NotVisible
    return job


def is_business_account(user) -> bool:
    """An account of a business (organisation holder): it has members, some of them managers."""
    return _active(user) and user.role == HOLDER and user.holder_kind == ORGANISATION


def has_own_store(user) -> bool:
    """A citizen's or a business's account: the holder's pages and API are for them only (for
    anyone else they do not exist)."""
    return _active(user) and user.role == HOLDER


def works_for_department(user) -> bool:
    """Staff of any kind: the department's pages are for them only."""
    return _active(user) and user.role in (ADMIN, STAFF, REVIEWER)


def sees_every_unit(user) -> bool:
    """Chooses among all units (filters, a unit for a new result); staff keep to their own."""
    return scope_of(user).everything


def is_reviewer(user) -> bool:
    """Publishes, returns and revokes results of a unit (four eyes: never one's own)."""
    return _active(user) and user.role in (REVIEWER, ADMIN)


def get_fellow_member_or_404(user, user_id: int) -> User:
    """An active account of the same business as `user` (a citizen has none), or 404."""
    member = db.session.get(User, user_id)
    if (not is_business_account(user) or member is None or not member.active
            or member.role != HOLDER or member.holder_id != user.holder_id):
        raise NotVisible
    return member


def get_slip_or_404(user, slip_id: int) -> HandoverSlip:
    """A batch's hand-over slips (claim codes in clear) for the reviewer who published it, and no
    one else: not their colleagues, not an admin (a lost slip is replaced by issuing a new code
    from the result's page, which voids the old one). Anyone else gets a 404."""
    slip = db.session.get(HandoverSlip, slip_id)
    if slip is None or not is_reviewer(user) or slip.created_by_id != user.id:
        raise NotVisible
    return slip


def why_not_remove_member(user, member: User) -> str | None:
    """None when `user` may remove `member` from their business: a manager, another account of the
    same business, never their own (a manager leaves when another manager removes them)."""
    if why := why_not(user, "manage_members"):
        return why
    if member.id == user.id:
        return "Bạn không tự gỡ mình khỏi doanh nghiệp được; hãy nhờ một người quản lý khác."
    return why_not_fellow(user, member)


def why_not_fellow(user, member: User) -> str | None:
    """None when `member` is an active account of the same business as `user`."""
    if member.role != HOLDER or member.holder_id != user.holder_id or not member.active:
        return "Tài khoản này không thuộc doanh nghiệp của bạn."
    return None


def get_result_or_404(user, result_id: int) -> Result:
    """A result the user may see, or 404: another unit's result looks exactly like a missing one."""
    result = db.session.scalars(visible_results(user).where(Result.id == result_id)).first()
    if result is None:
        raise NotVisible
    return result


def _in_unit(user: User, unit_id: int | None) -> bool:
    return user.role == ADMIN or (user.role in (STAFF, REVIEWER) and user.unit_id == unit_id)


def why_not(user, action: str, result: Result | None = None, unit: Unit | None = None) -> str | None:
    """None when `user` may do `action`, otherwise the reason in Vietnamese."""
    if not _active(user):
        return "Bạn cần đăng nhập."
    if action == "upload":
        if not user.is_staff or not _in_unit(user, unit.id if unit else user.unit_id):
            return "Bạn chỉ được số hóa kết quả của đơn vị mình."
        return None
    if action == "manage":  # units, users, procedures, audit log, settings
        return None if user.role == ADMIN else "Chỉ quản trị hệ thống được làm việc này."
    if action == "manage_members":  # a business's accounts
        if not is_business_account(user) or not user.business_manager:
            return "Chỉ người quản lý của doanh nghiệp mới thêm, gỡ thành viên."
        return None
    if action == "request_correction":  # who may send the request's attachment (views/gate.py); of which
        return None if user.role == HOLDER else ONLY_HOLDER_CORRECTS  # result: why_not_request_correction
    assert result is not None
    if action == "copy":  # an electronic copy from the register goes to the holder (Decree 45/2020 Art. 10)
        if user.role != HOLDER or result.holder_id != user.holder_id or result.status not in HOLDER_VISIBLE_STATUSES:
            return "Chỉ người được cấp kết quả mới xin được bản sao điện tử của kết quả đó."
        return why_not_assured(current_login(), action)
    if action == "share":  # a link that lets someone without an account download the holder's copy
        if user.role != HOLDER or result.holder_id != user.holder_id or result.status not in HOLDER_VISIBLE_STATUSES:
            return "Chỉ người được cấp kết quả mới chia sẻ được bản sao của kết quả đó."
        return why_not_assured(current_login(), action)
    if not _in_unit(user, result.unit_id):
        return "Kết quả này không thuộc đơn vị của bạn."
    if action == "edit":
        if result.status not in (DRAFT, RETURNED):
            return "Chỉ sửa được kết quả chưa phát hành."
        return None
    if action == "claim_code":  # opens the holder's whole store: four eyes, as publishing
        if not is_reviewer(user):
            return "Chỉ cán bộ kiểm tra được cấp mã nhận tài khoản."
        if result.digitized_by_id == user.id:
            return "Người số hóa kết quả không được cấp mã nhận tài khoản cho kết quả đó."
        if result.status != PUBLISHED:
            return "Chỉ cấp mã nhận tài khoản cho kết quả đang có hiệu lực."
        return None
    if action == "review":
        if user.role not in (REVIEWER, ADMIN):
            return "Chỉ cán bộ kiểm tra được phát hành hoặc trả lại kết quả."
        if result.status != DRAFT:
            return "Kết quả này không ở trạng thái chờ kiểm tra."
        if result.digitized_by_id == user.id:
            return "Người số hóa không được tự kiểm tra kết quả của mình."
        return None
    if action == "revoke":
        if user.role not in (REVIEWER, ADMIN):
            return "Chỉ cán bộ kiểm tra được thu hồi kết quả."
        if result.status != PUBLISHED:
            return "Chỉ thu hồi được kết quả đang có hiệu lực."
        return None
    if action == "replace":
        if result.status != PUBLISHED:
            return "Chỉ thay thế được kết quả đang có hiệu lực."
        return None
    if action == "view":
        return None
    raise ValueError(f"unknown action {action}")


def why_not_client(client, action: str, result: Result) -> str | None:
    """None when a machine client (a unit's one-stop-shop system) may do `action` ("push",
    "revoke", "replace") to `result`, otherwise why: only its own unit's results, and a
    revocation or replacement under the rules staff follow."""
    if client is None or not client.active:
        return "Ứng dụng kết nối không hợp lệ hoặc đã bị thu hồi."
    if result.unit_id != client.unit_id:
        return "Kết quả này không thuộc đơn vị của ứng dụng kết nối."
    if action == "revoke" and result.status != PUBLISHED:
        return "Chỉ thu hồi được kết quả đang có hiệu lực."
    if action == "replace" and result.status != PUBLISHED:
        return "Chỉ thay thế được kết quả đang có hiệu lực."
    return None


def can(user, action: str, result: Result | None = None, unit: Unit | None = None) -> bool:
    return why_not(user, action, result, unit) is None


def require(user, action: str, result: Result | None = None, unit: Unit | None = None) -> None:
    reason = why_not(user, action, result, unit)
    if reason is not None:
        weak = reason == why_not_assured(current_login(), action)
        raise (AssuranceTooLow if weak else PermissionDenied)(reason)


class HeldUploadRefused(UserError):
    """A held scan that is not there for this user; str(err) says what to do, in Vietnamese."""


HELD_NOT_FOUND = ("Không tìm thấy tệp đã giữ: tệp đã quá 24 giờ, đã được dùng, hoặc mã giữ tệp không hợp lệ. "
                  "Hãy chọn lại tệp bản quét.")


def get_held_upload(user, token) -> HeldUpload:
    """A scan held for `user` themself and not yet expired (portal/operations/held.py). Someone
    else's token, an expired one and a made-up one are refused alike: nobody learns that a token
    exists, and nobody but its uploader sees or uses the file."""
    if not (_active(user) and user.is_staff and isinstance(token, str) and 20 <= len(token) <= 64
            and token.isascii() and token.replace("-", "").replace("_", "").isalnum()):
        raise HeldUploadRefused(HELD_NOT_FOUND)
    held = db.session.scalars(select(HeldUpload).where(
        HeldUpload.token == token, HeldUpload.user_id == user.id, HeldUpload.expires_at > utcnow())).first()
    if held is None:
        raise HeldUploadRefused(HELD_NOT_FOUND)
    return held


# --- requests to correct (issue 18; portal/operations/corrections.py) ----------------------------------

def visible_corrections(user) -> Select:
    """Requests to correct: a holder's own (their business's, for a member), a unit's for its staff,
    every one for an admin; nobody else's."""
    query = select(CorrectionRequest)
    if not _active(user):
        return query.where(false())
    if user.role == ADMIN:
        return query
    if user.role in (STAFF, REVIEWER):
        return query.where(CorrectionRequest.unit_id == user.unit_id)
    return query.where(CorrectionRequest.holder_id == user.holder_id)


def get_correction_or_404(user, correction_id: int):
    """A request `user` may see, or 404: another unit's looks exactly like a missing one."""
    found = db.session.scalars(visible_corrections(user).where(CorrectionRequest.id == correction_id)).first()
    if found is None:
        raise NotVisible
    return found


ONLY_HOLDER_CORRECTS = "Chỉ người được cấp kết quả mới yêu cầu sửa thông tin của kết quả đó."


def why_not_request_correction(user, result: Result) -> str | None:
    """A holder asks for their own result's correction, while it is in force (a revoked or replaced
    result is not corrected by replacing it)."""
    if not _active(user) or user.role != HOLDER or result.holder_id != user.holder_id:
        return ONLY_HOLDER_CORRECTS
    if result.status != PUBLISHED:
        return "Chỉ yêu cầu sửa được kết quả đang có hiệu lực."
    return None


def why_not_answer_correction(user, correction) -> str | None:
    """A reviewer of the issuing unit (or an admin) acknowledges and answers; its other staff only see."""
    if not is_reviewer(user) or not _in_unit(user, correction.unit_id):
        return "Chỉ cán bộ kiểm tra của đơn vị cấp kết quả được xử lý yêu cầu sửa thông tin."
    return None
