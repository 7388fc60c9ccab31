"""The outbox to the national data store: a message per state a published result
passes through, written in the transaction of the change, and a sender that delivers them.

The sender takes due messages a batch at a time (on PostgreSQL locked with FOR UPDATE SKIP LOCKED,
so several senders share the work; on SQLite one sender at a time, by a lock file), posts them on
one kept connection and settles the batch in one commit. A message is due when its retry time has
come and every earlier message of its result has been sent: a result's messages arrive in PhienBan
order. A refusal or no answer in time puts the message off with exponential backoff and jitter; it
is never given up, and after a day of failures it is shown as failing. A sender killed mid-batch
leaves the batch as it was: its messages are posted again, and the receiver knows them by their
Idempotency-Key.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import random
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import Select, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from . import national_store
from .extensions import db
from .models import OutboxMessage, Procedure, Result
from .models.outbox import FAILING, OUTBOX_STATUSES, PENDING, SENT
from .models.results import EXPIRED, PUBLISHED
from .timeutil import today, utcnow

log = logging.getLogger(__name__)
FAILING_AFTER = timedelta(hours=24)
EXPIRY_CHECK_SECONDS = 600.0  # between two looks, in one process, for results whose validity ended
_next_expiry_check = 0.0


def record(result: Result, status: str) -> OutboxMessage | None:
    """Add the message for `result` entering `status` to the session (the change's transaction).
    A result published after its validity ended goes out as expired at once."""
    if not national_store.enabled():
        return None
    if status == PUBLISHED and result.valid_until is not None and result.valid_until < today():
        status = EXPIRED
    with db.session.no_autoflush:  # an import group flushes when it chooses (operations.results.DraftGroup)
        version = _next_version(result)
        if result.procedure is None:  # a result of an import group, not flushed yet
            result.procedure = db.session.get(Procedure, result.procedure_id)
        message = OutboxMessage(result=result, version=version, state=national_store.STATES[status],
                                payload=national_store.payload(result, status, version), status=PENDING,
                                attempts=0, next_attempt_at=utcnow())
    db.session.add(message)
    return message


def _next_version(result: Result) -> int:
    unflushed = [m.version for m in db.session.new if isinstance(m, OutboxMessage) and m.result is result]
    stored = 0
    if result.id is not None:
        # The result's row is locked until this change commits (PostgreSQL; SQLite writes one at a
        # time anyway), so that a concurrent writer of the same result (the expiry check) is waited
        # for, not collided with on (result, version).
        db.session.execute(select(Result.id).where(Result.id == result.id).with_for_update())
        stored = db.session.scalar(select(func.max(OutboxMessage.version))
                                   .where(OutboxMessage.result_id == result.id)) or 0
    return max([stored, *unflushed]) + 1


def queue_expired(limit: int = 500) -> int:
    """Write "expired" once for each result whose validity ended and whose earlier states were sent
    (results published before the sync was set up are left to the reconciliation). One transaction."""
    if not national_store.enabled():
        return 0
    synced = exists().where(OutboxMessage.result_id == Result.id)
    told = exists().where(OutboxMessage.result_id == Result.id,
                          OutboxMessage.state == national_store.STATES[EXPIRED])
    # A result being changed right now (its row locked by record) is left for the next look.
    results = db.session.scalars(select(Result).where(
        Result.status == PUBLISHED, Result.valid_until < today(), synced, ~told).order_by(Result.id).limit(limit)
        .with_for_update(skip_locked=True, of=Result)).all()
    for result in results:
        record(result, EXPIRED)
    try:
        db.session.commit()
    except IntegrityError:  # another process wrote a message of one of them meanwhile: next look
        db.session.rollback()
        return 0
    return len(results)


def queue_expired_if_due() -> int:
    global _next_expiry_check
    if time.monotonic() < _next_expiry_check:
        return 0
    _next_expiry_check = time.monotonic() + EXPIRY_CHECK_SECONDS
    return queue_expired()


# --- sending ---------------------------------------------------------------------------------

SEND_BATCH = 50  # messages claimed by one query and settled by one commit


def send_due(limit: int = 100, should_stop: Callable[[], bool] = lambda: False) -> int:
    """Post up to `limit` due messages on one kept connection; how many were posted.

    Due messages are claimed a batch at a time (at most one per result: a later one waits for the
    earlier to be sent), posted in order, and settled by one commit per batch. A sender killed in the
    middle of a batch leaves the whole batch as it was: its messages are posted again, and the receiver
    knows them by their Idempotency-Key; a result's order is kept all the same."""
    if not national_store.enabled():
        return 0
    posted, tried = 0, set()
    with _sender_slot() as ours, national_store.connection() as http:
        while ours and posted < limit and not should_stop():
            messages = _claim(min(SEND_BATCH, limit - posted), tried)
            if not messages:
                db.session.rollback()
                break
            for message in messages:
                if should_stop():
                    break  # the rest of the batch stays as it was
                key = national_store.idempotency_key(message.payload[national_store.F_RESULT_CODE], message.version)
                _settle(message, national_store.post(message.payload, key, http))
                tried.add(message.id)
                posted += 1
            db.session.commit()
    return posted


def _claim(count: int, tried: set[int]) -> list[OutboxMessage]:
    """Due messages, none already tried in this pass: one refused a moment ago and due again after a
    short first backoff waits for the next pass, however slowly this one went."""
    earlier = aliased(OutboxMessage)
    blocked = exists().where(earlier.result_id == OutboxMessage.result_id, earlier.version < OutboxMessage.version,
                             earlier.status != SENT)
    query = (select(OutboxMessage).where(OutboxMessage.status != SENT, OutboxMessage.next_attempt_at <= utcnow(),
                                         ~blocked, OutboxMessage.id.notin_(tried))
             .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(count))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    return list(db.session.scalars(query))


def _settle(message: OutboxMessage, answer: national_store.Answer) -> None:
    now = utcnow()
    message.attempts += 1
    message.last_attempt_at, message.last_status_code, message.last_answer = now, answer.status_code, answer.text
    if answer.accepted:
        message.status, message.sent_at = SENT, now
        return
    message.first_failed_at = message.first_failed_at or now
    config = current_app.config
    delay = min(config["NATIONAL_STORE_RETRY_MAX_SECONDS"],
                config["NATIONAL_STORE_RETRY_SECONDS"] * 2 ** min(message.attempts - 1, 30))
    message.next_attempt_at = now + timedelta(seconds=random.uniform(delay / 2, delay))  # jitter
    message.status = FAILING if now - message.first_failed_at >= FAILING_AFTER else PENDING
    log.warning("national store refused %s v%s (%s): %s", message.result_id, message.version,
                answer.status_code, answer.text[:200])


@contextlib.contextmanager
def _sender_slot():
    """On SQLite, one sender at a time on this data directory (the lock goes with a killed process)."""
    if db.engine.dialect.name == "postgresql":
        yield True
        return
    path = Path(current_app.config["PORTAL_DATA_DIR"]) / "outbox-sender.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def counts(messages: Select | None = None) -> dict[str, int]:
    """Messages by status: all of them, or those of `messages` (a query of OutboxMessage, such as
    the ones a user may see: access.visible_outbox_messages)."""
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if messages is not None:
        query = query.where(OutboxMessage.id.in_(messages.with_only_columns(OutboxMessage.id).scalar_subquery()))
    found = dict(db.session.execute(query).all())
    return {status: found.get(status, 0) for status in OUTBOX_STATUSES}


LATE_AFTER = timedelta(hours=1)


def health() -> dict:
    """For /healthz: "late" when the oldest message not yet sent was written over an hour ago."""
    if not national_store.enabled():
        return {"status": "off"}
    oldest = db.session.scalar(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status != SENT))
    late = oldest is not None and utcnow() - oldest > LATE_AFTER
    return {"status": "late" if late else "ok", **{k: v for k, v in counts().items() if k != SENT},
            "oldest_pending_minutes": int((utcnow() - oldest).total_seconds() // 60) if oldest else None}


def reconcile(acknowledged: set[str] | None = None) -> tuple[int, int]:
    """Bring the outbox in line with the database and with what the receiver says it holds; one transaction.

    A published, revoked or replaced result whose current state is not the state of its last message (it
    changed while the sync was off, or before it was set up) gets a message for that state. Given the
    receiver's `acknowledged` Idempotency-Keys, a sent message it does not hold goes back to pending, and
    with it every later message of its result, so that they go out again in order. Returns (written, re-queued)."""
    from .models.results import HOLDER_VISIBLE_STATUSES, REPLACED, REVOKED

    last = (select(OutboxMessage.result_id, func.max(OutboxMessage.version).label("version"))
            .group_by(OutboxMessage.result_id).subquery())
    rows = db.session.execute(
        select(Result, OutboxMessage.state).outerjoin(last, last.c.result_id == Result.id)
        .outerjoin(OutboxMessage, (OutboxMessage.result_id == Result.id) & (OutboxMessage.version == last.c.version))
        .where(Result.status.in_(HOLDER_VISIBLE_STATUSES)).order_by(Result.id)).all()
    written = 0
    for result, state in rows:
        status = result.effective_status()
        if status in (PUBLISHED, EXPIRED, REVOKED, REPLACED) and state != national_store.STATES[status]:
            written += record(result, status) is not None
    requeued = 0
    if acknowledged is not None:
        from_version: dict[int, int] = {}
        for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == SENT)
                                          .order_by(OutboxMessage.result_id, OutboxMessage.version)):
            key = national_store.idempotency_key(message.payload[national_store.F_RESULT_CODE], message.version)
            if key not in acknowledged and message.result_id not in from_version:
                from_version[message.result_id] = message.version
        for result_id, version in from_version.items():
            for message in db.session.scalars(select(OutboxMessage).where(
                    OutboxMessage.result_id == result_id, OutboxMessage.version >= version,
                    OutboxMessage.status == SENT)):
                message.status, message.sent_at, message.next_attempt_at = PENDING, None, utcnow()
                requeued += 1
    db.session.commit()
    return written, requeued
