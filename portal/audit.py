"""Audit events: who did what, when, from where (Decree 45/2020 Art. 6)."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from .extensions import db
from .models import AuditEvent, Result, User


def record(
    action: str,
    *,
    actor: User | None = None,
    result: Result | None = None,
    target: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction; the caller's commit makes it durable. In a
    machine client's call (views/machine.py) the client is who acted: its name is the actor's."""
    client = calling_client()
    if client is not None and actor is None:
        details = {**(details or {}), "client": client.name}
        request.environ[AUDITED_KEY] = True
    elif actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_name=actor.display_name if actor else (
            f"{client.name} (API)" if client is not None else "" if has_request_context() else "dòng lệnh"),
        action=action,
        target=target or (result.code if result is not None else ""),
        details=details or {},
    )
    if result is not None:
        event.result = result  # its id is filled in at the flush: no flush needed here
    if has_request_context():
        event.ip = (request.remote_addr or "")[:64]
        event.user_agent = (request.user_agent.string or "")[:255]
    db.session.add(event)
    return event


CLIENT_KEY = "portal.api_client"  # in the request's environ: request-scoped, unlike `g` in the tests
AUDITED_KEY = "portal.api_client_audited"  # the client's call has an event already


def calling_client():
    """The machine client this request authenticated with a bearer token, if any."""
    return request.environ.get(CLIENT_KEY) if has_request_context() else None


# What a holder sees in "who looked": every view of their documents, and every key to their store.
ACCESS_ACTIONS = ("result.view", "result.download", "result.preview", "lookup", "copy.issue", "copy.download",
                  "copy.verify", "claim.issue", "claim.use", "share.create", "share.revoke", "share.use",
                  "correction.submit", "correction.acknowledge", "correction.correct", "correction.refuse",
                  "correction.attachment")


# A holder's export of their own data (portal/operations/mydata.py): its target is the holder id.
EXPORT_ACTION = "data.export"


def events_about(user):
    """Accesses to the results `user` may see, and the exports of the holder's data, newest first
    (the holder's "who looked" page)."""
    from sqlalchemy import and_, false, or_, select

    from .access import visible_results

    mine = visible_results(user).with_only_columns(Result.id).scalar_subquery()
    exports = and_(AuditEvent.action == EXPORT_ACTION, AuditEvent.target == (user.holder_id or ""),
                   AuditEvent.result_id.is_(None)) if user.holder_id else false()
    about = or_(and_(AuditEvent.result_id.in_(mine), AuditEvent.action.in_(ACCESS_ACTIONS)), exports)
    return (select(AuditEvent).where(about)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))


def record_access(action: str, result: Result, **details) -> None:
    """A read of a holder's document is an event of its own, committed at once."""
    record(action, result=result, details=details or None)
    db.session.commit()
