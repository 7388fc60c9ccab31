"""Search: the one interface the rest of the portal uses.

Two backends, chosen by SEARCH_BACKEND (PORTAL_SEARCH_BACKEND): "whoosh", a local index kept from
a queue (the embedded default), and "postgresql", a table the database writes with each result
(postgresql.py; every node sees a change at commit). The database is the source of truth: a
backend only proposes result ids, and every hit is loaded again through `visible_results(user)`
before anyone sees it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..access import scope_of, visible_results
from ..extensions import db
from ..models import Result, ResultFile
from ..timeutil import utcnow
from . import postgresql, queries
from .index import MISSING, OK, REBUILDING, IndexUnavailable, SearchIndex
from .queries import Filters, Hit
from .queue import drain, enqueue_all_since
from .restriction import whoosh_restriction
from .schema import TEXT_FIELDS, document_for

log = logging.getLogger(__name__)
__all__ = ["Filters", "Hit", "IndexUnavailable", "ResultsPage", "rebuild", "search_index", "search_results", "sync",
           "init_app"]
WHOOSH, POSTGRESQL = "whoosh", "postgresql"


def backend(app: Flask | None = None) -> str:
    return (app or current_app).config.get("SEARCH_BACKEND", WHOOSH)


def _check_backend(app: Flask) -> None:
    """Refuse at start-up what cannot work, rather than at the first search."""
    name = backend(app)
    if name not in (WHOOSH, POSTGRESQL):
        raise RuntimeError(f"PORTAL_SEARCH_BACKEND={name!r}: choose {WHOOSH!r} or {POSTGRESQL!r}")
    if name == POSTGRESQL and not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        raise RuntimeError("PORTAL_SEARCH_BACKEND=postgresql searches in the database: it needs DATABASE_URL to be "
                           "a PostgreSQL database, not SQLite (or use PORTAL_SEARCH_BACKEND=whoosh)")


def search_index() -> SearchIndex:
    ext = current_app.extensions
    if "portal_search" not in ext:
        ext["portal_search"] = SearchIndex(Path(current_app.config["PORTAL_DATA_DIR"]) / "index")
    return ext["portal_search"]


def _batches(size: int):
    # A session of its own, emptied after each batch: memory stays flat over a million rows, and
    # the caller's objects (the current user, say) stay attached to theirs.
    with Session(db.engine) as session:
        last_id = 0
        while True:
            chunk = session.scalars(
                select(Result).where(Result.id > last_id).order_by(Result.id).limit(size)
                .options(selectinload(Result.files).selectinload(ResultFile.file))
            ).all()
            if not chunk:
                return
            last_id = chunk[-1].id
            yield [document_for(result) for result in chunk]
            session.expunge_all()


def rebuild(progress=None, batch_size: int = 2000, procs: int = 1) -> int:
    """Rebuild the index from the database into a fresh directory and swap it in.

    Changes committed while it runs are caught up afterwards from `updated_at`. With PostgreSQL:
    every row of the search table written again from its result, a batch per transaction.
    """
    if backend() == POSTGRESQL:
        return postgresql.rebuild(db.session, progress, batch_size)
    index = search_index()
    with index.rebuild_lock():
        return _rebuild_holding_lock(index, progress, batch_size, procs)


def _rebuild_holding_lock(index: SearchIndex, progress=None, batch_size: int = 2000, procs: int = 1) -> int:
    started = utcnow() - timedelta(seconds=1)
    total = db.session.scalar(select(func.count(Result.id)))
    previous_state, index.state = index.state, REBUILDING
    try:
        directory = index.build(_batches(batch_size), progress, procs=procs)
    except BaseException:
        index.state = previous_state
        raise
    index.swap_in(directory)
    enqueue_all_since(started)
    drain(index)
    return total


def sync(timeout: float = 2.0) -> int:
    """Write queued changes to the index now, if the writer can be had within `timeout`.
    (PostgreSQL: nothing is ever queued, the change was written with the result.)"""
    if backend() == POSTGRESQL:
        return 0
    return drain(search_index(), timeout=timeout)


def health() -> tuple[bool, str]:
    if backend() == POSTGRESQL:
        return postgresql.health(db.session)
    index = search_index()
    if index.state == REBUILDING:
        return False, "rebuilding"
    try:
        index.doc_count()
    except IndexUnavailable as err:
        return False, str(err)
    return True, "ok"


@dataclass
class ResultsPage:
    items: list[tuple[Result, queries.Hit]] = field(default_factory=list)
    page: int = 1
    per_page: int = 20
    has_next: bool = False

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def _texts(ids: list[int]) -> dict[int, tuple[str, str]]:
    rows = db.session.scalars(select(Result).where(Result.id.in_(ids))
                              .options(selectinload(Result.files).selectinload(ResultFile.file))).all()
    return {r.id: (r.summary, (r.document.text or "") if r.document else "") for r in rows}


def search_results(user, q: str, filters: Filters, *, page: int = 1, per_page: int = 20) -> ResultsPage:
    """One page of the results `user` may see that match `q` and `filters`.

    Sorted by relevance when words were typed, else newest first.
    """
    if backend() == POSTGRESQL:
        hits = postgresql.hit_page(db.session, scope_of(user), q, filters, page=page, per_page=per_page,
                                   candidates=current_app.config.get("SEARCH_PG_CANDIDATES", postgresql.CANDIDATES))
    else:
        query, has_words = queries.build(whoosh_restriction(scope_of(user)), q, filters, TEXT_FIELDS)
        hits = queries.run(search_index().searcher(), query, page=page, per_page=per_page,
                           by_relevance=has_words, texts=_texts)
    ids = [hit.result_id for hit in hits.hits]
    allowed = {r.id: r for r in db.session.scalars(visible_results(user).where(Result.id.in_(ids)))} if ids else {}
    items = [(allowed[hit.result_id], hit) for hit in hits.hits if hit.result_id in allowed]
    return ResultsPage(items, hits.page, hits.per_page, hits.has_next)


# -- keeping the index up to date in a web process ---------------------------------------------

def _ensure_index(app: Flask) -> None:
    """At a process's first request: open the index, or rebuild it from the database."""
    with app.app_context():
        index = search_index()
        try:
            index.doc_count()
            return
        except IndexUnavailable as err:
            reason = str(err)
        log.error("search index is %s; rebuilding it from the database", reason)

        def work():
            with app.app_context():
                try:
                    with index.rebuild_lock():
                        index.state = MISSING
                        try:
                            index.doc_count()  # another process may have rebuilt it meanwhile
                            return
                        except IndexUnavailable:
                            pass
                        count = _rebuild_holding_lock(index)
                    log.warning("search index rebuilt: %s results", count)
                except Exception:
                    log.exception("search index rebuild failed")
                    index.state = MISSING
                finally:
                    db.session.remove()

        index.state = REBUILDING
        if app.config.get("SEARCH_REBUILD_IN_BACKGROUND", True):
            threading.Thread(target=work, name="index-rebuild", daemon=True).start()
        else:
            work()


