"""Batch import: a manifest and a folder of scans become drafts (or published results).

Rows go in by groups, one transaction each, with the `import_rows` line that says what became of
every row: a batch killed at any point loses at most the group in flight, leaves no half-made
result, and a rerun resumes after the last committed row. A bad row is found before anything of
it is added (its checks, its file's, the group's own codes and files kept in memory: see
DraftGroup), so it is recorded and the others stay; a group whose one flush still fails (another
process stored the same code meanwhile) is added again a row at a time, each in a savepoint.
A file already stored for the same result is reported as already in; the same file for another
result is refused, never stored twice.

The files are read ahead by other processes (portal/imports/reader.py) and, for a large batch,
the index is written by one beside the import (portal/search/alongside.py): on two cores the
importing process is left with the database work.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .. import audit, search
from ..access import PermissionDenied, require
from ..extensions import db
from ..identifiers import InvalidInput
from ..imports.manifest import ManifestError, read_manifest
from ..imports.reader import read_ahead, spool_folder
from ..imports.rows import RowError, check_row, known_procedure, resolve_file, sentence
from ..imports.unpack import UnpackError, clean_name, unpack
from ..models import ImportBatch, ImportRow, Procedure, Result, Unit, User
from ..models.imports import DONE, FAILED, IMPORTED, QUEUED, ROW_FAILED, RUNNING, SKIPPED
from ..scans import PreparedScan, ScanError
from ..search.alongside import indexing_alongside
from ..spreadsheets import csv_row
from ..storage import JOBS, FileDamaged, digest_of, out_of_space, shared_by_nodes, storage
from ..timeutil import utcnow
from . import OperationError
from .results import DraftGroup, ResultInput, add_draft, add_publication, find_duplicate

COMMIT_EVERY = 50          # rows per transaction
COMMIT_SECONDS = 2.0       # ... or sooner, so that progress shows
INDEX_ALONGSIDE_FROM = 200  # rows from which a process beside the import writes the index
# A web job is held by its worker for a lease (JOB_LEASE_SECONDS, renewed between rows and with
# each group); one whose lease ran out (its worker died) is taken over by another. While its files
# are being received it is held by the web process for at least this long.
RECEIVING_LEASE = timedelta(minutes=10)
# Runs of a web job: one that has killed its process this many times (a file that crashes the
# reader, say) is given up, failed with a message for staff, instead of being taken over forever.
MAX_ATTEMPTS = 3
GIVEN_UP = (f"Lô đã được chạy {MAX_ATTEMPTS} lần và lần nào quy trình nhập cũng dừng giữa chừng; đã dừng hẳn. "
            "Các dòng đã nhập được giữ nguyên. Hãy kiểm tra các tệp của lô (tệp hỏng, quá lớn) rồi tải lên lại "
            "phần còn lại.")


def manifest_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def open_batch(actor: User | None, manifest: Path, files_dir: Path, *, publish: bool, source: str,
               unit: Unit | None = None, name: str | None = None) -> ImportBatch:
    """A new batch, or (command line) the unfinished one of the same manifest and folder, to resume."""
    digest = manifest_digest(manifest)
    if source == "cli":
        unfinished = db.session.scalars(select(ImportBatch).where(
            ImportBatch.source == "cli", ImportBatch.manifest_sha256 == digest,
            ImportBatch.files_dir == str(files_dir.resolve()), ImportBatch.status.in_((QUEUED, RUNNING)),
        ).order_by(ImportBatch.id.desc())).first()
        if unfinished is not None:
            unfinished.publish = publish
            db.session.commit()
            return unfinished
    batch = ImportBatch(source=source, name=(name or manifest.name)[:255], manifest_sha256=digest,
                        files_dir=str(files_dir.resolve()), publish=publish, unit_id=unit.id if unit else None,
                        created_by_id=actor.id if actor else None, status=QUEUED)
    db.session.add(batch)
    db.session.flush()
    audit.record("import.start", actor=actor, target=f"lô {batch.id}", details={"manifest": batch.name,
                                                                                  "publish": publish})
    db.session.commit()
    return batch


class LeaseLost(Exception):
    """This worker's lease on a job ran out and another worker took the job over."""


