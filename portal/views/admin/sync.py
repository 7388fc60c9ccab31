"""The sync to the national data store as staff see it: what is pending, sent and failing, with the
receiver's last answer; an admin may send a failing message again now."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ... import national_store, outbox
from ...access import get_retryable_message_or_404, may_retry_sync, visible_outbox_messages
from ...errors import UserError
from ...extensions import db
from ...forms import Form
from ...models import OutboxMessage
from ...models.outbox import OUTBOX_STATUSES
from ...models.results import STATUS_LABELS as RESULT_STATUS_LABELS
from ...operations import sync as ops
from ..query import page_arg
from . import bp, flash_error

STATUS_LABELS = {"pending": "Đang chờ gửi", "sent": "Đã gửi", "failing": "Lỗi quá 24 giờ"}
# The result's state a message told (TrangThai), in the words the rest of the portal uses.
STATE_LABELS = {sent_as: RESULT_STATUS_LABELS[status] for status, sent_as in national_store.STATES.items()}


@bp.get("/sync")
def sync_page():
    status = request.args.get("status")
    status = status if status in OUTBOX_STATUSES else None
    mine = visible_outbox_messages(current_user)
    counts = outbox.counts(mine)
    query = mine.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if status:
        query = query.where(OutboxMessage.status == status)
    page = db.paginate(query, page=page_arg(), per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template("admin/sync.html", page=page, status=status, counts=counts, labels=STATUS_LABELS,
                           states=STATE_LABELS, enabled=national_store.enabled(), form=Form(),
                           may_retry=may_retry_sync(current_user))


@bp.post("/sync/<int:message_id>/retry")
def retry_sync_message(message_id: int):
    message = get_retryable_message_or_404(current_user, message_id)
    if Form().validate_on_submit():
        try:
            ops.retry_now(current_user, message)
            flash(f"Bản tin phiên bản {message.version} của kết quả {message.result.code} sẽ được gửi lại ngay.")
        except UserError as err:
            flash_error(err)
    return redirect(url_for("admin.sync_page", status=request.args.get("status") or None))