def _background_indexer(app: Flask, interval: float) -> None:
    while True:
        time.sleep(interval)
        with app.app_context():
            try:
                if search_index().state == OK:
                    drain(search_index(), timeout=interval, follow=False)
                    search_index().compact()  # after catching up, in this thread: no request waits on it
            except Exception:
                log.exception("background indexing failed; will retry")
            finally:
                db.session.remove()


def _indexed_later(app: Flask) -> bool:
    """A machine client's change (a push, a revocation) is left to this process's indexer: nobody
    reads it back from the index in the same breath, and the indexer writes a burst of them in one
    index commit instead of one commit (and one searcher refresh) per request (bench/api.py)."""
    from .. import audit

    return audit.calling_client() is not None and bool(app.config.get("SEARCH_INDEXER_INTERVAL"))


def init_app(app: Flask) -> None:
    _check_backend(app)
    if backend(app) == POSTGRESQL:
        return  # nothing to open, rebuild or index in the background: the database does it all
    started_in: set[int] = set()
    lock = threading.Lock()

    @app.before_request
    def start_search_for_this_process():
        pid = os.getpid()  # gunicorn forks: each worker starts its own
        if pid in started_in:
            return
        with lock:
            if pid in started_in:
                return
            started_in.add(pid)
            _ensure_index(app)
            interval = app.config.get("SEARCH_INDEXER_INTERVAL", 2.0)
            if interval:
                threading.Thread(target=_background_indexer, args=(app, interval), name="indexer",
                                 daemon=True).start()

    @app.after_request
    def index_what_this_request_changed(response):
        if db.session.info.pop("search_pending", False):
            if _indexed_later(app):
                return response
            try:
                sync(timeout=1.0)
            except Exception:  # the queue keeps the change; the background indexer retries
                log.exception("indexing after the request failed")
        return response
