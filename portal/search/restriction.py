"""The access rule's scope (access.scope_of) as each backend's own query, AND-ed into every search:
the search never decides who sees what, it only narrows the hits to what the rule already allows."""

from __future__ import annotations

from whoosh.query import Every, NullQuery, Or, Query, Term

from ..access import Scope
from ..models.results import HOLDER_VISIBLE_STATUSES


def _holder_statuses_indexed(scope: Scope) -> None:
    # `holder_visible` is set only while a result is in a state its holder may see (schema.py, and
    # the PostgreSQL search table); a scope asking for other states cannot be answered by it.
    if not scope.statuses <= set(HOLDER_VISIBLE_STATUSES):
        raise ValueError(f"the search cannot restrict a holder to {sorted(scope.statuses)}")


def whoosh_restriction(scope: Scope) -> Query:
    if scope.everything:
        return Every()
    if scope.unit_ids:
        return Or([Term("unit", str(unit_id)) for unit_id in sorted(scope.unit_ids)])
    if scope.holder_id is not None:
        _holder_statuses_indexed(scope)
        return Term("holder_visible", scope.holder_id)
    return NullQuery


def postgresql_restriction(scope: Scope) -> tuple[str, dict]:
    """(condition on the table `result_search`, its parameters)."""
    if scope.everything:
        return "true", {}
    if len(scope.unit_ids) == 1:  # a staff member's: one equality, so the unit's date index gives the order
        return "unit_id = :scope_unit", {"scope_unit": next(iter(scope.unit_ids))}
    if scope.unit_ids:
        return "unit_id = ANY(CAST(:scope_units AS integer[]))", {"scope_units": sorted(scope.unit_ids)}
    if scope.holder_id is not None:
        _holder_statuses_indexed(scope)
        return ("holder_visible = :scope_holder AND status = ANY(:scope_statuses)",
                {"scope_holder": scope.holder_id, "scope_statuses": sorted(scope.statuses)})
    return "false", {}
