"""The background queues (imports, OCR, the national sync, the index queue) and their failures."""

from flask import render_template
from flask_login import current_user

from ... import queues
from ...access import sees_all_background_work
from ...operations.imports import MAX_ATTEMPTS
from . import bp


@bp.get("/jobs")
def jobs_page():
    return render_template("admin/jobs.html", queues=queues.overview(current_user), in_process=queues.in_process(),
                           everything=sees_all_background_work(current_user), max_attempts=MAX_ATTEMPTS)