def claim_next_web_batch(worker: str | None = None) -> ImportBatch | None:
    """Take a queued web job, or one whose lease ran out (its worker died; up to MAX_ATTEMPTS runs),
    for `worker` (this process by default), with a lease; None if there is none. A job that died on
    its last run is failed here, for staff to see. On PostgreSQL the candidate row is locked with
    SKIP LOCKED, so workers claiming at once take different jobs; on SQLite the conditional update
    does it (one writer at a time). A job whose files are in the store the nodes share is taken by
    any worker; one whose folder this node does not see, received on another node with files on its
    own disk, is left to a worker there (or one sharing its data directory)."""
    from ..jobs import claim, lease_until, worker_id

    now = utcnow()
    died = (ImportBatch.source == "web") & (ImportBatch.status == RUNNING) & (
        ImportBatch.lease_until.is_(None) | (ImportBatch.lease_until < now))
    for batch_id in db.session.scalars(select(ImportBatch.id).where(died, ImportBatch.attempts >= MAX_ATTEMPTS)).all():
        given_up = db.session.execute(update(ImportBatch).where(
            ImportBatch.id == batch_id, died, ImportBatch.attempts >= MAX_ATTEMPTS).values(
            status=FAILED, error=GIVEN_UP, finished_at=now, lease_until=None)).rowcount
        if given_up:
            batch = db.session.get(ImportBatch, batch_id)
            audit.record("import.finish", actor=batch.created_by, target=f"lô {batch.id}", details={
                "imported": batch.imported, "skipped": batch.skipped, "failed": batch.failed, "error": GIVEN_UP})
        db.session.commit()
    takeable = (ImportBatch.source == "web") & (
        (ImportBatch.status == QUEUED) | (died & (ImportBatch.attempts < MAX_ATTEMPTS)))
    return claim(ImportBatch, takeable, {
        "status": RUNNING, "heartbeat_at": now, "lease_until": lease_until(), "leased_by": worker or worker_id(),
        "attempts": ImportBatch.attempts + 1}, columns=(ImportBatch.received_on, ImportBatch.files_sha256),
        usable=lambda row: row.files_sha256 or _files_here(row.id, row.received_on), candidates=20)


def _files_here(batch_id: int, received_on: str | None) -> bool:
    """Whether this node may run the job: it sees the job's folder (its own data directory, or one
    shared by the nodes), or the job was received here (a folder lost here fails the job)."""
    from ..jobs import node

    return received_on in (None, node()) or job_folder(batch_id).is_dir()


def _hold(batch_id: int, worker: str | None) -> None:
    """Renew `worker`'s lease on the job, in the transaction under way (not committed here). The
    first write of a group's transaction: it takes the job's row (PostgreSQL) or the database
    (SQLite) before the rows are written, so a takeover and a group never interleave, and a worker
    whose job was taken over stops here, its group undone. A command-line batch (no worker) has
    no lease."""
    from ..jobs import lease_until

    values = {"heartbeat_at": utcnow()}
    if worker is None:
        db.session.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(**values))
        return
    held = db.session.execute(update(ImportBatch).where(
        ImportBatch.id == batch_id, ImportBatch.leased_by == worker, ImportBatch.status == RUNNING).values(
        lease_until=lease_until(), **values)).rowcount
    if not held:
        db.session.rollback()
        raise LeaseLost(f"import job {batch_id} was taken over by another worker")


