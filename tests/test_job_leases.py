"""The rules of background work (issue 16, item 5): a job is held by its worker for a lease, taken by
another only once the lease has run out, kept by renewal; runs are counted and a job that dies on its
last is given up and shown to staff (/admin/jobs); the web processes run no background work when
PORTAL_INPROCESS_JOBS=0. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from portal import ocr, queues
from portal.config import load
from portal.extensions import db
from portal.models import ImportBatch, ImportRow
from portal.operations import imports

from .conftest import login, make_app, make_result
from .test_import import row
from .test_web_import import make_zip, manifest_csv, post_import

A, B = "node-a:101", "node-b:202"


def lease(app, share: float = 1.0) -> timedelta:
    return timedelta(seconds=app.config["JOB_LEASE_SECONDS"] * share)


@pytest.fixture
def job(app, client, world, pdfs, clock):
    """A web import job of one row, queued by unit A's clerk."""
    login(client, "staff_a")
    post_import(client, make_zip({"bang-ke.csv": manifest_csv([row(1, file="1.pdf")]), "1.pdf": pdfs[0]}), "lo.zip")
    return db.session.scalars(select(ImportBatch)).one()


def test_a_job_is_taken_over_only_once_its_lease_has_run_out_and_renewal_keeps_it(app, job, clock):
    taken = imports.claim_next_web_batch(A)
    assert (taken.id, taken.leased_by, taken.attempts, taken.status) == (job.id, A, 1, "running")
    assert imports.claim_next_web_batch(B) is None  # held

    clock.shift(lease(app, 0.8))
    imports._hold(job.id, A)  # what the worker does between rows and with each group
    db.session.commit()
    clock.shift(lease(app, 0.8))
    assert imports.claim_next_web_batch(B) is None  # renewed: still A's, past its first lease

    clock.shift(lease(app, 0.3))  # A renewed nothing for longer than a lease: it died
    taken = imports.claim_next_web_batch(B)
    assert (taken.id, taken.leased_by, taken.attempts) == (job.id, B, 2)

    # A was only slow: back, it finds its job taken over and writes nothing.
    with pytest.raises(imports.LeaseLost):
        imports._hold(job.id, A)
    manifest = next(imports.job_folder(job.id).glob("manifest.*"))
    with pytest.raises(imports.LeaseLost):
        imports.run_batch(db.session.get(ImportBatch, job.id), manifest, worker=A)
    assert db.session.scalar(select(func.count(ImportRow.id))) == 0

    done = imports.run_web_batch(db.session.get(ImportBatch, job.id))  # B's run
    assert (done.status, done.imported) == ("done", 1)
    assert db.session.scalars(select(ImportRow.line)).all() == [2]


def test_a_job_dying_on_every_run_is_given_up_after_max_attempts_and_shown_to_its_units_staff(app, client, job,
                                                                                               clock):
    for run in range(1, imports.MAX_ATTEMPTS + 1):
        worker = f"node-{run}:1"
        assert imports.claim_next_web_batch(worker).leased_by == worker
        assert db.session.get(ImportBatch, job.id).attempts == run
        clock.shift(lease(app) + timedelta(seconds=1))  # its worker died
    assert imports.claim_next_web_batch(B) is None
    given_up = db.session.get(ImportBatch, job.id)
    assert (given_up.status, given_up.error) == ("failed", imports.GIVEN_UP)

    page = client.get("/admin/jobs").get_data(as_text=True)  # staff_a, unit A
    assert "Công việc nền" in page and imports.GIVEN_UP in page and f"Lô {job.id}" in page
    assert "Không nhập được: <strong>1</strong>" in page
    assert "Nhận dạng chữ" not in page and "kho dữ liệu quốc gia</h2>" not in page  # an admin's

    other = app.test_client()
    login(other, "staff_b")
    page = other.get("/admin/jobs").get_data(as_text=True)
    assert imports.GIVEN_UP not in page and f"Lô {job.id}" not in page
    assert "Không nhập được: <strong>0</strong>" in page

    admin = app.test_client()
    login(admin, "admin")
    page = admin.get("/admin/jobs").get_data(as_text=True)
    assert imports.GIVEN_UP in page and "Nhận dạng chữ (OCR)" in page and "Đồng bộ kho dữ liệu quốc gia" in page
    assert "Chỉ mục tìm kiếm" in page and "PORTAL_INPROCESS_JOBS=1" in page

    holder = app.test_client()
    login(holder, "holder_a")
    assert holder.get("/admin/jobs").status_code == 404


