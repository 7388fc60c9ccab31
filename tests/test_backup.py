"""`backup --out FILE` and `restore FILE` (README: Command line): a portal with results, copies
and audit events is backed up, restored into an empty database and data directory, and found the
same: results, files byte for byte, copies that still verify, search answers."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, inspect, select, text

from portal import search
from portal.copies.answers import verify_upload
from portal.extensions import db
from portal.models import AuditEvent, CertifiedCopy, Result, User
from portal.operations import copies as copy_ops
from portal.storage import storage

from .conftest import BACKENDS, CCCD_A, make_app, make_result

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ["thiet bi", "GIẤY PHÉP", "2/gp-skhcn", CCCD_A, "x quang chan doan so 3", "không có gì như thế này"]


@pytest.fixture
def schema_kept(backend, db_url, tmp_path):
    """A test that empties its PostgreSQL database leaves it migrated again, whatever happened."""
    yield
    if backend == "postgresql":
        engine = create_engine(db_url)
        empty = not inspect(engine).get_table_names()
        engine.dispose()
        if empty:
            with make_app(db_url, tmp_path / "migrating").app_context():
                upgrade()
                db.engine.dispose()


def empty_target(backend: str, db_url: str, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or this test's PostgreSQL database emptied (CI's
    role owns its database but may not create another)."""
    db.session.remove()
    db.engine.dispose()
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.db'}"
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return db_url


def portal_state() -> dict:
    """What must come back: results, copies, the audit trail, every stored file, search answers."""
    results = db.session.scalars(select(Result).order_by(Result.code)).all()
    users = {name: db.session.scalars(select(User).where(User.username == name)).one()
             for name in ("holder_a", "staff_a", "admin")}
    return {
        "results": [(r.code, r.status, r.document_number, r.holder_id, r.summary,
                     r.document.sha256 if r.document else None) for r in results],
        "copies": [(c.verification_code, c.register_number, c.sha256, c.result.code)
                   for c in db.session.scalars(select(CertifiedCopy).order_by(CertifiedCopy.id))],
        "audit": [(e.action, e.target, e.actor_name) for e in
                  db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))],
        "files": {sha256: storage().path_for(sha256).read_bytes() for sha256 in storage().stored()},
        "search": {(name, q): sorted(r.code for r, _hit in search.search_results(user, q, search.Filters()).items)
                   for name, user in users.items() for q in QUERIES},
    }


@pytest.fixture
def portal_with_copies(world, pdfs):
    results = [make_result(world, pdfs[n], document_number=f"{n + 1}/GP-SKHCN", reviewer="reviewer_a",
                           valid_until=None) for n in range(3)]
    make_result(world, pdfs[5], document_number="6/GP-SKHCN")  # a draft waiting for its check
    copies = [copy_ops.issue_copy(world["holder_a"], results[0]), copy_ops.issue_copy(world["holder_a"], results[2])]
    search.sync()
    return results, copies


@pytest.mark.slow
def test_a_backup_restored_into_an_empty_portal_is_the_same_portal(
        app, backend, db_url, tmp_path, signing_keys, portal_with_copies, schema_kept):
    before = portal_state()
    assert len(before["copies"]) == 2 and len(before["files"]) == 6 and any(before["search"].values())
    archive = tmp_path / "backups" / "portal.tar"
    archive.parent.mkdir()
    made = app.test_cli_runner().invoke(args=["backup", "--out", str(archive)])
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names[0].startswith("database.") and names[-1] == "manifest.json"  # the snapshot first

    keys = tmp_path / "restored-keys"
    target = make_app(empty_target(backend, db_url, tmp_path), tmp_path / "restored-data",
                      SIGNING_P12=str(keys / "department.p12"), TRUST_ROOTS=str(keys / "roots.pem"),
                      SIGNING_P12_PASSWORD=signing_keys["SIGNING_P12_PASSWORD"],
                      SECRET_KEY_FILE=str(tmp_path / "restored-secret-key"))
    with target.app_context():
        restored = target.test_cli_runner().invoke(args=["restore", str(archive)])
        assert restored.exit_code == 0, restored.output
        assert "4 results, 6 files" in restored.output
        after = portal_state()
        for part in ("results", "copies", "files", "search"):
            assert after[part] == before[part], part
        assert after["audit"][:len(before["audit"])] == before["audit"]
        assert [action for action, _t, _a in after["audit"][len(before["audit"]):]] == ["backup.restore"]
        # The keys are where this portal reads them, and the copies still verify against them.
        assert (keys / "department.p12").read_bytes() == Path(signing_keys["SIGNING_P12"]).read_bytes()
        assert stat.S_IMODE((keys / "department.p12").stat().st_mode) == 0o600
        assert (tmp_path / "restored-secret-key").read_text() == "test-secret"
        for copy in db.session.scalars(select(CertifiedCopy)):
            checked = verify_upload(copy, storage().path_for(copy.sha256).read_bytes())
            assert checked.reliable, checked.as_dict()
            assert checked.file.details["issued_file"] and checked.signer.details["recorded_certificate"]
        assert target.test_cli_runner().invoke(args=["fixity"]).exit_code == 0

        again = target.test_cli_runner().invoke(args=["restore", str(archive)])
        assert again.exit_code != 0 and "không trống" in again.output
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_a_damaged_archive_before_writing_anything(
        app, backend, db_url, tmp_path, world, pdfs, schema_kept):
    make_result(world, pdfs[0], reviewer="reviewer_a")
    archive = tmp_path / "portal.tar"
    assert app.test_cli_runner().invoke(args=["backup", "--out", str(archive)]).exit_code == 0
    data = archive.read_bytes()
    with tarfile.open(archive) as tar:
        scan = next(m for m in tar.getmembers() if m.name.startswith("files/"))
    flipped = bytearray(data)
    flipped[scan.offset_data + 100] ^= 0x01
    damaged = {"flipped.tar": bytes(flipped), "truncated.tar": data[:scan.offset_data + 512],
               "not-a-backup.tar": b"%PDF-1.7 not an archive"}
    for name, content in damaged.items():
        (tmp_path / name).write_bytes(content)

    target = make_app(empty_target(backend, db_url, tmp_path), tmp_path / "target-data",
                      SECRET_KEY_FILE=str(tmp_path / "target-secret-key"))
    with target.app_context():
        runner = target.test_cli_runner()
        for name, reason in (("flipped.tar", "không khớp SHA-256"), ("truncated.tar", "không trọn vẹn"),
                             ("not-a-backup.tar", "bị hỏng")):
            refused = runner.invoke(args=["restore", str(tmp_path / name)])
            assert refused.exit_code != 0 and "Tệp sao lưu bị hỏng" in refused.output and reason in refused.output, \
                (name, refused.output)
            assert not inspect(db.engine).get_table_names()
            assert [p for p in (tmp_path / "target-data").rglob("*") if p.is_file()] == []
            assert not (tmp_path / "target-secret-key").exists() or \
                (tmp_path / "target-secret-key").read_text() != "test-secret"
        db.engine.dispose()