def run_batch(batch: ImportBatch, manifest: Path, progress: Callable[[int, int], None] | None = None,
              worker: str | None = None) -> ImportBatch:
    """Import every row of `manifest` not yet done in this batch. `progress(done, total)` is
    called as rows are handled (a progress bar, a job page). A web job runs under `worker`'s lease,
    renewed between rows and with each group; LeaseLost if another worker took it over."""
    actor = db.session.get(User, batch.created_by_id) if batch.created_by_id else None
    batch.status, batch.heartbeat_at = RUNNING, utcnow()
    batch.started_at = batch.started_at or utcnow()
    db.session.commit()
    try:
        rows = read_manifest(manifest)
    except ManifestError as err:
        return _finish(batch, FAILED, str(err))
    batch.total_rows = len(rows)
    db.session.commit()
    done = set(db.session.scalars(select(ImportRow.line).where(ImportRow.batch_id == batch.id)))
    units = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.active))}
    context = _Context(actor, units)
    locate = _web_locator(batch) if batch.source == "web" else (
        lambda name, files_dir=Path(batch.files_dir): resolve_file(files_dir, name))
    todo = [row for row in rows if row.line not in done]
    if progress:
        progress(len(done), len(rows))
    renew_every = current_app.config["JOB_LEASE_SECONDS"] / 3
    with spool_folder(storage().tmp) as spool_dir, indexing_alongside(len(todo) >= INDEX_ALONGSIDE_FROM), \
            closing(read_ahead(todo, lambda row: _where(locate, row.values.get("file", "")), spool_dir,
                               current_app.config["MAX_UPLOAD_BYTES"])) as scans:
        group: list = []
        handled, started = len(done), time.monotonic()
        renewed = started
        for item in scans:
            group.append(item)
            if len(group) >= COMMIT_EVERY or time.monotonic() - started > COMMIT_SECONDS:
                _import_group(batch, group, context, worker)
                handled, group, started = handled + len(group), [], time.monotonic()
                renewed = started
                if progress:
                    progress(handled, len(rows))
            elif worker is not None and time.monotonic() - renewed > renew_every:
                _hold(batch.id, worker)  # nothing else is in this transaction: the group is in memory
                db.session.commit()
                renewed = time.monotonic()
        if group:
            _import_group(batch, group, context, worker)
            if progress:
                progress(len(rows), len(rows))
    # The index queue has every row (written with it); the indexer beside a large batch, or a web
    # process's, has written most of them to the index meanwhile; this writes the rest. (The
    # small segments the drains leave are merged by a web process's indexer when it is idle.)
    search.sync(timeout=60.0)
    _hold(batch.id, worker)
    return _finish(batch, DONE, None)


@dataclass
class _Context:
    actor: User | None
    units: dict
    procedures: dict = field(default_factory=dict)  # code → catalogue procedure (None: not in it)
    serials: dict = field(default_factory=dict)  # generated dossier-code prefix → last serial given

    def forget(self) -> None:
        """After a rollback: what was cached may not be in the database."""
        self.procedures.clear()
        self.serials.clear()


def _where(locate: Callable[[str], Path], name: str) -> tuple[Path, str] | RowError:
    try:
        return locate(name), name
    except RowError as err:
        return err


def _import_group(batch: ImportBatch, group: list, context: _Context, worker: str | None = None) -> None:
    """A group of rows in one transaction, flushed once (the INSERTs go in batches). Should the
    flush fail on a code or file the group could not foresee (another process stored it
    meanwhile, or a generated code is one a later row of the group gives), the group is rolled
    back and its rows are added one at a time, each in a savepoint that sees the rows before it.
    Its files are discarded only once the group is in: the second pass needs them. Its first write
    renews the lease (_hold): a worker that lost its job adds nothing."""
    _hold(batch.id, worker)
    try:
        with db.session.no_autoflush:
            drafts = DraftGroup.for_files(
                {f.sha256 for _row, scan in group if isinstance(scan, PreparedScan)
                 for f in (scan.document, scan.source)
                 if f is not None}, context.serials)
            outcomes = [_import_row(batch, row, scan, context, drafts) for row, scan in group]
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        context.forget()
        # A write first, so that the rows' savepoints nest in one transaction on SQLite too.
        _hold(batch.id, worker)
        outcomes = [_import_row(batch, row, scan, context, None) for row, scan in group]
    for outcome in outcomes:
        setattr(batch, outcome, getattr(batch, outcome) + 1)
    batch.heartbeat_at = utcnow()
    if worker is not None:
        from ..jobs import lease_until

        batch.lease_until = lease_until()  # counted from the commit, however long the group took
    db.session.commit()
    for _row, scan in group:
        if isinstance(scan, PreparedScan):
            scan.discard()  # a no-op for the files kept


