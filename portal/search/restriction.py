"""The access rule's scope (access.scope_of) as a Whoosh query AND-ed into every search: the
index never decides who sees what, it only narrows the hits to what the rule already allows."""

from __future__ import annotations

from whoosh.query import Every, NullQuery, Or, Query, Term

from ..access import Scope
from ..models.results import HOLDER_VISIBLE_STATUSES


def whoosh_restriction(scope: Scope) -> Query:
    if scope.everything:
        return Every()
    if scope.unit_ids:
        return Or([Term("unit", str(unit_id)) for unit_id in sorted(scope.unit_ids)])
    if scope.holder_id is not None:
        # `holder_visible` is indexed only while a result is in a state its holder may see
        # (schema.py); a scope asking for other states cannot be answered by this field.
        if not scope.statuses <= set(HOLDER_VISIBLE_STATUSES):
            raise ValueError(f"the index cannot restrict a holder to {sorted(scope.statuses)}")
        return Term("holder_visible", scope.holder_id)
    return NullQuery
