"""Batch imports from the web: upload, a job page that follows the import, its report."""

from flask import Response, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from ...access import get_batch_or_404, visible_batches
from ...errors import UserError
from ...extensions import db
from ...forms.imports import ImportForm
from ...models import ImportBatch
from ...operations import imports
from ..gate import IMPORT, takes_body
from . import bp


@bp.route("/imports", methods=["GET", "POST"])
@takes_body(IMPORT, if_may="upload")  # a scanning team's ZIP: far over a single scan's limit
def new_import():
    form = ImportForm()
    if form.validate_on_submit():
        try:
            batch = imports.create_web_batch(current_user, form.upload.data,
                                             [f for f in form.files.data or [] if f and f.filename])
        except UserError as err:
            flash(str(err), "error")
        else:
            flash(f"Đã nhận lô {batch.id}; hệ thống đang nhập ở chế độ nền.", "success")
            return redirect(url_for("admin.import_batch", batch_id=batch.id))
    batches = db.session.scalars(visible_batches(current_user).order_by(ImportBatch.id.desc()).limit(30)).all()
    return render_template("admin/imports.html", form=form, batches=batches)


@bp.get("/imports/<int:batch_id>")
def import_batch(batch_id: int):
    batch = get_batch_or_404(current_user, batch_id)
    failures = imports.failed_rows(batch)
    return render_template("admin/import.html", batch=batch, failures=failures,
                           files_kept_until=imports.files_kept_until(batch))


@bp.get("/imports/<int:batch_id>/status.json")
def import_status(batch_id: int):
    """What the job page's progress region shows, for its script to poll instead of reloading the page."""
    batch = get_batch_or_404(current_user, batch_id)
    return jsonify(status=batch.status, label=batch.status_label, running=batch.status in ("queued", "running"),
                   done_rows=batch.done_rows, total_rows=batch.total_rows, percent=batch.percent,
                   imported=batch.imported, skipped=batch.skipped, failed=batch.failed)


@bp.get("/imports/<int:batch_id>/report.csv")
def import_report(batch_id: int):
    batch = get_batch_or_404(current_user, batch_id)
    return Response(imports.report_csv(batch, failed_only=False), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=bao-cao-lo-{batch.id}.csv"})
