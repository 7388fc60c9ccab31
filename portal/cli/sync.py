"""`flask --app wsgi ...`: all background work in one process, and the sync to the national data store."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import Flask

from ..extensions import db

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--interval", default=1.0, show_default=True, help="Seconds to wait when there is nothing to do.")
    def worker(interval: float) -> None:
        """Run all background work (index queue, imports, OCR, national sync) until SIGTERM or SIGINT.
        The item in hand is finished first; a message being posted is at most one timeout away.
        Any number may run, on any node: each takes an item with a lease (PORTAL_JOB_LEASE_SECONDS)."""
        from .. import jobs, search

        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        click.echo(f"worker started: {jobs.worker_id()} (the name its leases carry)", err=True)
        while not stop.is_set():
            busy = False
            try:
                busy = jobs.run_once(should_stop=stop.is_set)
                busy = search.sync(timeout=interval) > 0 or busy
            except Exception:
                log.exception("background work failed; will retry")
            finally:
                db.session.remove()
            if not busy:
                stop.wait(interval)
        click.echo("worker stopped", err=True)

    @app.cli.command("sync-status")
    def sync_status() -> None:
        """How many messages to the national data store are pending, sent and failing."""
        from .. import outbox

        for status, count in outbox.counts().items():
            click.echo(f"{status} {count}")

    @app.cli.command("sync-reconcile")
    @click.option("--acknowledged", type=click.File("r", encoding="utf-8"),
                  help="The Idempotency-Keys the receiver holds, one a line; sent messages not among them go again.")
    def sync_reconcile(acknowledged) -> None:
        """Queue a message for every result whose current state the outbox has not got, and re-queue
        what the receiver did not acknowledge."""
        from .. import national_store, outbox

        if not national_store.enabled():
            raise click.ClickException("PORTAL_NATIONAL_STORE_URL is not set: there is nothing to reconcile with.")
        keys = {line.strip() for line in acknowledged if line.strip()} if acknowledged else None
        written, requeued = outbox.reconcile(keys)
        click.echo(f"written {written}")
        click.echo(f"requeued {requeued}")