def _web_locator(batch: ImportBatch) -> Callable[[str], Path]:
    """A web job's files were stored under names of our own (see unpack.py); the manifest names
    them as they were in the ZIP, relative to the manifest, or just by their file name. A name
    that several files answer to (see _names_of) is the row's error, never one of them."""
    folder = job_folder(batch.id)
    names = json.loads((folder / "names.json").read_text(encoding="utf-8"))

    def locate(name: str) -> Path:
        key = clean_name(name.strip())
        stored = names.get(key) if key else None
        if stored is None:
            raise RowError(f"Không tìm thấy tệp «{name}» trong lô đã tải lên.")
        if isinstance(stored, list):
            raise RowError(_ambiguous(name, stored))
        return folder / "files" / stored

    return locate


AMBIGUOUS_SHOWN = 5  # files named in the row's error when a name fits several


def _ambiguous(name: str, candidates: list[str]) -> str:
    shown = ", ".join(f"«{c}»" for c in candidates[:AMBIGUOUS_SHOWN])
    more = f" và {len(candidates) - AMBIGUOUS_SHOWN} tệp khác" if len(candidates) > AMBIGUOUS_SHOWN else ""
    return (f"Tên tệp «{name}» ứng với {len(candidates)} tệp trong lô: {shown}{more}. "
            "Hãy ghi đường dẫn của tệp tính từ thư mục chứa bảng kê, hoặc đặt tên tệp khác nhau.")


def _names_of(exact: dict[str, str], also: list[tuple[str, str, str]]) -> dict[str, str | list[str]]:
    """What a manifest row may call each file → the name it was stored under. `exact` are paths
    relative to the manifest, and win; `also` are (other name, how the file is shown, stored
    name): its name in the ZIP, its bare file name. An other name that several files answer to
    maps to the list of them (shown), which the row that uses it is told."""
    names: dict[str, str | list[str]] = dict(exact)
    others: dict[str, list[tuple[str, str]]] = {}
    for key, shown, stored in also:
        if key not in exact:
            others.setdefault(key, []).append((shown, stored))
    for key, found in others.items():
        names[key] = found[0][1] if len(found) == 1 else [shown for shown, _stored in found]
    return names


def create_web_batch(actor: User, upload, loose_files: list) -> ImportBatch:
    """Keep an uploaded ZIP (or a manifest and its files) in a job folder and queue the job."""
    require(actor, "upload", unit=actor.unit)
    config = current_app.config
    from ..jobs import node, worker_id

    lease = max(timedelta(seconds=config["JOB_LEASE_SECONDS"]), RECEIVING_LEASE)
    batch = ImportBatch(source="web", name=Path(upload.filename or "lo").name[:255], manifest_sha256="",
                        files_dir="", status=RUNNING, heartbeat_at=utcnow(),  # not queued until its files are in
                        lease_until=utcnow() + lease, leased_by=worker_id(), received_on=node(),
                        unit_id=None if actor.is_admin else actor.unit_id, created_by_id=actor.id)
    db.session.add(batch)
    db.session.commit()
    folder = job_folder(batch.id)
    try:
        names = _keep_upload(folder, upload, loose_files, config)
        manifest = next(folder.glob("manifest.*"))
        (folder / "names.json").write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")
        if shared_by_nodes(config):
            batch.files_sha256 = share_job_files(folder)
        batch.manifest_sha256, batch.files_dir, batch.status = manifest_digest(manifest), str(folder / "files"), QUEUED
        audit.record("import.start", actor=actor, target=f"lô {batch.id}", details={
            "upload": batch.name, "files": sum(1 for _ in (folder / "files").iterdir())})
        db.session.commit()
        return batch
    except (UnpackError, OperationError) as err:
        _give_up(batch, folder, str(err))
        raise OperationError(str(err)) from None
    except BaseException as err:  # a full disk, say: nothing half-written stays, the batch says why
        _give_up(batch, folder, STORAGE_FULL if out_of_space(err) else "Lỗi hệ thống khi nhận tệp của lô.")
        raise


