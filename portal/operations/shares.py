"""Share links to a certified copy (issue 17): made and revoked by its holder, opened by anyone
who has the link until it expires or is revoked. Every opening is recorded, refused or not."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import NamedTuple

from flask import current_app, has_request_context, request
from sqlalchemy import select

from .. import audit
from ..access import require
from ..extensions import db
from ..models import CertifiedCopy, CopyShare, ShareUse, User
from ..models.shares import (
    ACTIVE,
    DOWNLOADED,
    REFUSED_EXPIRED,
    REFUSED_FILE,
    REFUSED_RESULT,
    REFUSED_REVOKED,
    REVOKED,
)
from ..storage import storage
from ..timeutil import utcnow
from . import OperationError, transactional
from .copies import why_no_copy

MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 1, 30, 3
RECIPIENT_MAX = 200
# The refusals, worded once for the page's form, the API's schema and this module.
RECIPIENT_MISSING = "Cần ghi người nhận (ví dụ tên ngân hàng hoặc cơ quan)."
RECIPIENT_TOO_LONG = f"Người nhận không được dài quá {RECIPIENT_MAX} ký tự."
DAYS_MESSAGE = f"Số ngày phải là số nguyên từ {MIN_DAYS} đến {MAX_DAYS}."
# secrets.token_urlsafe(16): 128 random bits in 22 characters of [A-Za-z0-9_-].
TOKEN_BYTES = 16
LINK_PATH = "/share/"  # views/shares.py serves it; a link is made outside a request too


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def clean_recipient(raw) -> str:
    """Whom the link is for, as the holder wrote it: trimmed, one line; refused when empty or long."""
    text = " ".join(str(raw or "").split())
    if not text:
        raise OperationError(RECIPIENT_MISSING)
    if len(text) > RECIPIENT_MAX:
        raise OperationError(RECIPIENT_TOO_LONG)
    return text


def check_days(days) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise OperationError(DAYS_MESSAGE)
    return days


def share_url(token: str) -> str:
    """The link as it is handed out: on the configured address, never the request's Host header
    (a forged Host must not make the holder send a bank elsewhere)."""
    return f"{current_app.config['BASE_URL']}{LINK_PATH}{token}"


class NewShare(NamedTuple):
    share: CopyShare
    url: str  # holds the token: shown once, never stored


@transactional
def create(actor: User, copy: CertifiedCopy, recipient, days) -> NewShare:
    """A link to `copy` for `recipient`, open `days` days from now."""
    require(actor, "share", copy.result)
    recipient, days = clean_recipient(recipient), check_days(days)
    if (reason := why_no_copy(copy.result)) is not None:
        raise OperationError(f"Không chia sẻ được bản sao này. {reason}")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    share = CopyShare(copy=copy, created_by_id=actor.id, recipient=recipient, token_sha256=token_hash(token),
                      created_at=now, expires_at=now + timedelta(days=days))
    db.session.add(share)
    db.session.flush()
    audit.record("share.create", actor=actor, result=copy.result,
                 details={"share": share.id, "register_number": copy.register_number, "days": days})
    return NewShare(share, share_url(token))


@transactional
def revoke(actor: User, share: CopyShare) -> bool:
    """Closes the link at once; False if it was closed already. Revoking only takes away, so any
    holder of the copy may do it whatever their session's level (`share` was checked by the caller's
    access.get_holder_share_or_404)."""
    if share.revoked_at is not None:
        return False
    share.revoked_at, share.revoked_by_id = utcnow(), actor.id
    audit.record("share.revoke", actor=actor, result=share.copy.result,
                 details={"share": share.id, "register_number": share.copy.register_number})
    return True


def _plausible(token) -> bool:
    return isinstance(token, str) and 16 <= len(token) <= 64 and token.isascii() and \
        token.replace("-", "").replace("_", "").isalnum()


def find(token) -> CopyShare | None:
    if not _plausible(token):
        return None
    return db.session.scalars(select(CopyShare).where(CopyShare.token_sha256 == token_hash(token))).first()


def outcome_of(share: CopyShare) -> str:
    status = share.status()
    if status == REVOKED:
        return REFUSED_REVOKED
    if status != ACTIVE:
        return REFUSED_EXPIRED
    if why_no_copy(share.copy.result) is not None:
        return REFUSED_RESULT
    # Checked before it is recorded: the holder must not read "downloaded" for a file never sent.
    if storage().state_of(share.copy.sha256) is not None:
        return REFUSED_FILE
    return DOWNLOADED


@transactional
def use(token) -> ShareUse | None:
    """Someone opened a link: what they get (the outcome) is recorded with the time and their
    address, in the share's uses and in the holder's access log; None for a token that is no
    share's (nothing to record it against). The audit trail names the share, never the token."""
    share = find(token)
    if share is None:
        return None
    address = (request.remote_addr or "")[:64] if has_request_context() else ""
    used = ShareUse(share=share, at=utcnow(), address=address, outcome=outcome_of(share))
    db.session.add(used)
    audit.record("share.use", result=share.copy.result,
                 details={"share": share.id, "register_number": share.copy.register_number,
                          "outcome": used.outcome})
    return used
