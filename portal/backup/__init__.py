"""Backup and restore: one archive holding the database, every stored file, the
signing keys and the secret key, with a manifest giving each member's SHA-256.

Consistency: the database snapshot is taken first, then the files. Files are content-addressed,
never changed or deleted in place, so every file the snapshot names is already in the store; a file
written after the snapshot is carried along harmlessly. A restore refuses a non-empty target,
checks the whole archive against its manifest before writing anything, loads the database, puts
files and keys where the portal reads them, migrates to this code's schema and rebuilds the index.
The archive is as secret as the keys it holds: it is created with mode 0600.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import func, select

from .. import audit
from ..copies.keys import signing_config
from ..extensions import db
from ..storage import storage
from ..timeutil import to_local, utcnow
from . import archive, database
from .archive import FILES, SECRET_KEY, SIGNER, TRUST_ROOTS
from .errors import BackupError

__all__ = ["BackupError", "BackupSummary", "RestoreSummary", "create_backup", "restore_backup"]


class _Quiet:
    def update(self, n: int) -> None:
        pass


# A progress bar factory, (label, length) -> a context manager whose value has `update(n)`;
# the command line passes click.progressbar's.
Progress = Callable[[str, int], AbstractContextManager[Any]]


def quiet(label: str, length: int) -> AbstractContextManager[Any]:
    return nullcontext(_Quiet())


@dataclass
class BackupSummary:
    path: Path
    files: int
    size: int
    altered: list[str] = field(default_factory=list)  # stored files whose content no longer matches their name
    missing: list[str] = field(default_factory=list)  # listed in the store, gone before they could be read


def create_backup(out: Path, progress: Progress = quiet) -> BackupSummary:
    out = Path(out).resolve()
    if not out.parent.is_dir():
        raise BackupError(f"Không có thư mục {out.parent} để ghi tệp sao lưu.")
    writer = archive.Writer(out)
    try:
        facts = {"created_at": to_local(utcnow()).isoformat(timespec="seconds")}
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".portal-backup-") as folder:
            dump = Path(folder) / "database"
            facts["database"] = database.snapshot(db.engine, dump)  # first: see the module's docstring
            writer.add_path(database.MEMBER[facts["database"]["backend"]], dump)
        writer.add_bytes(SECRET_KEY, current_app.config["SECRET_KEY"].encode())
        facts["signing"] = _add_signing_keys(writer)
        summary = BackupSummary(out, 0, 0)
        _add_stored_files(writer, summary, progress)
        facts["altered_files"] = summary.altered
        writer.finish(facts)
    except BaseException:
        writer.abort()
        raise
    summary.size = out.stat().st_size
    audit.record("backup.create", details={"file": out.name, "files": summary.files, "bytes": summary.size,
                                           "altered": len(summary.altered), "missing": len(summary.missing)})
    db.session.commit()
    return summary


def _add_signing_keys(writer: archive.Writer) -> dict:
    signing = signing_config(current_app.config)
    for member, path in ((SIGNER, signing.p12_path), (TRUST_ROOTS, signing.trust_roots_path)):
        if path and Path(path).is_file():
            writer.add_path(member, Path(path))
    # The PKCS#12 password is not kept: it stays with the deployment's other secrets.
    return {"demo": signing.demo, "p12_path": signing.p12_path, "trust_roots_path": signing.trust_roots_path}


def _add_stored_files(writer: archive.Writer, summary: BackupSummary, progress: Progress) -> None:
    store = storage()
    total = sum(1 for _ in store.stored())
    with progress("Sao lưu tệp", total) as bar:
        for sha256 in store.stored():
            try:
                stream = store.open_unchecked(sha256)
            except FileNotFoundError:
                summary.missing.append(sha256)
                continue
            with stream:
                if writer.add(FILES + sha256, stream, os.fstat(stream.fileno()).st_size) != sha256:
                    summary.altered.append(sha256)  # kept as found, listed, and left out by restore
            summary.files += 1
            bar.update(1)


# --- restore -----------------------------------------------------------------------------------

@dataclass
class RestoreSummary:
    files: int = 0
    results: int = 0
    notes: list[str] = field(default_factory=list)  # what the operator still has to do


def restore_backup(path: Path, progress: Progress = quiet) -> RestoreSummary:
    path = Path(path)
    data_dir = Path(current_app.config["PORTAL_DATA_DIR"])
    _refuse_non_empty_target(data_dir)
    database.check_tools(db.engine)
    with progress("Kiểm tra tệp sao lưu", path.stat().st_size) as bar:
        manifest = archive.verify(path, bar.update)
    summary = RestoreSummary()
    _check_schema(manifest)
    keys = _key_destinations(manifest, data_dir, summary.notes)
    # The portal reads SECRET_KEY from the environment when it is set, else from this file.
    secret = None if os.environ.get("SECRET_KEY") else Path(current_app.config["SECRET_KEY_FILE"])
    # Nothing was written up to here: from now on the target fills.
    _write_members(path, manifest, keys, secret, summary, progress)
    _finish(manifest, summary, progress)
    return summary


def _refuse_non_empty_target(data_dir: Path) -> None:
    found = database.tables(db.engine)
    db.engine.dispose()
    if found:
        raise BackupError(f"Cơ sở dữ liệu đích không trống (có {len(found)} bảng, ví dụ {found[0]}): "
                          "restore chỉ ghi vào một cơ sở dữ liệu chưa có bảng nào.")
    # Empty folders do not count (the app makes some when it starts), nor files of its own set-up.
    own = {Path(current_app.config["SECRET_KEY_FILE"])}
    if database.backend_of(db.engine) == database.SQLITE:
        own.add(Path(db.engine.url.database).resolve())
    for root, _dirs, names in os.walk(data_dir):
        for name in names:
            if Path(root, name).resolve() not in own:
                raise BackupError(f"Thư mục dữ liệu {data_dir} không trống (có {Path(root, name)}): "
                                  "restore chỉ ghi vào một thư mục dữ liệu trống.")
    if (stored := next(iter(storage().stored()), None)) is not None:  # a bucket (PORTAL_STORAGE=s3)
        raise BackupError(f"Kho tệp đích không trống (có tệp {stored}): restore chỉ ghi vào một kho tệp trống.")


def _check_schema(manifest: dict) -> None:
    """The backup's schema must be one this code knows how to migrate from."""
    from alembic.script import ScriptDirectory

    facts = manifest.get("database") or {}
    if facts.get("backend") != database.backend_of(db.engine):
        raise BackupError(f"Bản sao lưu là của {facts.get('backend')}, còn cơ sở dữ liệu đích là "
                          f"{database.backend_of(db.engine)}: chỉ khôi phục được vào cùng loại cơ sở dữ liệu.")
    if database.MEMBER[facts["backend"]] not in manifest["members"]:
        raise BackupError("Tệp sao lưu bị hỏng: không có cơ sở dữ liệu.")
    revision = facts.get("alembic_revision")
    scripts = ScriptDirectory(current_app.extensions["migrate"].directory)
    if revision is not None and revision not in {script.revision for script in scripts.walk_revisions()}:
        raise BackupError(f"Bản sao lưu có lược đồ {revision}, phiên bản này của cổng không biết: hãy khôi phục "
                          "bằng phiên bản cổng đã tạo ra nó (hoặc mới hơn).")