SHARED_FILES_DAMAGED = ("Tệp của lô trong kho lưu trữ chung bị mất hoặc bị thay đổi; "
                        "hãy gửi lại lô (các dòng đã nhập được giữ nguyên, không nhập lại).")
STORAGE_FULL = "Máy chủ hết chỗ lưu trữ khi nhận tệp của lô; chưa có gì được lưu, hãy gửi lại sau."


def _give_up(batch: ImportBatch, folder: Path, reason: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)  # refused: nothing in it to keep
    db.session.rollback()
    batch.status, batch.error, batch.finished_at = FAILED, reason, utcnow()
    batch.files_removed_at = batch.finished_at
    db.session.commit()


def _keep_upload(folder: Path, upload, loose_files: list, config) -> dict[str, str | list[str]]:
    files = folder / "files"
    files.mkdir(parents=True, exist_ok=True)
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix == ".zip":
        archive = folder / "upload.zip"
        upload.save(archive)
        unpacked = unpack(archive, files, max_files=config["IMPORT_MAX_FILES"],
                          max_bytes=config["IMPORT_MAX_UNPACKED_MB"] * 1024 * 1024)
        archive.unlink()
        manifests = [n for n in unpacked if Path(n).suffix.lower() in (".csv", ".xlsx")]
        if len(manifests) != 1:
            raise UnpackError("Tệp ZIP phải có đúng một bảng kê (.csv hoặc .xlsx)" +
                              (f"; đang có {len(manifests)}." if manifests else "; không thấy bảng kê nào."))
        manifest = manifests[0]
        unpacked.pop(manifest).rename(folder / ("manifest" + Path(manifest).suffix.lower()))
        base = str(PurePosixPath(manifest).parent)
        exact, also = {}, []
        for name, path in unpacked.items():
            if base == ".":
                exact[name] = path.name
            elif name.startswith(base + "/"):
                exact[name[len(base) + 1:]] = path.name
            else:
                also.append((name, name, path.name))
            also.append((PurePosixPath(name).name, name, path.name))
        return _names_of(exact, also)
    if suffix not in (".csv", ".xlsx"):
        raise OperationError("Hãy tải lên một tệp ZIP (bảng kê và các bản quét), "
                             "hoặc một bảng kê .csv/.xlsx kèm các tệp.")
    upload.save(folder / ("manifest" + suffix))
    if len(loose_files) > config["IMPORT_MAX_FILES"]:
        raise OperationError(f"Quá {config['IMPORT_MAX_FILES']} tệp trong một lô.")
    also = []
    for n, item in enumerate(loose_files):
        name = clean_name(Path(item.filename or "").name)
        if not name:
            continue
        stored = f"{n:06d}{Path(name).suffix.lower()[:10]}"
        item.save(files / stored)
        also.append((name, f"{name} (tệp thứ {n + 1} đã chọn)", stored))
    return _names_of({}, also)


def job_folder(batch_id: int) -> Path:
    return Path(current_app.config["PORTAL_DATA_DIR"]) / "imports" / str(int(batch_id))


