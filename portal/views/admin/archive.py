"""The transfer register: the packages written for the current archive (`flask archive-export`)."""

from flask import current_app, render_template
from sqlalchemy import select

from ...extensions import db
from ...models import ArchiveTransfer
from ..query import page_arg
from . import bp
from .manage import admin_required


@bp.get("/archive")
@admin_required
def archive_transfers():
    query = select(ArchiveTransfer).order_by(ArchiveTransfer.made_at.desc(), ArchiveTransfer.id.desc())
    page = db.paginate(query, page=page_arg(), per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template("admin/archive.html", page=page)
