"""The holder's own data store (Kho dữ liệu của tôi)."""

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from . import searching

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