def share_job_files(folder: Path) -> str:
    """Keep a job's folder as one tar in the store every node reads (JOBS area); its SHA-256.
    One object, not one per scan: the job takes and leaves its files as a whole."""
    store = storage(JOBS)
    fd, name = tempfile.mkstemp(dir=store.tmp, prefix="job-", suffix=".tar")
    os.close(fd)
    try:
        with tarfile.open(name, "w") as archive:
            for item in sorted(folder.iterdir()):
                archive.add(item, arcname=item.name)
        with open(name, "rb") as fh:
            sha256 = digest_of(fh)
        store.keep(Path(name), sha256)
        return sha256
    finally:
        Path(name).unlink(missing_ok=True)


def _fetch_job_files(batch: ImportBatch) -> bool:
    """Put the job's folder on this node from the shared store, when it is not here (a worker on
    another node than the one that received the upload, or one that takes over). False if the
    store has lost or altered it."""
    folder = job_folder(batch.id)
    if folder.is_dir() or not batch.files_sha256:
        return True
    part = folder.with_name(f"{folder.name}.part")
    shutil.rmtree(part, ignore_errors=True)  # a fetch cut short by a killed worker
    try:
        with storage(JOBS).local_copy(batch.files_sha256) as tar_path, tarfile.open(tar_path) as archive:
            archive.extractall(part, filter="data")  # our own archive, read as if it were not
    except FileDamaged:
        shutil.rmtree(part, ignore_errors=True)
        return False
    part.rename(folder)
    return True


def _unshare_job_files(batch: ImportBatch) -> None:
    """Remove the job's archive from the shared store unless another job still waiting on the same
    upload (the same ZIP sent twice) needs it."""
    if not batch.files_sha256:
        return
    still_needed = db.session.scalar(select(func.count(ImportBatch.id)).where(
        ImportBatch.files_sha256 == batch.files_sha256, ImportBatch.id != batch.id,
        ImportBatch.files_removed_at.is_(None)))
    if not still_needed:
        storage(JOBS).remove(batch.files_sha256)


def run_web_batch(batch: ImportBatch) -> ImportBatch:
    """A job uploaded on the web, claimed by claim_next_web_batch: its manifest and files are in
    the job's own folder, removed once the job is done (its scans are in the store now). A failed
    job's folder is kept for IMPORT_KEEP_FAILED_DAYS (remove_expired_job_files); a job killed
    half-way is not failed: it keeps its folder, from which the worker that takes it over resumes
    it. A worker that finds its job taken over (it had stalled past its lease) leaves it."""
    import logging

    worker = batch.leased_by
    if not _fetch_job_files(batch):
        return _finish(batch, FAILED, SHARED_FILES_DAMAGED)
    manifest = next(job_folder(batch.id).glob("manifest.*"), None)
    if manifest is None:
        return _finish(batch, FAILED, "Không tìm thấy bảng kê của lô này.")
    try:
        batch = run_batch(batch, manifest, worker=worker)
    except LeaseLost as err:
        logging.getLogger(__name__).warning("%s; this worker leaves it", err)
        db.session.rollback()
        return batch
    if batch.status == DONE:
        remove_job_files(batch)
    return batch


def remove_job_files(batch: ImportBatch) -> bool:
    """Remove a web job's folder (the upload, unpacked); the report of its rows stays. False if
    another process did it first."""
    shutil.rmtree(job_folder(batch.id), ignore_errors=True)
    _unshare_job_files(batch)
    # Removed first, marked after: a process stopped in between leaves it to the next sweep.
    marked = db.session.execute(update(ImportBatch).where(
        ImportBatch.id == batch.id, ImportBatch.files_removed_at.is_(None)).values(files_removed_at=utcnow())).rowcount
    if not marked:
        db.session.rollback()
        return False
    audit.record("import.files_removed", actor=None, target=f"lô {batch.id}",
                 details={"status": batch.status, "finished_at": batch.finished_at.isoformat()
                          if batch.finished_at else None})
    db.session.commit()
    return True