def _key_destinations(manifest: dict, data_dir: Path, notes: list[str]) -> dict[str, Path]:
    """Where each backed-up key goes: where this portal's configuration reads it. A key that is
    already there must be the same file; a different one is refused."""
    target = signing_config(current_app.config)
    backed = manifest.get("signing") or {}
    folder = data_dir / "signing"
    if not backed.get("demo") and target.demo:
        # A real key onto a portal set up for the demo key: the portal reads it once configured.
        places = {SIGNER: folder / "restored-signer.p12", TRUST_ROOTS: folder / "restored-trust-roots.pem"}
        notes.append(f"The backup holds the department's own key: set PORTAL_SIGNING_P12={places[SIGNER]}, "
                     f"PORTAL_SIGNING_P12_PASSWORD and PORTAL_TRUST_ROOTS={places[TRUST_ROOTS]}.")
    else:
        places = {SIGNER: Path(target.p12_path),
                  TRUST_ROOTS: Path(target.trust_roots_path) if target.trust_roots_path else
                  folder / "restored-trust-roots.pem"}
        if backed.get("demo") and not target.demo:
            notes.append(f"The backup's key is the demo key: {places[SIGNER]} now holds it; its password is the "
                         "demo password (portal/copies/keys.py), not PORTAL_SIGNING_P12_PASSWORD.")
        if TRUST_ROOTS in manifest["members"] and not target.trust_roots_path:
            notes.append(f"Trust roots restored to {places[TRUST_ROOTS]}: set PORTAL_TRUST_ROOTS to it.")
    destinations = {}
    for member, place in places.items():
        if member not in manifest["members"]:
            continue
        if place.exists():
            if _sha256_of(place) != manifest["members"][member]["sha256"]:
                raise BackupError(f"{place} đã có một khóa khác với khóa trong bản sao lưu: restore không ghi đè "
                                  "khóa; hãy chuyển tệp đó đi hoặc cấu hình đường dẫn khác.")
            continue  # the same key is already where the portal reads it
        destinations[member] = place
    return destinations


