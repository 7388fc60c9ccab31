"""Background work: web import jobs, OCR, holders' data exports ("Dữ liệu của tôi"), the messages
to the national data store, and now and then the removal of ended import jobs' folders and of
expired data exports, and the look for results whose validity ended.

The queues are tables in the database (import_batches, stored_files.ocr_status, data_exports,
outbox_messages), so any process on any node can take the next item. Who takes it is a setting:
with PORTAL_INPROCESS_JOBS=1 (the default: one command, `make run`, does everything) each web
process runs a thread of this work, started by its first request; with 0 the web processes run
none and `flask --app wsgi worker` processes (as many as wanted, on any node) do. An import job, a
data export or a scan's recognition is taken by claim() and held for a lease (JOB_LEASE_SECONDS)
its worker renews as it goes: a worker that died (kill -9, a lost node) leaves the item to another
once the lease has run out, at most MAX_ATTEMPTS runs. Outbox messages are held by a row lock for
the transaction that sends them.

The Whoosh index is not in this: it is kept on each node by its web processes (portal/search),
whatever this setting, and by a worker that shares the node's data directory.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import select, update

from .extensions import db
from .timeutil import utcnow

log = logging.getLogger(__name__)
TIDY_SECONDS = 3600.0  # between two looks, in one process, for import folders to remove
_next_tidy = 0.0


def node() -> str:
    return socket.gethostname()[:100]


def worker_id() -> str:
    """Who holds a lease: the node and the process (a thread of a web process, or a worker)."""
    return f"{node()}:{os.getpid()}"[:120]


def lease_until() -> datetime:
    """The end of a lease taken or renewed now."""
    return utcnow() + timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])


def claim(model, takeable, values: dict, *, columns=(), usable=None, candidates: int = 1):
    """Take one row of `model` that `takeable` allows, for this process, and commit: candidates are
    read (locked with SKIP LOCKED on PostgreSQL, so that workers claiming at once take different
    rows, none waiting), then the first `usable(row)` one is set to `values` by an UPDATE that
    checks `takeable` again (on SQLite that alone makes one winner). `columns` are read with the
    id for `usable`, which passes over what this process cannot run. The row, or None."""
    query = select(model.id, *columns).where(takeable).order_by(model.id).limit(candidates)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    for _try in range(5):  # another process may win the row between the read and the update
        found = next((row.id for row in db.session.execute(query) if usable is None or usable(row)), None)
        if found is None:
            db.session.rollback()
            return None
        taken = db.session.execute(update(model).where(model.id == found, takeable).values(**values)).rowcount
        db.session.commit()
        if taken:
            return db.session.get(model, found)
    return None


def run_once(should_stop=lambda: False) -> bool:
    """Take one import job, a few OCR pages and a few outbox messages; True if anything was done."""
    from . import ocr, outbox
    from .operations import imports, mydata

    did = False
    batch = imports.claim_next_web_batch()
    if batch is not None:
        imports.run_web_batch(batch)
        did = True
    export = mydata.claim_next_export()  # a holder's large "Dữ liệu của tôi"
    if export is not None:
        mydata.run_export(export)
        did = True
    tidy_if_due()
    if should_stop():
        return did
    did = ocr.run_pending(limit=3) > 0 or did
    outbox.queue_expired_if_due()
    # Four claims a turn: with 20 a turn the other queues' looks between them held the worker to ~440 messages/s.
    return outbox.send_due(limit=4 * outbox.SEND_BATCH, should_stop=should_stop) > 0 or did


def tidy_if_due() -> None:
    """Remove the folders of ended import jobs (operations.imports.remove_expired_job_files) and the
    expired data exports' ZIPs (operations.mydata.remove_expired_exports), at most once every
    TIDY_SECONDS in this process: a failed job's are kept for days and an expired ZIP is no longer
    served, so an hour late is nothing, and the look costs a query and a directory listing."""
    global _next_tidy
    if time.monotonic() < _next_tidy:
        return
    _next_tidy = time.monotonic() + TIDY_SECONDS
    from .operations import imports

    removed = imports.remove_expired_job_files()
    if removed:
        log.info("removed the folders of %d ended import jobs", removed)
    from .operations import mydata

    if expired := mydata.remove_expired_exports():
        log.info("removed %d expired data exports", expired)


def _loop(app: Flask, interval: float) -> None:
    while True:
        with app.app_context():
            try:
                busy = run_once()
            except Exception:
                log.exception("background job failed; will retry")
                busy = False
            finally:
                db.session.remove()
        if not busy:
            time.sleep(interval)


def init_app(app: Flask) -> None:
    started_in: set[int] = set()
    lock = threading.Lock()

    @app.before_request
    def start_jobs_for_this_process():
        interval = app.config.get("JOBS_INTERVAL", 3.0)
        pid = os.getpid()  # gunicorn forks: each worker starts its own
        if not interval or not app.config.get("INPROCESS_JOBS", True) or pid in started_in:
            return
        with lock:
            if pid not in started_in:
                started_in.add(pid)
                threading.Thread(target=_loop, args=(app, interval), name="jobs", daemon=True).start()
