"""A holder's own data ("Dữ liệu của tôi", Personal Data Protection Law 91/2025 Art. on access and copy):
one ZIP of everything the portal holds about the caller, with `index.json` (machine-readable, documented
in the README) and `index.html` (a summary to read) at its root.

What goes in comes only from the access rules (access.visible_results / visible_copies / visible_shares,
audit.events_about): a business member gets the business's results and copies, never a colleague's
account. Each part of the export is one entry of `SECTIONS`: another part (correction requests, say) is
added there as one more function, and shows in both the index and the summary.

The ZIP is written to a temporary file as it is built, each stored file streamed from the store after its
hash is checked: nothing is held whole in memory. It is built while the caller waits up to
`MYDATA_MAX_RESULTS` results and `MYDATA_MAX_MB` of files (config); a larger store (`too_large`) is
built in the background on the holder's request (a `DataExport` row, claimed with a lease by the job
loop, portal/jobs.py), kept in the store's JOBS area and downloadable by its requester for
KEEP_HOURS, then removed (`remove_expired_exports`)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from flask import current_app, render_template
from sqlalchemy import func, select, update

from .. import audit
from ..access import is_business_account, visible_copies, visible_results, visible_shares
from ..extensions import db
from ..identifiers import ORGANISATION
from ..models import AuditEvent, CertifiedCopy, CopyShare, DataExport, Result, User
from ..models.data_exports import DONE, EXPIRED, FAILED, QUEUED, RUNNING
from ..models.files import ResultFile, StoredFile
from ..models.national import NationalIdentity
from ..models.sessions import UserSession
from ..models.shares import STATUS_LABELS
from ..storage import CHUNK, JOBS, FileDamaged, digest_of, storage
from ..timeutil import utcnow
from . import transactional

log = logging.getLogger(__name__)

SCHEMA = "portal.mydata"
VERSION = 1
EXPORT_ACTION = audit.EXPORT_ACTION
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg", "image/tiff": "tif"}


@dataclass
class Export:
    """One export being written: the caller, the open ZIP, and what was put in it."""

    user: User
    zip: zipfile.ZipFile
    at: datetime
    files: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)
    progress: Callable[[int], None] | None = None
    items: int = 0

    def step(self) -> None:
        """One result or copy packed (the background build shows its progress from these)."""
        self.items += 1
        if self.progress is not None:
            self.progress(self.items)

    def add_stored(self, path: str, sha256: str) -> dict:
        """Stream a stored file into the ZIP at `path` once its bytes hash to `sha256`; the entry the
        index lists for it (with `problem` and no path when the store no longer holds it whole)."""
        try:
            source = storage().open_verified(sha256)
        except FileDamaged as damage:
            self.problems.append(f"{path}: {damage.state}")
            return {"path": None, "sha256": sha256, "problem": damage.state}
        digest = hashlib.sha256()
        with source, self.zip.open(path, "w", force_zip64=True) as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                self.bytes += len(chunk)
        if digest.hexdigest() != sha256:  # changed between the check and the copy: say so, never hide it
            self.problems.append(f"{path}: altered")
            return {"path": path, "sha256": digest.hexdigest(), "problem": "altered"}
        self.files += 1
        return {"path": path, "sha256": sha256}


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _safe(name: str) -> str:
    """A code as a ZIP path component: codes come from imports, so nothing in them names a folder."""
    return _UNSAFE.sub("_", name).strip("._") or "_"


# --- the sections: each answers its part of index.json (and may add files to the ZIP) -------------

def account_section(export: Export) -> dict:
    """The caller's own account only (a colleague's is never in a business member's export)."""
    user = export.user
    identities = db.session.scalars(select(NationalIdentity).where(NationalIdentity.user_id == user.id)
                                    .order_by(NationalIdentity.id)).all()
    login_methods = (["password"] if user.password_login else []) + (["vneid"] if identities else [])
    return {
        "username": user.username,
        "full_name": user.full_name,
        "holder_kind": user.holder_kind,
        "holder_id": user.holder_id,
        "created_at": _iso(user.created_at),
        "last_login_at": _iso(user.last_login_at),
        "login_methods": login_methods,
        "second_factor": user.totp_enabled,
        "national_identities": [{"person_number": i.person_number, "tax_code": i.tax_code or None,
                                 "linked_at": _iso(i.created_at), "last_login_at": _iso(i.last_login_at)}
                                for i in identities],
    }