def _write_members(path: Path, manifest: dict, keys: dict[str, Path], secret_file: Path | None,
                   summary: RestoreSummary, progress: Progress) -> None:
    store = storage()
    backend = manifest["database"]["backend"]
    altered = set(manifest.get("altered_files") or [])
    if altered:
        summary.notes.append(f"{len(altered)} stored file(s) had been altered when backed up and are left out "
                             "(manifest: altered_files); `fixity` names what they belonged to.")
    total = sum(entry["size"] for entry in manifest["members"].values())
    with tempfile.TemporaryDirectory(dir=store.tmp, prefix="restore-") as folder, \
            progress("Khôi phục", total) as bar, archive.readable():
        for member, stream in archive.members(path):
            name = member.name
            if name == database.MEMBER[backend]:
                dump = Path(folder) / "database"
                _copy_to(stream, dump)
                database.load(db.engine, dump)
                dump.unlink()
            elif name.startswith(FILES) and name[len(FILES):] not in altered:
                _store(store, stream, name[len(FILES):])
                summary.files += 1
            elif name in keys:
                _write_private(keys[name], stream.read())
            elif name == SECRET_KEY:
                _put_secret_key(stream.read().decode(), secret_file, summary.notes)
            bar.update(member.size)  # the manifest, and keys already in place, are passed over


def _finish(manifest: dict, summary: RestoreSummary, progress: Progress) -> None:
    """Migrate to this code's schema, rebuild the index, and record the restore."""
    from flask_migrate import upgrade

    from .. import search
    from ..models import Result

    db.engine.dispose()
    upgrade()
    summary.results = db.session.scalar(select(func.count(Result.id)))
    with progress("Lập chỉ mục", summary.results) as bar:
        search.rebuild(progress=bar.update)
    audit.record("backup.restore", details={"created_at": manifest.get("created_at"), "files": summary.files,
                                            "results": summary.results})
    db.session.commit()


def _store(store, stream: BinaryIO, sha256: str) -> None:
    temp, actual, _size = store.spool(stream)
    if actual != sha256:  # the archive changed since it was checked
        store.discard(temp)
        raise BackupError(f"Tệp sao lưu thay đổi trong lúc khôi phục: «{FILES}{sha256}» không còn khớp.")
    store.keep(temp, sha256)


def _put_secret_key(secret: str, key_file: Path | None, notes: list[str]) -> None:
    if key_file is None:
        if os.environ["SECRET_KEY"] != secret:
            notes.append("SECRET_KEY in the environment is not the backed-up key: sessions and anything signed "
                         "with the old key will not be accepted; set SECRET_KEY to the archive's "
                         f"(`tar -xOf ARCHIVE {SECRET_KEY}`) to keep them.")
        return
    _write_private(key_file, secret.encode(), replace=True)


def _write_private(place: Path, data: bytes, replace: bool = False) -> None:
    """A key file, readable by its owner only, moved into place whole."""
    place.parent.mkdir(parents=True, exist_ok=True)
    temp = place.with_name(place.name + ".restoring")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    if not replace and place.exists():
        temp.unlink()
        raise BackupError(f"{place} đã có: restore không ghi đè khóa.")
    os.replace(temp, place)


def _copy_to(stream: BinaryIO, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(archive.CHUNK):
            out.write(chunk)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(archive.CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
