"""Failed logins slow down whoever makes them, never the account's owner elsewhere.

Two keys count failures: the username typed *from an address*, and the address alone. After a few
free failures each further one doubles that key's wait (2 s, 4 s, 8 s ... up to 15 minutes); a
failure an hour after the last is counted from zero again. The username is counted as typed, so
an unknown username behaves exactly like a known one. The counts live in the database, so every
web node sees the same ones (a node's memory would let an attacker spread guesses over nodes).
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import LoginThrottle
from ..timeutil import utcnow

FREE_PER_ACCOUNT = 3    # typos are human: three wrong passwords cost nothing
FREE_PER_ADDRESS = 20   # many people share an address behind a NAT (an office, a mobile network)
# Wrong second-factor codes, counted per account whatever the address: whoever types them knows
# the password already, and the right password must not reset this count.
FREE_SECOND_FACTOR = 5
LONGEST_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)


Keys = list[tuple[str, int]]  # (key, failures that cost nothing)


def login_keys(username: str, address: str) -> Keys:
    return [(f"acct:{username[:64]}@{address}", FREE_PER_ACCOUNT), (f"ip:{address}", FREE_PER_ADDRESS)]


def second_factor_keys(username: str) -> Keys:
    return [(f"2fa:{username[:64]}", FREE_SECOND_FACTOR)]


def wait(keys: Keys) -> int | None:
    """Seconds this attempt must still wait, or None when it may go ahead."""
    now = utcnow()
    keys = [key for key, _free in keys]
    rows = db.session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))
    until = max((row.blocked_until for row in rows if row.blocked_until is not None and row.blocked_until > now),
                default=None)
    return None if until is None else max(1, math.ceil((until - now).total_seconds()))


def failed(keys: Keys) -> None:
    """Count a failure against each key (in the caller's transaction)."""
    now = utcnow()
    for key, free in keys:
        row = _row(key)
        if now - row.last_failure_at > FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        over = row.failures - free
        row.blocked_until = now + min(timedelta(seconds=2 ** over), LONGEST_WAIT) if over > 0 else None
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - FORGET_AFTER))


def forget(key: str) -> None:
    """A success: this key's count starts again. (After the right password, only the username's
    from that address: an attacker who owns one account must not reset the address's count.)"""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


def _row(key: str) -> LoginThrottle:
    query = select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
    row = db.session.scalars(query).first()
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = LoginThrottle(key=key, failures=0, last_failure_at=utcnow())
            db.session.add(row)
        return row
    except IntegrityError:  # another request counted the same key's first failure meanwhile
        return db.session.scalars(query).one()


def message(seconds: int) -> str:
    when = f"{seconds} giây" if seconds < 120 else f"{math.ceil(seconds / 60)} phút"
    return f"Đăng nhập sai nhiều lần liên tiếp. Vui lòng chờ {when} rồi thử lại."