def test_a_running_job_whose_lease_ran_out_is_shown_waiting_for_another_worker(app, client, job, clock):
    imports.claim_next_web_batch(A)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "Đang nhập: <strong>1</strong>" in page and "lần chạy thứ 1" in page
    clock.shift(lease(app) + timedelta(seconds=1))
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "Đang nhập: <strong>0</strong>" in page and "Chờ tiến trình khác nhận lại: <strong>1</strong>" in page


def test_a_scans_recognition_is_leased_taken_over_and_given_up_after_max_attempts(app, world, pdfs, clock):
    result = make_result(world, pdfs[0])
    scan = result.document
    scan.ocr_status = "pending"
    db.session.commit()
    recognition = timedelta(seconds=ocr.TIMEOUT_SECONDS + app.config["JOB_LEASE_SECONDS"])
    for run in range(1, ocr.MAX_ATTEMPTS + 1):
        taken = ocr.claim_next()
        assert taken.id == scan.id and (taken.ocr_status, taken.ocr_attempts) == ("running", run)
        assert ocr.claim_next() is None  # held while it may still be running
        clock.shift(recognition - timedelta(seconds=5))
        assert ocr.claim_next() is None
        clock.shift(timedelta(seconds=10))  # its worker died
    assert ocr.claim_next() is None
    db.session.refresh(scan)
    assert scan.ocr_status == "failed" and ocr.why_failed(scan) == ocr.GIVEN_UP

    admin = app.test_client()
    login(admin, "admin")
    page = admin.get("/admin/jobs").get_data(as_text=True)
    assert ocr.GIVEN_UP in page and f"/admin/results/{result.id}" in page


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_on_postgresql_a_claim_skips_a_job_another_worker_is_claiming(app, client, world, pdfs, clock, db_url):
    login(client, "staff_a")
    for n in (1, 2):
        post_import(client, make_zip({"bang-ke.csv": manifest_csv([row(n, file="1.pdf")]), "1.pdf": pdfs[n]}),
                    f"lo-{n}.zip")
    first, second = db.session.scalars(select(ImportBatch.id).order_by(ImportBatch.id)).all()
    other = create_engine(db.engine.url)
    try:
        with other.connect() as conn, conn.begin():
            conn.execute(text("SELECT id FROM import_batches WHERE id = :id FOR UPDATE"), {"id": first})
            taken = imports.claim_next_web_batch(B)  # does not wait for the other: takes the next
            assert taken.id == second
    finally:
        other.dispose()


def test_without_inprocess_jobs_a_web_process_starts_no_background_work(db_url, tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_INPROCESS_JOBS", raising=False)
    assert load(tmp_path)["INPROCESS_JOBS"] is True  # the embedded default: `make run` needs no worker
    monkeypatch.setenv("PORTAL_INPROCESS_JOBS", "0")
    assert load(tmp_path)["INPROCESS_JOBS"] is False

    web = make_app(db_url, tmp_path / "data", INPROCESS_JOBS=False, JOBS_INTERVAL=3.0)
    before = {t.name for t in threading.enumerate()}
    assert web.test_client().get("/login").status_code == 200
    assert "jobs" not in {t.name for t in threading.enumerate()} - before
    with web.app_context():
        assert queues.in_process() is False
        db.engine.dispose()


def test_a_job_received_on_another_node_is_left_to_a_worker_that_sees_its_files(app, job, tmp_path):
    import shutil

    from portal import jobs

    assert job.received_on == jobs.node()
    folder = imports.job_folder(job.id)
    away = shutil.move(folder, tmp_path / "on-node-b")  # its upload is on node B's disk
    job.received_on = "node-b"
    db.session.commit()
    assert imports.claim_next_web_batch(A) is None  # not failed for a manifest this node cannot see
    assert db.session.get(ImportBatch, job.id).status == "queued"

    shutil.move(away, folder)  # the nodes share the data directory, or this is node B
    assert imports.claim_next_web_batch(A).id == job.id
    assert imports.run_web_batch(db.session.get(ImportBatch, job.id)).status == "done"
