"""The holder's own data store (Kho dữ liệu của tôi)."""

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from .. import audit
from ..access import get_holder_result_or_404
from ..extensions import db
from . import searching
from .documents import send_document, send_page

bp = Blueprint("me", __name__, url_prefix="/me")


@bp.get("/results")
@login_required
def results():
    if not current_user.is_holder:
        abort(404)
    q, filters, page, per_page = searching.read_args(staff=False)
    found, problem = searching.run(current_user, q, filters, page, per_page)
    return render_template("me/results.html", found=found, problem=problem, q=q, filters=filters,
                           statuses=searching.HOLDER_STATUS_CHOICES, **searching.facet_choices(current_user))


@bp.get("/results/<code>")
@login_required
def result(code: str):
    item = get_holder_result_or_404(current_user, code)
    audit.record_access("result.view", item)
    return render_template("me/result.html", result=item)


@bp.get("/results/<code>/file")
@login_required
def result_file(code: str):
    return send_document(get_holder_result_or_404(current_user, code))


@bp.get("/results/<code>/pages/<int:page_number>.png")
@login_required
def result_page(code: str, page_number: int):
    return send_page(get_holder_result_or_404(current_user, code), page_number)


@bp.get("/access")
@login_required
def access_log():
    """Who looked at my results: every view, download and look-up, from the audit trail."""
    if not current_user.is_holder:
        abort(404)
    page = db.paginate(audit.events_about(current_user), page=request.args.get("page", 1, type=int),
                       per_page=30, error_out=False)
    return render_template("me/access.html", page=page)
