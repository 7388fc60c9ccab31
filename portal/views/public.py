"""Pages anyone may open."""

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from .. import search
from ..extensions import db, limiter
from ..forms.accounts import LookupForm
from ..lookup import public_lookup

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("admin.results" if current_user.is_staff else "me.results"))
    return render_template("index.html", form=LookupForm())


@bp.post("/lookup")
@limiter.limit(lambda: current_app.config["PUBLIC_LOOKUP_RATE_LIMIT"])
def lookup():
    form = LookupForm()
    answered, found = False, None
    if form.validate_on_submit():
        found, answered = public_lookup(form.result_code.data, form.holder_id.data), True
    return render_template("index.html", form=form, answered=answered, found=found)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # noqa: BLE001 - whatever the driver raises, the answer is "unreachable"
        db.session.rollback()
        database = "unreachable"
    index_ok, index = search.health()
    healthy = database == "ok" and index_ok
    return jsonify(status="ok" if healthy else "error", database=database, index=index), 200 if healthy else 503
