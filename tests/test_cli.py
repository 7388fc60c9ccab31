"""The command line (README: Command line): real commands, run in-process and (for the contract) as a process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Result, StoredFile, Unit, User
from portal.storage import storage

from .conftest import make_result

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=list(args))

    return run


def test_create_unit(cli):
    ok = cli("create-unit", "000.07.21.h48", "--name", "Trung tâm Ứng dụng tiến bộ KH&CN")
    assert ok.exit_code == 0, ok.output
    assert db.session.scalars(select(Unit.code)).all() == ["000.07.21.H48"]
    again = cli("create-unit", "000.07.21.H48", "--name", "X")
    assert again.exit_code != 0 and "đã tồn tại" in again.output
    bad = cli("create-unit", "H48", "--name", "X")
    assert bad.exit_code != 0 and "QCVN 102:2016" in bad.output


def test_create_user_of_each_kind(cli):
    cli("create-unit", "000.02.21.H48", "--name", "Phòng Quản lý chuyên ngành")
    assert cli("create-user", "root", "--role", "admin", "--password", "mot-mat-khau-dai").exit_code == 0
    assert cli("create-user", "cb", "--role", "staff", "--password", "mot-mat-khau-dai",
               "--unit", "000.02.21.H48").exit_code == 0
    result = cli("create-user", "dn", "--role", "holder", "--password", "mot-mat-khau-dai",
                 "--holder-id", "0100112437001", "--name", "Công ty A")
    assert result.exit_code == 0, result.output
    holder = db.session.scalars(select(User).where(User.username == "dn")).one()
    assert holder.holder_id == "0100112437-001" and holder.holder_kind == "organisation"
    assert holder.password_hash != "mot-mat-khau-dai" and holder.check_password("mot-mat-khau-dai")

    failures = [
        (["create-user", "x1", "--role", "staff", "--password", "mot-mat-khau-dai"], "phải thuộc một đơn vị"),
        (["create-user", "x2", "--role", "staff", "--password", "mot-mat-khau-dai", "--unit", "000.09.21.H48"],
         "Không có đơn vị"),
        (["create-user", "x3", "--role", "holder", "--password", "mot-mat-khau-dai"], "CCCD hoặc mã số thuế"),
        (["create-user", "x4", "--role", "holder", "--password", "mot-mat-khau-dai", "--holder-id", "0100112438"],
         "chữ số kiểm tra"),
        (["create-user", "x5", "--role", "admin", "--password", "ngan"], "ít nhất 10 ký tự"),
        (["create-user", "root", "--role", "admin", "--password", "mot-mat-khau-dai"], "đã có người dùng"),
        (["create-user", "x6", "--role", "boss", "--password", "mot-mat-khau-dai"], "Invalid value"),
    ]
    for args, message in failures:
        outcome = cli(*args)
        assert outcome.exit_code != 0 and message in outcome.output, (args, outcome.output)
    assert db.session.scalar(select(func.count(User.id))) == 3


def test_fixity_finds_missing_and_altered_files(cli, world, pdfs):
    first = make_result(world, pdfs[0])
    second = make_result(world, pdfs[1], document_number="2/GP-SKHCN")
    ok = cli("fixity")
    assert ok.exit_code == 0 and "2 files checked: 0 missing, 0 altered" in ok.output

    altered = storage().path_for(first.document.sha256)
    altered.chmod(0o644)
    altered.write_bytes(altered.read_bytes() + b"\n%tampered")
    storage().path_for(second.document.sha256).unlink()
    bad = cli("fixity")
    assert bad.exit_code == 1
    assert f"ALTERED  {first.document.sha256}" in bad.output
    assert f"MISSING  {second.document.sha256}" in bad.output
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "fixity.check")).all()
    assert events[-1].details == {"files": 2, "missing": 1, "altered": 1, "missing_files": [second.document.sha256],
                                  "altered_files": [first.document.sha256]}


@pytest.mark.slow
def test_seed_demo_is_idempotent(clock, cli):  # the demo's issue dates are drawn up to today
    first = cli("seed-demo", "--results", "30")
    assert first.exit_code == 0, first.output
    count = db.session.scalar(select(func.count(Result.id)))
    assert count >= 30
    statuses = set(db.session.scalars(select(Result.status)))
    assert "published" in statuses
    years = set(db.session.scalars(select(Result.formed_year)))
    assert min(years) <= 1995 and max(years) >= 2022
    second = cli("seed-demo", "--results", "30")
    assert second.exit_code == 0 and "0 results added" in second.output
    assert db.session.scalar(select(func.count(Result.id))) == count
    # Every demo result has a real PDF with a text layer.
    for stored in db.session.scalars(select(StoredFile)):
        assert stored.page_count >= 1 and "SỞ KHOA HỌC VÀ CÔNG NGHỆ" in stored.text
    assert cli("fixity").exit_code == 0
    for username in ("admin", "canbo", "kiemtra", "congdan", "doanhnghiep"):
        assert db.session.scalars(select(User).where(User.username == username)).one()


def test_db_upgrade_as_a_process_on_a_fresh_database(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}", "PORTAL_DATA_DIR": str(tmp_path)}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    done = subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    bad = subprocess.run([*flask, "create-unit", "nope", "--name", "X"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "QCVN 102:2016" in bad.stderr
