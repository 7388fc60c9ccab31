"""The department's side: staff digitize, reviewers check, admins manage."""

from flask import Blueprint, abort, flash
from flask_login import current_user, login_required

from ...access import works_for_department
from ..account import require_second_factor
from ..gate import audience_check

bp = Blueprint("admin", __name__, url_prefix="/admin")


@audience_check(bp)  # before anything reads a body: nobody else's upload is read here
@login_required
def staff_only():
    # Holders have no business here; the page does not exist for them.
    if not works_for_department(current_user):  # OPTIONS gets past login_required
        abort(404)
    return require_second_factor()


def flash_error(err: Exception) -> None:
    flash(str(err), "error")


from . import api_clients, archive, copies, corrections, imports, jobs, manage, plan, results, slips, sync  # noqa: E402,F401  (routes register on bp)