def test_restore_refuses_a_non_empty_target(app, tmp_path, world, pdfs):
    make_result(world, pdfs[0], reviewer="reviewer_a")
    archive = tmp_path / "portal.tar"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", "--out", str(archive)]).exit_code == 0
    refused = runner.invoke(args=["restore", str(archive)])  # into the portal it came from
    assert refused.exit_code != 0 and "Cơ sở dữ liệu đích không trống" in refused.output
    assert db.session.scalar(select(func.count(Result.id))) == 1


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "postgresql"], indirect=True)
def test_pg_dump_of_another_major_version_than_the_server_is_refused(app, tmp_path):
    # Only version 15 is installed here: a stand-in that answers as pg_dump 14 does.
    fake = tmp_path / "bin" / "pg_dump"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 14.11'\n")
    fake.chmod(0o755)
    app.config["PG_BIN_DIR"] = str(fake.parent)
    refused = app.test_cli_runner().invoke(args=["backup", "--out", str(tmp_path / "portal.tar")])
    assert refused.exit_code != 0 and "pg_dump là bản 14 nhưng máy chủ PostgreSQL là bản 15" in refused.output
    assert not (tmp_path / "portal.tar").exists() and not (tmp_path / "portal.tar.partial").exists()


@pytest.mark.slow
def test_backup_and_restore_as_processes_put_the_demo_keys_and_secret_key_back(tmp_path):
    """The contract as an operator runs it, with no key configured: the demo pair under the data
    directory and the generated secret key come back where a fresh portal reads them."""
    def flask(*args, **env):
        full = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")} | env
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=full,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    source = {"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}", "PORTAL_DATA_DIR": str(tmp_path / "a"),
              "PORTAL_SECRET_KEY_FILE": str(tmp_path / "a-secret")}
    target = {"DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "PORTAL_DATA_DIR": str(tmp_path / "b"),
              "PORTAL_SECRET_KEY_FILE": str(tmp_path / "b-secret")}
    flask("db", "upgrade", **source)
    flask("signing-key", **source)
    flask("backup", "--out", str(tmp_path / "nightly.tar"), **source)
    assert "Restored from" in flask("restore", str(tmp_path / "nightly.tar"), **target)
    assert (tmp_path / "b-secret").read_text() == (tmp_path / "a-secret").read_text()
    for name in ("demo-signer.p12", "demo-ca.pem"):
        assert (tmp_path / "b" / "signing" / name).read_bytes() == (tmp_path / "a" / "signing" / name).read_bytes()
    assert "Using the DEMO signing key" in flask("signing-key", **target)


def test_a_file_altered_in_the_store_is_named_by_backup_and_left_out_by_restore(
        app, backend, db_url, tmp_path, world, pdfs, schema_kept):
    whole = make_result(world, pdfs[0], reviewer="reviewer_a")
    damaged = make_result(world, pdfs[1], document_number="2/GP-SKHCN", reviewer="reviewer_a")
    path = storage().path_for(damaged.document.sha256)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"\n%tampered")
    archive = tmp_path / "portal.tar"
    made = app.test_cli_runner().invoke(args=["backup", "--out", str(archive)])
    assert made.exit_code == 1 and f"ALTERED  {damaged.document.sha256}" in made.output and archive.exists()
    kept_sha = whole.document.sha256

    target = make_app(empty_target(backend, db_url, tmp_path), tmp_path / "target-data",
                      SECRET_KEY_FILE=str(tmp_path / "target-secret-key"))
    with target.app_context():
        restored = target.test_cli_runner().invoke(args=["restore", str(archive)])
        assert restored.exit_code == 0 and "1 stored file(s) had been altered" in restored.output, restored.output
        assert sorted(storage().stored()) == [kept_sha]
        checked = target.test_cli_runner().invoke(args=["fixity"])
        assert checked.exit_code == 1 and f"MISSING  {damaged.document.sha256}" in checked.output
        db.session.remove()
        db.engine.dispose()


def test_a_backup_that_cannot_be_written_says_so_and_leaves_nothing(app, tmp_path, world):
    """A folder the archive cannot go to (here /proc, where no file can be made): a sentence,
    not a traceback, and no partial archive anywhere."""
    made = app.test_cli_runner().invoke(args=["backup", "--out", "/proc/portal-backup.tar"])
    assert made.exit_code != 0 and "Không ghi được tệp sao lưu" in made.output
    assert not list(tmp_path.glob("**/*.partial"))