def identifiers_section(export: Export) -> list[dict]:
    user = export.user
    kind = "mst" if user.holder_kind == ORGANISATION else "cccd"
    return [{"kind": kind, "value": user.holder_id}]


def business_section(export: Export) -> dict | None:
    """For a business account: the business and this account's place in it (not the other members)."""
    user = export.user
    if not is_business_account(user):
        return None
    names = db.session.scalars(visible_results(user).with_only_columns(Result.holder_name)
                               .order_by(Result.issue_date.desc()).limit(1)).all()
    members = db.session.scalar(select(func.count(User.id)).where(
        User.role == user.role, User.holder_id == user.holder_id, User.active))
    return {"tax_code": user.holder_id, "name": names[0] if names else None,
            "manager": bool(user.business_manager), "active_members": members}


def sessions_section(export: Export) -> list[dict]:
    """The caller's sessions (never their tokens), newest first."""
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == export.user.id)
                              .order_by(UserSession.created_at.desc(), UserSession.id.desc()).limit(1000)).all()
    return [{"created_at": _iso(s.created_at), "last_seen_at": _iso(s.last_seen_at), "ended_at": _iso(s.ended_at),
             "end_reason": s.end_reason, "method": s.method, "ip": s.ip, "user_agent": s.user_agent}
            for s in rows]


def results_section(export: Export) -> list[dict]:
    found = []
    # Read whole first: the background build commits its progress between items.
    for result in db.session.scalars(visible_results(export.user).order_by(Result.issue_date, Result.id)).all():
        folder = f"results/{_safe(result.code)}"
        files = []
        for n, rf in enumerate(result.files, 1):
            ext = _EXTENSIONS.get(rf.file.media_type, "bin")
            entry = export.add_stored(f"{folder}/{n:02d}-{_safe(rf.role)}.{ext}", rf.file.sha256)
            files.append({**entry, "role": rf.role, "media_type": rf.file.media_type, "size": rf.file.size})
        found.append({
            "code": result.code, "dossier_code": result.dossier_code, "title": result.title,
            "document_number": result.document_number, "issue_date": _iso(result.issue_date),
            "procedure_code": result.procedure.code, "procedure_name": result.procedure.name,
            "unit": result.unit.name, "signer_name": result.signer_name, "signer_title": result.signer_title,
            "holder_kind": result.holder_kind, "holder_id": result.holder_id, "holder_name": result.holder_name,
            "holder_address": result.holder_address, "valid_from": _iso(result.valid_from),
            "valid_until": _iso(result.valid_until), "status": result.effective_status(),
            "status_label": result.status_label, "status_reason": result.status_reason,
            "page_count": result.page_count, "published_at": _iso(result.published_at),
            "replaces": result.replaces.code if result.replaces is not None else None,
            "files": files,
        })
        export.step()
    return found


def copies_section(export: Export) -> list[dict]:
    found = []
    for copy in db.session.scalars(visible_copies(export.user).order_by(CertifiedCopy.issued_at,
                                                                        CertifiedCopy.id)).all():
        entry = export.add_stored(f"copies/{_safe(copy.verification_code)}.pdf", copy.sha256)
        found.append({"verification_code": copy.verification_code, "register_number": copy.register_number,
                      "result_code": copy.result.code, "issued_at": _iso(copy.issued_at),
                      "requested_by": copy.requested_by.display_name if copy.requested_by else None,
                      "page_count": copy.page_count, "long_term": copy.long_term,
                      "timestamped_at": _iso(copy.timestamped_at), "file": entry})
        export.step()
    return found


def shares_section(export: Export) -> list[dict]:
    """Share links and every opening; a link's token is kept only hashed and is never exported."""
    now = utcnow()
    return [{"id": s.id, "copy": s.copy.verification_code, "recipient": s.recipient,
             "created_at": _iso(s.created_at), "created_by": s.created_by.display_name,
             "expires_at": _iso(s.expires_at), "revoked_at": _iso(s.revoked_at), "status": s.status(now),
             "status_label": STATUS_LABELS[s.status(now)],
             "uses": [{"at": _iso(u.at), "address": u.address, "outcome": u.outcome,
                       "outcome_label": u.outcome_label} for u in s.uses]}
            for s in db.session.scalars(visible_shares(export.user).order_by(CopyShare.created_at, CopyShare.id))]


def access_log_section(export: Export) -> list[dict]:
    """The holder's "who looked" page (audit.events_about), whole; as there, an address only for a
    share link's opening (a staff member's workstation is not the holder's to know)."""
    return [{"at": _iso(e.at), "action": e.action, "action_label": e.action_label, "actor": _actor(e, export.user),
             "result_code": e.target, "ip": e.ip if e.action == "share.use" else None, "details": e.details or {}}
            for e in db.session.scalars(audit.events_about(export.user))]


