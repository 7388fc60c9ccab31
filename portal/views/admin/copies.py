"""The register of certified copies (sổ cấp bản sao), as the department keeps it."""

from flask import current_app, render_template
from flask_login import current_user
from sqlalchemy import distinct

from ...access import visible_copies
from ...extensions import db
from ...models import CertifiedCopy
from ..inputs import int_arg
from . import bp


@bp.get("/copies")
def copy_register():
    query = visible_copies(current_user)
    years = sorted(db.session.scalars(query.with_only_columns(distinct(CertifiedCopy.year))), reverse=True)
    year = int_arg("year") or (years[0] if years else None)
    if year is not None:
        query = query.where(CertifiedCopy.year == year)
    page = db.paginate(query.order_by(CertifiedCopy.number.desc()), page=int_arg("page", 1),
                       per_page=current_app.config["PER_PAGE"] * 2, error_out=False)
    return render_template("admin/copies.html", page=page, years=years, year=year)
