"""The holding area: a scan that passed every check is kept for the person who uploaded it, under
an opaque token, while they correct the form around it; the next submit without a file uses it.

Files go to a content-addressed store area of their own (storage.storage(HELD): `held/` in the
data directory or the bucket), apart from the results' store: a held scan is nobody's result, is
not backed up nor checked for fixity, and goes when its entry goes (used, or HOLD_HOURS old:
purged at each new hold and by `flask purge-expired`). The token is looked up in the table (access.get_held_upload),
never made into a path; only SHA-256 values the portal computed reach the file system.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from ..access import HeldUploadRefused, require
from ..extensions import db
from ..models import HeldUpload, StoredFile, User
from ..scans import PDF, PreparedScan, Spooled
from ..storage import HELD, FileDamaged, Spool, Storage, previews, storage
from ..timeutil import utcnow
from . import transactional

HOLD_HOURS = 24


def held_store() -> Storage:
    """The holding store; it spools through the results' store's temporary folder (locally, the
    same file system: keeping a file is a rename)."""
    return storage(HELD)


def hold(actor: User, scan: PreparedScan) -> HeldUpload:
    """Keep a checked scan for `actor`; the scan's spooled files are moved into the holding store."""
    try:
        purge_expired()
        return _hold(actor, scan)
    except BaseException:
        scan.discard()
        raise


@transactional
def _hold(actor: User, scan: PreparedScan) -> HeldUpload:
    require(actor, "upload")
    store = held_store()
    for spooled in (scan.document, scan.source):
        if spooled is not None:
            store.keep(spooled.path, spooled.sha256, synced=spooled.synced)
    uploaded = scan.source or scan.document
    row = HeldUpload(
        token=secrets.token_urlsafe(32), user_id=actor.id, expires_at=utcnow() + timedelta(hours=HOLD_HOURS),
        original_name=scan.original_name[:255], size=uploaded.size, page_count=scan.page_count,
        text=scan.text, document_sha256=scan.document.sha256,
        source_sha256=scan.source.sha256 if scan.source else None,
        source_media_type=scan.source.media_type if scan.source else None,
    )
    db.session.add(row)
    return row


def scan_of(held: HeldUpload) -> PreparedScan:
    """The held scan as a freshly prepared one: copies of its files, checked against their hash,
    spooled for the results' store (which the draft keeps, or discards on refusal)."""
    store, results_store = held_store(), storage()
    copies: list[Spooled] = []
    try:
        for sha256, media_type in ((held.document_sha256, PDF), (held.source_sha256, held.source_media_type)):
            if sha256 is None:
                copies.append(None)
                continue
            try:
                with store.open_verified(sha256) as fh:
                    path, digest, size = results_store.spool(fh)
            except FileDamaged:
                raise HeldUploadRefused(GONE) from None
            copies.append(Spooled(path, digest, size, media_type or ""))
    except BaseException:
        for spooled in copies:
            if spooled is not None:
                Spool.discard(spooled.path)
        raise
    return PreparedScan(copies[0], copies[1], held.page_count, held.text, held.original_name)


GONE = "Tệp đã giữ không còn trên máy chủ; hãy chọn lại tệp bản quét."


def release(held: HeldUpload) -> None:
    """The held scan was used (or given up): its entry and, when no other entry holds the same
    content, its files go."""
    _forget([held.id])


def purge_expired() -> int:
    """Forget every entry past its time; the number forgotten."""
    ids = list(db.session.scalars(select(HeldUpload.id).where(HeldUpload.expires_at <= utcnow())))
    return _forget(ids) if ids else 0


def _forget(ids: list[int]) -> int:
    hashes = _delete_rows(ids)
    if not hashes:
        return len(ids)
    still_held = set(db.session.scalars(select(HeldUpload.document_sha256).where(
        HeldUpload.document_sha256.in_(hashes)))) | set(db.session.scalars(select(HeldUpload.source_sha256).where(
            HeldUpload.source_sha256.in_(hashes))))
    stored = set(db.session.scalars(select(StoredFile.sha256).where(StoredFile.sha256.in_(hashes))))
    for sha256 in hashes - still_held:
        held_store().remove(sha256)
        if sha256 not in stored:  # its page images were drawn only for the holding area
            previews().remove_all_of(sha256)
    return len(ids)


@transactional
def _delete_rows(ids: list[int]) -> set[str]:
    rows = db.session.execute(select(HeldUpload.document_sha256, HeldUpload.source_sha256)
                              .where(HeldUpload.id.in_(ids))).all()
    db.session.execute(delete(HeldUpload).where(HeldUpload.id.in_(ids)))
    return {sha for row in rows for sha in row if sha}