def files_kept_until(batch: ImportBatch) -> datetime | None:
    """Until when a failed web job's uploaded files are kept; None when there are none to keep
    (gone, a command-line batch, a job still running or done)."""
    if batch.source != "web" or batch.status != FAILED or batch.files_removed_at or batch.finished_at is None:
        return None
    return batch.finished_at + _keep_failed()


def _keep_failed() -> timedelta:
    return timedelta(days=current_app.config["IMPORT_KEEP_FAILED_DAYS"])


def remove_expired_job_files() -> int:
    """Remove the folders of the web jobs that ended: the done ones' (a process stopped between
    the end and the removal, or the job was done before this rule), the failed ones' after
    IMPORT_KEEP_FAILED_DAYS, and any folder no job owns any more. Queued and running jobs (one
    killed waits to be taken over) keep theirs. Returns how many folders went. Run by each
    process's background work (portal/jobs.py) and by `import-worker`, never by a request."""
    cutoff = utcnow() - _keep_failed()
    ended = db.session.scalars(select(ImportBatch).where(
        ImportBatch.source == "web", ImportBatch.files_removed_at.is_(None),
        (ImportBatch.status == DONE) | ((ImportBatch.status == FAILED) & (ImportBatch.finished_at < cutoff)),
    ).order_by(ImportBatch.id)).all()
    return sum(remove_job_files(batch) for batch in ended) + _remove_ownerless_folders(cutoff)


def _remove_ownerless_folders(cutoff: datetime) -> int:
    """Folders whose job is gone from the database (a restore) or marked as removed (a removal
    that failed half-way); a folder with no job is left alone until it is as old as the cutoff."""
    root = Path(current_app.config["PORTAL_DATA_DIR"]) / "imports"
    folders = {int(p.name): p for p in root.iterdir() if p.name.isdigit() and p.is_dir()} if root.is_dir() else {}
    if not folders:
        return 0
    owners = dict(db.session.execute(select(ImportBatch.id, ImportBatch.files_removed_at).where(
        ImportBatch.source == "web", ImportBatch.id.in_(list(folders)))).all())
    removed = 0
    for batch_id, folder in folders.items():
        marked_removed = owners.get(batch_id) is not None
        ownerless = batch_id not in owners and datetime.fromtimestamp(folder.stat().st_mtime, UTC) < cutoff
        if marked_removed or ownerless:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _finish(batch: ImportBatch, status: str, error: str | None) -> ImportBatch:
    batch.status, batch.error, batch.finished_at = status, error, utcnow()
    audit.record("import.finish", actor=batch.created_by, target=f"lô {batch.id}", details={
        "imported": batch.imported, "skipped": batch.skipped, "failed": batch.failed,
        **({"error": error} if error else {})})
    db.session.commit()
    return batch


def _same_result(result: Result, fields: dict, unit: Unit) -> bool:
    return (result.document_number == fields.get("document_number") and result.holder_id == fields.get("holder_id")
            and result.unit_id == unit.id)


