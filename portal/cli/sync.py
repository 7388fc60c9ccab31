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
        The item in hand is finished first; a message being posted is at most one timeout away."""
        from .. import jobs, search

        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        click.echo("worker started", err=True)
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
