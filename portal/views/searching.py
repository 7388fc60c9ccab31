"""What the list pages and the API share: reading search arguments and running the search."""

from __future__ import annotations

from flask import request
from sqlalchemy import distinct, extract, select

from .. import search
from ..access import visible_results
from ..extensions import db
from ..listing import listing
from ..models import Procedure, Result
from ..models.results import EXPIRED, STATUS_LABELS, STATUSES
from .query import DATABASE_INT_MAX, number_arg, page_arg

HOLDER_STATUS_CHOICES = {"valid": "Còn hiệu lực", EXPIRED: STATUS_LABELS[EXPIRED],
                         "revoked": STATUS_LABELS["revoked"], "replaced": STATUS_LABELS["replaced"]}
STAFF_STATUS_CHOICES = {**{s: STATUS_LABELS[s] for s in STATUSES}, EXPIRED: STATUS_LABELS[EXPIRED]}


MAX_PAGE = 500  # deeper pages cost the index a long scan; nobody reads them


def _arg(name: str, limit: int = 100) -> str | None:
    return clean_text(request.args.get(name), limit)


def clean_text(value: str | None, limit: int = 100) -> str | None:
    """A text argument trimmed and cut to `limit` characters; None when nothing is left."""
    value = (value or "").strip()[:limit]
    return value or None


def clean_year(value: str | None) -> str | None:
    year = clean_text(value, 4)
    return year if year and year.isascii() and year.isdigit() else None


def read_args(*, staff: bool, max_per_page: int = 100, default_per_page: int = 20):
    """(q, Filters, page, per_page) from the query string; unknown values are ignored."""
    statuses = STAFF_STATUS_CHOICES if staff else HOLDER_STATUS_CHOICES
    status = _arg("status")
    phase = _arg("phase", 1)
    filters = search.Filters(
        field=_arg("field", 255), year=clean_year(request.args.get("year")),
        status=status if status in statuses else None,
        unit=(_arg("unit", 12) if staff else None), procedure=(_arg("procedure", 16) if staff else None),
        phase=phase if staff and phase in ("2", "3", "4", "5") else None,
    )
    unit = filters.unit
    if unit and not (unit.isascii() and unit.isdigit() and int(unit) <= DATABASE_INT_MAX):  # "²".isdigit()
        filters.unit = None
    page = page_arg(MAX_PAGE)
    per_page = number_arg("per_page", default_per_page, low=1, high=max_per_page, clamp=True)
    return _arg("q", 300) or "", filters, page, per_page


def facet_choices(user) -> dict:
    """Fields and years present in what the user may see, for the filter menus."""
    visible = visible_results(user).subquery()
    fields = db.session.scalars(select(distinct(Procedure.field)).join(visible, visible.c.procedure_id == Procedure.id)
                                .order_by(Procedure.field)).all()
    years = sorted((int(y) for y in db.session.scalars(select(distinct(extract("year", visible.c.issue_date))))),
                   reverse=True)
    return {"fields": fields, "years": years}


def run(user, q, filters, page, per_page) -> tuple[search.ResultsPage | None, str | None]:
    """The page of results, or None and a message when the index cannot answer right now.

    Without typed words the database can answer alone, so a list never depends on the index.
    """
    try:
        return search.search_results(user, q, filters, page=page, per_page=per_page), None
    except search.IndexUnavailable:
        if q:
            return None, "Chức năng tìm kiếm đang được khôi phục; vui lòng thử lại sau ít phút."
    query = listing(user, filters).order_by(None).order_by(Result.issue_date.desc(), Result.id.desc())
    rows = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)).all()
    items = [(result, search.Hit(result.id, None)) for result in rows[:per_page]]
    return search.ResultsPage(items, page, per_page, len(rows) > per_page), None


def result_json(result: Result, snippet: str = "") -> dict:
    return {
        "code": result.code,
        "title": result.title,
        "document_number": result.document_number,
        "issue_date": result.issue_date.isoformat(),
        "status": result.effective_status(),
        "status_label": result.status_label,
        "procedure_code": result.procedure.code,
        "procedure_name": result.procedure.name,
        "field": result.procedure.field,
        "unit": result.unit.name,
        "valid_from": result.valid_from.isoformat(),
        "valid_until": result.valid_until.isoformat() if result.valid_until else None,
        "snippet": snippet,
    }
