"""The transfer register: the packages written for the current archive (`flask archive-export`)."""

from flask import current_app, render_template

from ...extensions import db
from ...operations.archive import register
from ..query import page_arg
from . import bp
from .manage import admin_required


@bp.get("/archive")
@admin_required
def archive_transfers():
    page = db.paginate(register(), page=page_arg(), per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template("admin/archive.html", page=page)
