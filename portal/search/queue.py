"""Every change to a result reaches the index through a queue table in the database.

On PostgreSQL the same flush also writes the result's row of the search table (postgresql.py),
whichever backend searches: switching to the PostgreSQL backend needs no rebuild. The queue is
filled only for Whoosh.

A flush that touches a result (or its procedure, or a file's text) adds queue rows in the same
transaction; `drain` writes the queued results to the index and deletes their rows. A process
that dies after committing leaves its rows for the next drain: nothing is lost, and a drain that
finds Whoosh's lock held by another process leaves the rows for that one or the next.
"""

from __future__ import annotations

import logging

from flask import current_app, has_app_context
from sqlalchemy import delete, event, insert, select, update
from sqlalchemy.orm import Session, selectinload

from ..extensions import db
from ..models import IndexQueueEntry, Procedure, Result, ResultFile, StoredFile
from . import postgresql
from .index import IndexUnavailable, LockError, SearchIndex, no_merge
from .schema import document_for

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


@event.listens_for(Session, "after_flush")
def _enqueue_changed_results(session: Session, _context) -> None:
    result_ids: set[int] = set()
    procedure_ids: set[int] = set()
    file_ids: set[int] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Result) and obj.id is not None:
            result_ids.add(obj.id)
        elif isinstance(obj, ResultFile) and obj.result_id is not None:
            result_ids.add(obj.result_id)
        elif isinstance(obj, Procedure) and obj in session.dirty and obj.id is not None:
            procedure_ids.add(obj.id)
        elif isinstance(obj, StoredFile) and obj in session.dirty and obj.id is not None:
            file_ids.add(obj.id)
    # Core statements on the flush's own connection: no autoflush, same transaction.
    connection = session.connection()
    if procedure_ids:
        result_ids.update(connection.scalars(select(Result.id).where(Result.procedure_id.in_(procedure_ids))))
    if file_ids:
        result_ids.update(connection.scalars(select(ResultFile.result_id).where(ResultFile.file_id.in_(file_ids))))
    if not result_ids:
        return
    if connection.dialect.name == "postgresql":
        postgresql.refresh(connection, result_ids)
    if _whoosh_searches():
        connection.execute(insert(IndexQueueEntry), [{"result_id": rid} for rid in sorted(result_ids)])
        session.info["search_pending"] = True


def _whoosh_searches() -> bool:
    # Outside an application (a bare script) the queue is kept: it is only ever too much, never lost.
    return not has_app_context() or current_app.config.get("SEARCH_BACKEND", "whoosh") == "whoosh"


def enqueue_all_since(moment) -> int:
    """Queue every result changed since `moment` (used after a rebuild to catch up)."""
    ids = list(db.session.scalars(select(Result.id).where(Result.updated_at >= moment)))
    if ids:
        db.session.execute(insert(IndexQueueEntry), [{"result_id": rid} for rid in ids])
        db.session.commit()
    return len(ids)


def pending() -> int:
    from sqlalchemy import func

    return db.session.scalar(select(func.count(IndexQueueEntry.id)).where(IndexQueueEntry.attempts < MAX_ATTEMPTS))


def replacer(index: SearchIndex, writer):
    """replace(id, document or None): delete the indexed version of a result, add the new one.

    Whoosh's update_document opens every segment again to find the old version; the process's
    searcher has them open already and, since we hold the writer, reads the very commit the writer
    starts from, so its document numbers are the writer's.
    """
    searcher = index.searcher()
    if index.generation != writer.generation - 1:
        def replace_slow(result_id, document):
            if document is None:
                writer.delete_by_term("id", result_id)
            else:
                writer.update_document(**document)
        return replace_slow

    def replace(result_id, document):
        for docnum in searcher.document_numbers(id=result_id):
            writer.delete_document(docnum)
        if document is not None:
            writer.add_document(**document)
    return replace


def drain(index: SearchIndex, *, timeout: float = 2.0, batch: int = 500, follow: bool = True) -> int:
    """Index queued results until the queue is empty; returns how many rows were handled.

    Stops early, leaving rows queued, when another process holds the writer for `timeout`
    seconds or the index is unavailable. With `follow` False it also stops after a batch that was
    not full: it has caught up, and what was queued meanwhile waits for the next turn (a periodic
    indexer chasing a steady stream of pushes committed a tiny segment every few results).
    """
    handled = 0
    while True:
        # A cheap look first: most of the time there is nothing to do, and no lock to take.
        waiting = select(IndexQueueEntry.id).where(IndexQueueEntry.attempts < MAX_ATTEMPTS).limit(1)
        if db.session.scalar(waiting) is None:
            db.session.commit()
            return handled
        try:
            writer = index.writer(timeout=timeout)
        except (LockError, IndexUnavailable):
            db.session.rollback()
            return handled
        # Rows are read only while holding the writer: a drainer that read them before could
        # otherwise delete rows another drainer had already handled and replaced.
        try:
            rows = db.session.execute(
                select(IndexQueueEntry.id, IndexQueueEntry.result_id)
                .where(IndexQueueEntry.attempts < MAX_ATTEMPTS).order_by(IndexQueueEntry.id).limit(batch)
            ).all()
            if not rows:
                writer.cancel()
                db.session.commit()
                return handled
            wanted = {row.result_id for row in rows}
            results = db.session.scalars(
                select(Result).where(Result.id.in_(wanted))
                .options(selectinload(Result.files).selectinload(ResultFile.file))
            ).all()
            replace = replacer(index, writer)
            failed: dict[int, str] = {}
            for result in results:
                try:
                    document = document_for(result)
                    replace(document["id"], document)
                except Exception as err:  # noqa: BLE001 - one bad row must not block the others
                    failed[result.id] = f"{type(err).__name__}: {err}"[:2000]
            for missing in wanted - {r.id for r in results}:
                replace(str(missing), None)
            writer.commit(mergetype=no_merge)
        except BaseException:
            writer.cancel()
            db.session.rollback()
            raise
        done = [row.id for row in rows if row.result_id not in failed]
        if done:
            db.session.execute(delete(IndexQueueEntry).where(IndexQueueEntry.id.in_(done)))
        for result_id, error in failed.items():
            log.error("result %s could not be indexed: %s", result_id, error)
            db.session.execute(update(IndexQueueEntry).where(IndexQueueEntry.result_id == result_id)
                               .values(attempts=IndexQueueEntry.attempts + 1, last_error=error))
        db.session.commit()
        handled += len(rows)
        if not follow and len(rows) < batch:
            return handled
