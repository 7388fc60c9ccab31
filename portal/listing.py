"""Result lists straight from the database, with the same filters as the search.

Used where nothing was typed: the database answers exactly, counts included.
"""

from __future__ import annotations

from sqlalchemy import Select, or_

from .access import visible_results
from .identifiers import PHASES
from .models import Procedure, Result
from .models.results import EXPIRED, PUBLISHED
from .search import Filters
from .timeutil import today


def _phase_condition(phase: int):
    for number, start, end, _deadline in PHASES:
        if number == phase:
            return Result.formed_year.between(start or 0, end)
    return None


def listing(user, filters: Filters) -> Select:
    query = visible_results(user)
    if filters.status == EXPIRED:
        query = query.where(Result.status == PUBLISHED, Result.valid_until < today())
    elif filters.status == "valid":
        query = query.where(Result.status == PUBLISHED,
                            or_(Result.valid_until.is_(None), Result.valid_until >= today()))
    elif filters.status:
        query = query.where(Result.status == filters.status)
    if filters.unit:
        query = query.where(Result.unit_id == int(filters.unit))
    if filters.procedure:
        query = query.where(Result.procedure.has(Procedure.code == filters.procedure))
    if filters.field:
        query = query.where(Result.procedure.has(Procedure.field == filters.field))
    if filters.phase and (condition := _phase_condition(int(filters.phase))) is not None:
        query = query.where(condition)
    return query.order_by(Result.updated_at.desc(), Result.id.desc())
