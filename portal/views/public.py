"""Pages anyone may open."""

import shutil

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from .. import outbox, search
from ..access import get_sent_result_or_404, works_for_department
from ..extensions import db, limiter
from ..fixity import files_health
from ..forms.accounts import LookupForm
from ..lookup import public_lookup
from ..national_store import FILE_LINK_PATH
from ..storage import storage as file_storage
from ..timeutil import to_local

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("admin.results" if works_for_department(current_user) else "me.results"))
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
    """200 while the database and the index can be read, else 503 (status "error").
    Other checks report without failing it: status "warning" asks an operator to look (damaged
    files, a file store that does not answer, low disk space, messages to the national data store
    over an hour late); none is mended by a node or a restart, and a load balancer would take every
    node out for it."""
    database_ok, database = _database_health()
    index_ok, index = search.health()
    files_ok, files = _files_health() if database_ok else (True, {"status": "unknown"})
    storage_ok, storage = _free_space_health()
    file_store_ok, file_store = _file_store_health()
    national_store = outbox.health() if database_ok else {"status": "unknown"}
    sync_ok = national_store["status"] != "late"  # over an hour behind (portal/outbox.py)
    healthy = database_ok and index_ok
    warned = not (files_ok and storage_ok and sync_ok and file_store_ok)
    status = "error" if not healthy else "warning" if warned else "ok"
    return (jsonify(status=status, database=database, index=index, files=files, storage=storage,
                    file_store=file_store, national_store=national_store), 200 if healthy else 503)


def _database_health() -> tuple[bool, str]:
    try:
        db.session.execute(text("SELECT 1"))
        return True, "ok"
    except Exception:  # noqa: BLE001 - whatever the driver raises, the answer is "unreachable"
        db.session.rollback()
        return False, "unreachable"


def _files_health() -> tuple[bool, dict]:
    """What the audit trail knows is wrong with the stored files (fixity.files_health)."""
    health = files_health()
    return health.ok, {
        "status": "ok" if health.ok else "damaged", "missing": health.missing, "altered": health.altered,
        "checked_at": to_local(health.checked_at).isoformat(timespec="seconds") if health.checked_at else None}


def _file_store_health() -> tuple[bool, dict]:
    """Whether the file store answers (a bucket may not: PORTAL_STORAGE=s3). A warning, not a 503:
    every node reaches the same bucket, and taking them all out would not bring it back."""
    reachable = file_storage().reachable()
    return reachable, {"backend": current_app.config["STORAGE"], "status": "ok" if reachable else "unreachable"}


def _free_space_health() -> tuple[bool, dict]:
    """Free space in the data directory against PORTAL_MIN_FREE_MB."""
    free_mb = shutil.disk_usage(current_app.config["PORTAL_DATA_DIR"]).free // (1024 * 1024)
    enough = free_mb >= current_app.config["MIN_FREE_MB"]
    return enough, {"status": "ok" if enough else "low", "free_mb": free_mb,
                    "min_free_mb": current_app.config["MIN_FREE_MB"]}


@bp.get(FILE_LINK_PATH + "<signed>")
def national_store_file(signed: str):
    """A result's file for the national data store, through the expiring signed link its message
    carried (portal/national_store.py); nothing without a valid, unexpired signature."""
    from ..national_store import code_from_link
    from .documents import send_document

    return send_document(get_sent_result_or_404(code_from_link(signed)))