def _import_row(batch: ImportBatch, row, scan, context: _Context, group: DraftGroup | None) -> str:
    """One row added to the group, or (`group` None) in its own savepoint; returns the counter it
    adds to (imported, skipped, failed). The row's import record says what became of it."""
    record = ImportRow(batch_id=batch.id, line=row.line, file_name=row.values.get("file", "")[:500])
    try:
        data = check_row(row, context.units, context.procedures)
        if batch.unit_id is not None and data.unit.id != batch.unit_id:
            raise RowError(f"Kết quả thuộc đơn vị {data.unit.code}, không phải đơn vị của người nhập.")
        if isinstance(scan, Exception):
            raise scan
        existing = find_duplicate(scan.document.sha256, group)
        if existing is not None:
            if _same_result(existing, data.fields, data.unit):
                record.status, record.result = SKIPPED, existing
                record.message = f"Đã có trong kho: kết quả {existing.code}."
                db.session.add(record)
                return "skipped"
            raise RowError(f"Tệp «{data.file}» đã được lưu cho kết quả {existing.code} "
                           f"(số {existing.document_number}); "
                           "không lưu trùng.")
        # Alone, the row is flushed when its savepoint ends: what add_draft looks up concerns
        # other rows, all flushed already, so flushing this row's half-made objects first would
        # only cost time.
        with (db.session.begin_nested() if group is None else nullcontext()), db.session.no_autoflush:
            known = known_procedure(data.procedure_code, context.procedures)
            procedure = known or _procedure(context, data)
            result = add_draft(context.actor, ResultInput(procedure=procedure, unit=data.unit, **data.fields), scan,
                               import_batch_id=batch.id, group=group)
            if batch.publish:
                add_publication(context.actor, result)
            record.status, record.result = IMPORTED, result
            record.message = f"Kết quả {result.code}" + (" (đã phát hành)." if batch.publish else " (chờ kiểm tra).")
            db.session.add(record)
        if known is None:  # only now that the row (and the procedure with it) is in
            context.procedures[procedure.code] = procedure
        return "imported"
    except (RowError, ScanError, OperationError, InvalidInput, PermissionDenied) as err:
        message = sentence(str(err))
    except IntegrityError:
        if group is not None:  # the group's transaction is broken: _import_group starts again
            raise
        message = "Mã kết quả hoặc tệp vừa được một người khác lưu cùng lúc; hãy chạy lại lô này."
    record.status, record.message = ROW_FAILED, message
    db.session.add(record)
    return "failed"


def _procedure(context: _Context, data) -> Procedure:
    """The row's procedure; one not yet in the catalogue is added from the row's name and field."""
    procedure = known_procedure(data.procedure_code, context.procedures)
    if procedure is not None:
        return procedure
    actor = context.actor
    if not data.procedure_name or not data.field:
        raise RowError(f"Thủ tục {data.procedure_code} chưa có trong danh mục: cần ghi tên thủ tục và lĩnh vực.")
    procedure = Procedure(code=data.procedure_code, name=data.procedure_name[:500], field=data.field[:255])
    db.session.add(procedure)
    db.session.flush()  # results refer to it by id
    audit.record("procedure.create", actor=actor, target=procedure.code,
                 details={"name": procedure.name, "field": procedure.field, "from": "import"})
    return procedure


def failed_rows(batch: ImportBatch) -> list[ImportRow]:
    return list(db.session.scalars(select(ImportRow).where(ImportRow.batch_id == batch.id,
                                                           ImportRow.status == ROW_FAILED).order_by(ImportRow.line)))


def report_csv(batch: ImportBatch, *, failed_only: bool) -> str:
    """What became of the rows, as CSV text with a BOM so that Excel reads the Vietnamese: the
    failed rows with their reason (the command line's report), or every row (the job page's).
    A manifest's text that a spreadsheet would take for a formula is written as text."""
    import csv
    import io

    query = select(ImportRow).where(ImportRow.batch_id == batch.id).order_by(ImportRow.line)
    if failed_only:
        query = query.where(ImportRow.status == ROW_FAILED)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Dòng", "Tệp", "Lý do"] if failed_only else ["Dòng", "Tệp", "Kết quả", "Chi tiết"])
    for row in db.session.scalars(query):
        writer.writerow(csv_row([row.line, row.file_name, row.message] if failed_only
                                else [row.line, row.file_name, row.status_label, row.message]))
    return "\ufeff" + out.getvalue()


def write_report(batch: ImportBatch, path: Path) -> None:
    path.write_text(report_csv(batch, failed_only=True), encoding="utf-8", newline="")
