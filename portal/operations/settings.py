"""Settings an admin changes at run time (the environment holds the rest, DESIGN §5)."""

from __future__ import annotations

from flask import g, has_request_context

from .. import audit
from ..access import require
from ..extensions import db
from ..models import Setting, User
from . import transactional

REQUIRE_SECOND_FACTOR = "require_second_factor"  # for staff roles: digitizers, reviewers, admins
DEFAULTS = {REQUIRE_SECOND_FACTOR: False}


def get(key: str):
    """A setting's value, read once per request."""
    cache = g.setdefault("portal_settings", {}) if has_request_context() else {}
    if key not in cache:
        row = db.session.get(Setting, key)
        cache[key] = row.value["value"] if row is not None else DEFAULTS[key]
    return cache[key]


def second_factor_required(user: User) -> bool:
    return bool(user.is_staff and get(REQUIRE_SECOND_FACTOR))


@transactional
def change(actor: User, key: str, value) -> None:
    require(actor, "manage")
    if key not in DEFAULTS:
        raise ValueError(key)
    row = db.session.get(Setting, key)
    before = row.value["value"] if row is not None else DEFAULTS[key]
    if row is None:
        row = Setting(key=key)
        db.session.add(row)
    row.value, row.updated_by_id = {"value": value}, actor.id
    if has_request_context():
        g.pop("portal_settings", None)
    audit.record("setting.update", actor=actor, target=key, details={"from": before, "to": value})
