"""An indexer process beside a long write: while a large batch import commits its groups of
rows, this process drains the index queue they fill, on the other core, so that the import does
not index everything at its end. It is what a web process's background indexer does, for a
command-line import that may run with no web process up.

Nothing depends on it: the queue is in the database, so rows it has not indexed when the import
ends (or if it dies) are indexed by the import's own last drain.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app

log = logging.getLogger(__name__)
INTERVAL = 2.0  # seconds between drains: a segment per ~200 rows, not one per group
CONFIG_KEYS = ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "PORTAL_DATA_DIR")


@contextmanager
def indexing_alongside(enabled: bool = True) -> Iterator[None]:
    """Run the body with an indexer process draining the queue beside it (when `enabled`; never
    with the PostgreSQL backend, which has no queue)."""
    if not enabled or current_app.config.get("SEARCH_BACKEND", "whoosh") != "whoosh":
        yield
        return
    context = multiprocessing.get_context("spawn")  # a web process has threads a fork would copy
    stop = context.Event()
    process = context.Process(target=_run, args=({k: current_app.config[k] for k in CONFIG_KEYS}, stop, os.getpid()),
                              name="portal-indexer", daemon=True)
    process.start()
    try:
        yield
    finally:
        stop.set()
        process.join(timeout=120)
        if process.is_alive():  # the caller's own drain indexes what is left
            process.terminate()
            process.join()


def _run(config: dict, stop, parent: int) -> None:
    # A bare application: the database and the index, none of the web's views or extensions.
    from flask import Flask

    from ..extensions import db
    from ..processes import helper_process
    from . import search_index
    from .queue import drain

    helper_process(parent)
    app = Flask("portal-indexer")
    app.config.update(config)
    db.init_app(app)
    with app.app_context():
        index = search_index()
        while True:
            stopping = stop.wait(INTERVAL)
            try:
                drain(index, timeout=INTERVAL)
            except Exception:
                log.exception("indexing beside the import failed; the import's own drain will index the rest")
                return
            finally:
                db.session.remove()
            if stopping:
                return

