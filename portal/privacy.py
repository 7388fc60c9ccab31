"""The privacy notice (/quyen-rieng-tu) and what a breach notice needs: which holders' results a
staff account or an address touched in a period (Law 91/2025/QH15, Decree 356/2025)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, select

from .extensions import db
from .models import AuditEvent, Result, User
from .timeutil import local_zone, to_local

# The notice's version: a new one whenever its text (templates/privacy.html) changes in substance;
# every holder is shown it again at their next login (operations/privacy.py).
NOTICE_VERSION = "2026-01"


def notice_due(user: User) -> bool:
    """Whether this account is yet to be shown the current notice (holders only: staff are told by
    their employer, not by the portal)."""
    return user.is_holder and user.privacy_notice_version != NOTICE_VERSION


class BadQuery(ValueError):
    """A breach query the command refuses: its message says why."""


@dataclass(frozen=True)
class Touch:
    """One audit event on a holder's result: what a notice to that holder names."""

    holder_kind: str
    holder_id: str
    holder_name: str
    result_code: str
    document_number: str
    action: str
    action_label: str
    at: datetime  # Asia/Ho_Chi_Minh
    actor_name: str
    ip: str


def parse_address(text: str) -> str:
    """An IPv4 or IPv6 address as the audit trail writes it, or BadQuery."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise BadQuery(f"Not an IP address: {text!r}.") from None


def find_account(username: str) -> User:
    user = db.session.scalars(select(User).where(func.lower(User.username) == username.strip().lower())).first()
    if user is None:
        raise BadQuery(f"No account named {username!r}.")
    return user


def _query(actor: User | None, address: str | None, start: date, end: date) -> Select:
    if (actor is None) == (address is None):
        raise BadQuery("Give exactly one of --user and --address.")
    if end < start:
        raise BadQuery(f"The period ends ({end}) before it starts ({start}).")
    zone = local_zone()  # whole days in Vietnam, however the machine's clock is set
    try:  # in UTC now, as the column holds it: a day near year 1 or 9999 has none
        since = datetime.combine(start, time(), zone).astimezone(UTC)
        until = datetime.combine(end + timedelta(days=1), time(), zone).astimezone(UTC)
    except OverflowError:
        raise BadQuery(f"The period {start} to {end} is outside the dates the audit trail holds.") from None
    query = (select(AuditEvent, Result).join(Result, Result.id == AuditEvent.result_id)
             .where(AuditEvent.at >= since, AuditEvent.at < until))
    return query.where(AuditEvent.actor_id == actor.id) if actor is not None else query.where(AuditEvent.ip == address)


def count_touches(actor: User | None, address: str | None, start: date, end: date) -> int:
    inner = _query(actor, address, start, end).with_only_columns(AuditEvent.id).subquery()
    return db.session.scalar(select(func.count()).select_from(inner))


def touches(actor: User | None, address: str | None, start: date, end: date) -> Iterator[Touch]:
    """Every audit event of that account (or from that address) on a result in the period, grouped by
    holder, oldest first: views, downloads, page images, copies, shares, edits, state changes."""
    query = _query(actor, address, start, end).order_by(Result.holder_id, Result.code, AuditEvent.at, AuditEvent.id)
    for event, result in db.session.execute(query.execution_options(yield_per=500)):
        yield Touch(result.holder_kind, result.holder_id, result.holder_name, result.code, result.document_number,
                    event.action, event.action_label, to_local(event.at), event.actor_name, event.ip)