def _actor(event: AuditEvent, user: User) -> str:
    if event.actor_id == user.id:
        return "Bạn"
    if event.actor is not None and event.actor.is_staff:
        unit = event.actor.unit.name if event.actor.unit else "quản trị"
        return f"{event.actor.display_name} ({unit})"
    return event.actor_name or ("Người có đường dẫn chia sẻ" if event.action == "share.use" else "Người tra cứu")


def corrections_section(export: Export) -> list[dict]:
    """The requests to correct the holder's results, each step with its date, and the attachment."""
    from .corrections import requests_of

    found = []
    for request in requests_of(export.user):
        attachment = None
        if request.attachment is not None:
            attachment = export.add_stored(f"corrections/{request.id}-attachment.pdf", request.attachment.sha256)
        found.append({
            "id": request.id, "result_code": request.result.code, "field": request.field,
            "field_label": request.field_label, "shown_value": request.shown_value,
            "requested_value": request.requested_value, "status": request.status,
            "status_label": request.status_label, "received_at": _iso(request.received_at),
            "acknowledge_due": _iso(request.acknowledge_due), "answer_due": _iso(request.answer_due),
            "acknowledged_at": _iso(request.acknowledged_at), "answered_at": _iso(request.answered_at),
            "refusal_reason": request.refusal_reason,
            "replacement_code": request.replacement.code if request.replacement is not None else None,
            "attachment": attachment,
        })
    return found


Section = Callable[[Export], Any]
# The parts of an export, in order: the key in index.json and the function that answers it. Another
# part is one more line here and a block in templates/me/data_summary.html.
SECTIONS: list[tuple[str, Section]] = [
    ("account", account_section),
    ("identifiers", identifiers_section),
    ("business", business_section),
    ("sessions", sessions_section),
    ("results", results_section),
    ("copies", copies_section),
    ("shares", shares_section),
    ("access_log", access_log_section),
    ("corrections", corrections_section),
]


# --- the whole export -----------------------------------------------------------------------------

def store_size(user: User) -> tuple[int, int]:
    """(results, bytes of their files and copies) the export of `user` would hold."""
    results = db.session.scalar(select(func.count()).select_from(visible_results(user).subquery())) or 0
    mine = visible_results(user).with_only_columns(Result.id).scalar_subquery()
    files = db.session.scalar(select(func.coalesce(func.sum(StoredFile.size), 0))
                              .join(ResultFile, ResultFile.file_id == StoredFile.id)
                              .where(ResultFile.result_id.in_(mine))) or 0
    copies = db.session.scalar(visible_copies(user).with_only_columns(
        func.coalesce(func.sum(CertifiedCopy.size), 0))) or 0
    return results, int(files) + int(copies)


def too_large(user: User) -> tuple[int, int] | None:
    """None when the store is small enough to export while the caller waits, else its (results, bytes)."""
    config = current_app.config
    results, size = store_size(user)
    if results > config["MYDATA_MAX_RESULTS"] or size > config["MYDATA_MAX_MB"] * 1024 * 1024:
        return results, size
    return None


def build(user: User) -> IO[bytes]:
    """The ZIP of `user`'s data, built now, in a temporary file (removed when closed) rewound to its
    start. The export is an audit event of its own, committed once the ZIP is whole."""
    out = tempfile.TemporaryFile(dir=storage().tmp, prefix="mydata-")
    try:
        export = write(user, out)
        _record(user, export)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def write(user: User, out: IO[bytes], progress: Callable[[int], None] | None = None) -> Export:
    """Write the ZIP of `user`'s data to `out`; `progress(items)` is told of each result and copy packed."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        export = Export(user=user, zip=zf, at=utcnow(), progress=progress)
        index: dict[str, Any] = {"schema": SCHEMA, "version": VERSION, "generated_at": _iso(export.at)}
        for name, section in SECTIONS:
            index[name] = section(export)
        index["problems"] = export.problems
        zf.writestr("index.json", json.dumps(index, ensure_ascii=False, indent=2))
        zf.writestr("index.html", render_template("me/data_summary.html", index=index))
    return export


def _record(user: User, export: Export) -> None:
    audit.record(EXPORT_ACTION, actor=user, target=user.holder_id or "",
                 details={"files": export.files, "bytes": export.bytes, "problems": len(export.problems)})
    db.session.commit()


# --- a large store: built in the background, kept for a while in the JOBS area ------------------

KEEP_HOURS = 24  # how long a built export may be downloaded
MAX_ATTEMPTS = 3  # runs of a build whose worker died before it is failed
GIVEN_UP = "Việc đóng gói bị dừng nhiều lần; hãy yêu cầu lại."
FAILED_WORDS = "Không đóng gói được dữ liệu; hãy yêu cầu lại hoặc liên hệ Sở."


def exports_of(user: User) -> list[DataExport]:
    """The caller's own background exports, newest first (the last few)."""
    return db.session.scalars(select(DataExport).where(DataExport.user_id == user.id)
                              .order_by(DataExport.requested_at.desc(), DataExport.id.desc()).limit(5)).all()


