"""Background work taken by `flask --app wsgi worker` processes (issue 16, item 5): two workers on
the same database, a web import job taken by the first, which is killed with SIGKILL half-way; the
second takes the job over once the first's lease has run out and finishes it, every row imported
exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import ImportBatch, ImportRow, Result

from .conftest import CCCD_A, login
from .redis_service import stop_process
from .test_import import row
from .test_web_import import make_zip, manifest_csv, post_import

ROOT = Path(__file__).resolve().parent.parent
ROWS = 150  # three groups of imports.COMMIT_EVERY: the first worker is killed after one
LEASE = 3  # seconds: short, so that the test waits little for the dead worker's lease
pytestmark = pytest.mark.slow


def many_pdfs(count: int) -> list[bytes]:
    """`count` distinct real one-page PDFs (distinct files: the store refuses one file for two results)."""
    from portal.demo.documents import Spec, render_many

    return render_many([
        Spec(department="Sở Khoa học và Công nghệ tỉnh Quảng Ngãi", province="Quảng Ngãi",
             number=f"{n}/GP-SKHCN", issue_date=date(2019, 5, 1), title="GIẤY PHÉP TIẾN HÀNH CÔNG VIỆC BỨC XẠ",
             holder_label="Người được cấp", holder_name="Phạm Minh Khánh", holder_id=CCCD_A,
             address="Số 12 Hùng Vương, phường Trần Phú, thành phố Quảng Ngãi",
             signer_name="Trần Văn Hùng", signer_title="Giám đốc", body=[f"Thiết bị X-quang chẩn đoán số {n}."])
        for n in range(1, count + 1)])


class Worker:
    """`flask --app wsgi worker` in its own process, the web processes running no background work."""

    def __init__(self, db_url: str, data_dir: Path, name: str, env: dict | None = None):
        env = {**os.environ, "DATABASE_URL": db_url, "PORTAL_DATA_DIR": str(data_dir), "SECRET_KEY": "workers",
               "PORTAL_INPROCESS_JOBS": "0", "PORTAL_JOB_LEASE_SECONDS": str(LEASE), **(env or {})}
        self.log = data_dir.parent / f"{name}.log"
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--interval", "0.2"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        stop_process(self.process, grace=20)


def wait_for(what, seconds: float, message: str, workers: list[Worker], state=lambda: ""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()  # a fresh look at what the workers committed
        found = what()
        if found:
            return found
        time.sleep(0.05)
    logs = "\n".join(w.log.read_text(errors="replace")[-3000:] for w in workers if w.log.exists())
    raise AssertionError(f"{message} {state()}\n{logs}")


@pytest.fixture
def workers(app, db_url):
    started: list[Worker] = []
    data_dir = Path(app.config["PORTAL_DATA_DIR"])

    def start(name: str, own_data_dir: Path | None = None, env: dict | None = None) -> Worker:
        worker = Worker(db_url, own_data_dir or data_dir, name, env)
        started.append(worker)
        return worker

    start.started = started
    yield start
    for worker in started:
        worker.stop()


def test_a_worker_killed_in_an_import_leaves_the_job_to_another_which_finishes_it_once(app, client, world,
                                                                                       workers):
    kill_one_mid_import(client, workers)


def kill_one_mid_import(client, workers, start_worker=None, send=None) -> int:
    """Upload a web import of ROWS rows as staff_a (through `send(archive, name)`, else the test
    client), let a first worker take it, kill it with SIGKILL once some rows are in; a second worker
    finishes the job, each row once. The job's id."""
    start_worker = start_worker or workers
    scans = many_pdfs(ROWS)
    rows = [row(n, issue_date="2019-05-01") for n in range(1, ROWS + 1)]
    archive = make_zip({"bang-ke.csv": manifest_csv(rows), **{f"scans/{n}.pdf": scans[n - 1]
                                                               for n in range(1, ROWS + 1)}})
    if send is None:
        login(client, "staff_a")
        assert post_import(client, archive, "lo-150.zip").status_code == 302
    else:
        send(archive, "lo-150.zip")
    batch_id = db.session.scalars(select(ImportBatch.id)).one()

    def batch() -> ImportBatch:
        return db.session.get(ImportBatch, batch_id)

    def rows_in() -> int:
        return db.session.scalar(select(func.count(ImportRow.id)).where(ImportRow.batch_id == batch_id))

    first = start_worker("worker-1")
    wait_for(lambda: batch().leased_by and batch().leased_by.endswith(f":{first.pid}"), 30,
              "the first worker did not take the job", workers.started)
    second = start_worker("worker-2")
    wait_for(lambda: 0 < rows_in() < ROWS, 30, "no rows went in while the first worker held the job",
              workers.started, lambda: f"{rows_in()} rows in, {batch().status}, held by {batch().leased_by}")
    assert batch().leased_by.endswith(f":{first.pid}")  # the second, started meanwhile, left it alone
    first.kill()
    in_when_killed = rows_in()
    assert in_when_killed < ROWS

    wait_for(lambda: batch().status == "done", 30, "the second worker did not finish the job", workers.started)
    job = batch()
    assert job.leased_by.endswith(f":{second.pid}") and job.attempts == 2
    lines = db.session.scalars(select(ImportRow.line).where(ImportRow.batch_id == batch_id)).all()
    assert sorted(lines) == [r + 2 for r in range(ROWS)]  # lines 2..41 (line 1 is the header), each once
    results = db.session.scalars(select(Result).where(Result.import_batch_id == batch_id)).all()
    assert len(results) == ROWS and len({r.document_number for r in results}) == ROWS
    assert (job.imported, job.skipped, job.failed) == (ROWS, 0, 0)
    assert second.process.poll() is None  # alive, waiting for more work
    return batch_id
