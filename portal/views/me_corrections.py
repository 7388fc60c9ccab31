"""A holder's requests to correct their results (routes of the `me` blueprint; portal/operations/corrections.py)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..access import get_correction_or_404, get_holder_result_or_404, has_own_store, why_not_request_correction
from ..errors import UserError
from ..forms.corrections import CorrectionForm
from ..operations import corrections
from ..scans import ScanError
from ..timeutil import today
from .documents import send_attachment
from .gate import UPLOAD, takes_body
from .me import bp
from .uploads import checked_scan


@bp.get("/corrections")
@login_required
def correction_list():
    """"Yêu cầu sửa thông tin": every request with each step, when and who."""
    if not has_own_store(current_user):
        abort(404)
    return render_template("me/corrections.html", requests=corrections.requests_of(current_user), today=today())


@bp.route("/results/<code>/corrections/new", methods=["GET", "POST"])
@takes_body(UPLOAD, if_may="request_correction")  # the attachment: a scan's limit, not a form's 64 KB
@login_required
def new_correction(code: str):
    result = get_holder_result_or_404(current_user, code)
    refused = why_not_request_correction(current_user, result)
    form = CorrectionForm()
    if refused is None and form.validate_on_submit():
        upload = form.attachment.data
        try:
            scan = checked_scan(upload) if upload and upload.filename else None
            made = corrections.submit(current_user, result, form.field.data, form.value.data, scan)
        except (ScanError, UserError) as err:
            flash(f"Chưa gửi được yêu cầu: {err}", "error")
        else:
            flash(f"Đã gửi yêu cầu sửa thông tin. Đơn vị sẽ xác nhận đã nhận trước ngày "
                  f"{made.acknowledge_due:%d/%m/%Y} và trả lời trước ngày {made.answer_due:%d/%m/%Y}.", "success")
            return redirect(url_for("me.correction_list", _anchor=f"yeu-cau-{made.id}"))
    status = 422 if form.is_submitted() else 200
    return render_template("me/correction_new.html", result=result, form=form, refused=refused,
                           values={name: corrections.shown_value(result, name) for name in dict(form.field.choices)
                                   if name}), status


@bp.get("/corrections/<int:correction_id>/attachment")
@login_required
def correction_attachment(correction_id: int):
    found = get_correction_or_404(current_user, correction_id)
    if not has_own_store(current_user) or found.attachment is None:
        abort(404)
    return send_attachment(found)