@transactional
def request_export(user: User) -> DataExport:
    """Queue a build of `user`'s export, or answer the one already waiting or running."""
    pending = db.session.scalars(select(DataExport).where(
        DataExport.user_id == user.id, DataExport.status.in_((QUEUED, RUNNING)))).first()
    if pending is not None:
        return pending
    results = db.session.scalar(select(func.count()).select_from(visible_results(user).subquery())) or 0
    copies = db.session.scalar(select(func.count()).select_from(visible_copies(user).subquery())) or 0
    made = DataExport(user_id=user.id, status=QUEUED, total_items=results + copies)
    db.session.add(made)
    return made


def claim_next_export(worker: str | None = None) -> DataExport | None:
    """Take a queued build, or one whose worker died (its lease ran out; up to MAX_ATTEMPTS runs)."""
    from ..jobs import claim, lease_until, worker_id

    now = utcnow()
    died = (DataExport.status == RUNNING) & (DataExport.lease_until.is_(None) | (DataExport.lease_until < now))
    given_up = db.session.execute(update(DataExport).where(died, DataExport.attempts >= MAX_ATTEMPTS).values(
        status=FAILED, error=GIVEN_UP, finished_at=now, lease_until=None)).rowcount
    if given_up:
        db.session.commit()
    takeable = (DataExport.status == QUEUED) | (died & (DataExport.attempts < MAX_ATTEMPTS))
    return claim(DataExport, takeable, {"status": RUNNING, "started_at": now, "lease_until": lease_until(),
                                        "leased_by": worker or worker_id(), "attempts": DataExport.attempts + 1,
                                        "done_items": 0})


def run_export(job: DataExport) -> None:
    """Build a claimed export into the JOBS area; progress and the lease are written as it goes."""
    from ..jobs import lease_until

    job_id, user = job.id, job.user
    store = storage(JOBS)
    fd, name = tempfile.mkstemp(dir=store.tmp, prefix="mydata-", suffix=".zip")
    temp = Path(name)
    last = [time.monotonic()]

    def progress(items: int) -> None:
        if time.monotonic() - last[0] < PROGRESS_SECONDS:
            return
        last[0] = time.monotonic()
        db.session.execute(update(DataExport).where(DataExport.id == job_id).values(
            done_items=items, lease_until=lease_until()))
        db.session.commit()

    try:
        with os.fdopen(fd, "w+b") as out:
            export = write(user, out, progress)
            out.seek(0)
            sha256, size = digest_of(out), out.tell()
        store.keep(temp, sha256)
        job = db.session.get(DataExport, job_id)
        job.status, job.sha256, job.size, job.done_items = DONE, sha256, size, export.items
        job.finished_at, job.lease_until = utcnow(), None
        job.expires_at = job.finished_at + timedelta(hours=KEEP_HOURS)
        _record(user, export)  # commits the job's end with it
    except Exception:
        log.exception("data export %s failed", job_id)
        db.session.rollback()
        db.session.execute(update(DataExport).where(DataExport.id == job_id).values(
            status=FAILED, error=FAILED_WORDS, finished_at=utcnow(), lease_until=None))
        db.session.commit()
    finally:
        temp.unlink(missing_ok=True)


PROGRESS_SECONDS = 2.0  # between two writes of the progress (and the lease's renewal)


def remove_expired_exports() -> int:
    """Remove the ZIPs whose download time ended; the rows stay, marked expired."""
    ended = db.session.scalars(select(DataExport).where(DataExport.status == DONE,
                                                        DataExport.expires_at <= utcnow())).all()
    for job in ended:
        if job.sha256:
            storage(JOBS).remove(job.sha256)
        job.status, job.sha256 = EXPIRED, None
    db.session.commit()
    return len(ended)
