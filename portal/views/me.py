"""The holder's own data store (Kho dữ liệu của tôi)."""

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from ..access import visible_results
from ..extensions import db
from ..models import Result

bp = Blueprint("me", __name__, url_prefix="/me")


@bp.get("/results")
@login_required
def results():
    if not current_user.is_holder:
        abort(404)
    query = visible_results(current_user).order_by(Result.issue_date.desc(), Result.id.desc())
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=25, error_out=False)
    return render_template("me/results.html", page=page)
