"""Register numbers of certified copies (000123/2026/BSĐT), reserved before the copy is made.

The number is printed in the signed file, so it must be known before rendering (~200 ms); taking
max(number) + 1 then let copies rendered at the same time pick the same number and all but one
render again (under 30-50 clients, 6 requests in 110 gave up). Here a number is reserved in a
short transaction of its own, and no transaction stays open while the copy renders (on SQLite
it would block every other write, audit events included):

- the lowest number released (its copy failed or was refused) or abandoned (held past LEASE by
  a process that died) is taken first, so the register ends gap-free;
- else the year's counter gives the next number (one UPDATE ... RETURNING: PostgreSQL's row lock
  or SQLite's write lock lasts only that transaction);
- the copy's row takes the number by deleting the reservation in the transaction that registers
  it; a failed or refused copy releases it.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..extensions import db
from ..models import CertifiedCopy, CopyNumberCounter, CopyNumberReservation
from ..timeutil import utcnow

log = logging.getLogger(__name__)
# A reservation held this long was left by a process that died: well past the longest a copy
# may take to render (copies.worker.TIMEOUT_SECONDS, 120 s).
LEASE = timedelta(minutes=5)
Reserved = CopyNumberReservation


@dataclass(frozen=True)
class Reservation:
    year: int
    number: int
    token: str          # who holds it: this request's attempt, and no other


def _free(year: int, now: datetime):
    return (Reserved.year == year) & (Reserved.held_by.is_(None) | (Reserved.reserved_at < now - LEASE))


def _take_free(year: int, token: str, now: datetime) -> int | None:
    """The lowest released or abandoned number of `year`, now held by `token`. PostgreSQL skips
    a row another request is taking (SKIP LOCKED); SQLite runs one writer at a time anyway."""
    lowest = (select(Reserved.number).where(_free(year, now)).order_by(Reserved.number).limit(1)
              .with_for_update(skip_locked=True).scalar_subquery())
    return db.session.execute(
        update(Reserved).where(Reserved.year == year, Reserved.number == lowest, _free(year, now))
        .values(held_by=token, reserved_at=now).returning(Reserved.number)
        .execution_options(synchronize_session=False)).scalar()


def _next_number(year: int) -> int:
    """The year's counter, moved on by one; the year's first copy starts it."""
    taken = db.session.execute(
        update(CopyNumberCounter).where(CopyNumberCounter.year == year)
        .values(last_number=CopyNumberCounter.last_number + 1).returning(CopyNumberCounter.last_number)
        .execution_options(synchronize_session=False)).scalar()
    if taken is not None:
        return taken
    # From the register itself: a counter lost, or copies entered by hand, never repeat a number.
    highest = max(db.session.scalar(select(func.max(CertifiedCopy.number)).where(CertifiedCopy.year == year)) or 0,
                  db.session.scalar(select(func.max(Reserved.number)).where(Reserved.year == year)) or 0)
    try:
        with db.session.begin_nested():  # another request may start the same year's counter
            db.session.add(CopyNumberCounter(year=year, last_number=highest + 1))
        return highest + 1
    except IntegrityError:
        return _next_number(year)


def reserve(year: int) -> Reservation:
    """A register number of `year` for one copy, reserved and committed at once."""
    token, now = secrets.token_hex(16), utcnow()
    db.session.rollback()  # a transaction of its own, started by a write (SQLite: no lock upgrade)
    try:
        number = _take_free(year, token, now)
        if number is None:
            number = _next_number(year)
            db.session.add(Reserved(year=year, number=number, held_by=token, reserved_at=now))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return Reservation(year, number, token)


def take(reservation: Reservation) -> bool:
    """Give the reserved number to the copy being registered, in the caller's transaction.
    False if the reservation is no longer this request's (held past LEASE and taken over)."""
    return db.session.execute(delete(Reserved).where(
        Reserved.year == reservation.year, Reserved.number == reservation.number,
        Reserved.held_by == reservation.token).execution_options(synchronize_session=False)).rowcount == 1


def release(reservation: Reservation) -> None:
    """The copy will not be registered: its number goes to the next copy. Should this fail too
    (the database gone), the reservation is taken over once its lease runs out."""
    try:
        db.session.rollback()
        db.session.execute(update(Reserved).where(
            Reserved.year == reservation.year, Reserved.number == reservation.number,
            Reserved.held_by == reservation.token).values(held_by=None)
            .execution_options(synchronize_session=False))
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not release register number %s/%s", reservation.number, reservation.year)
