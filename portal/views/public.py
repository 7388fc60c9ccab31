"""Pages anyone may open."""

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from .. import search
from ..extensions import db, limiter
from ..fixity import files_health
from ..forms.accounts import LookupForm
from ..lookup import public_lookup
from ..timeutil import to_local

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


def _database_check() -> tuple[bool, str]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - whatever the driver raises, the answer is "unreachable"
        db.session.rollback()
        return False, "unreachable"
    return True, "ok"


def _files_check() -> dict:
    """What the audit trail knows is wrong with the stored files (fixity.files_health). Reported,
    never a 503: no node or restart mends a lost file, and every other file is still served."""
    health = files_health()
    return {"status": "ok" if health.ok else "damaged", "missing": health.missing, "altered": health.altered,
            "checked_at": to_local(health.checked_at).isoformat(timespec="seconds") if health.checked_at else None}


@bp.get("/healthz")
def healthz():
    """200 when the database and the index can be read (DESIGN §5); `status` says "degraded" when
    something else needs a person (damaged files) and "error" with the 503."""
    database_ok, database = _database_check()
    index_ok, index = search.health()
    files = _files_check() if database_ok else {"status": "unknown"}
    healthy = database_ok and index_ok
    status = "error" if not healthy else "ok" if files["status"] == "ok" else "degraded"
    return jsonify(status=status, database=database, index=index, files=files), 200 if healthy else 503
