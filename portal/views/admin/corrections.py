"""The issuing unit's queue of requests to correct (portal/operations/corrections.py): its reviewers
answer them, its other staff see them; another unit's request is a 404, as its results are."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...access import get_correction_or_404, why_not_answer_correction
from ...errors import UserError
from ...extensions import db
from ...forms.corrections import RefuseForm, ReplacementForm
from ...forms.results import ConfirmForm
from ...operations import corrections
from ...timeutil import today
from ..documents import send_attachment
from ..query import page_arg
from . import bp, flash_error


@bp.get("/corrections")
def correction_queue():
    show_all = request.args.get("tat_ca") == "1"
    page = db.paginate(corrections.queue(current_user, open_only=not show_all), page=page_arg(), per_page=30,
                       error_out=False)
    return render_template("admin/corrections.html", page=page, show_all=show_all, today=today())


def _page(found, refuse_form=None, replace_form=None, status=200):
    return render_template("admin/correction.html", item=found, today=today(), confirm_form=ConfirmForm(),
                           refuse_form=refuse_form or RefuseForm(formdata=None),
                           replace_form=replace_form or ReplacementForm(formdata=None),
                           cannot_answer=why_not_answer_correction(current_user, found)), status


@bp.get("/corrections/<int:correction_id>")
def correction(correction_id: int):
    return _page(get_correction_or_404(current_user, correction_id))


@bp.post("/corrections/<int:correction_id>/acknowledge")
def acknowledge_correction(correction_id: int):
    found = get_correction_or_404(current_user, correction_id)
    if ConfirmForm().validate_on_submit():
        try:
            corrections.acknowledge(current_user, found)
            flash("Đã xác nhận đã nhận yêu cầu; người yêu cầu thấy ngay trên trang của họ.", "success")
        except UserError as err:
            flash_error(err)
    return redirect(url_for("admin.correction", correction_id=correction_id))


@bp.post("/corrections/<int:correction_id>/correct")
def correct_correction(correction_id: int):
    found = get_correction_or_404(current_user, correction_id)
    form = ReplacementForm()
    if not form.validate_on_submit():
        return _page(found, replace_form=form, status=422)
    try:
        replacement = corrections.correct(current_user, found, form.code.data)
    except UserError as err:
        flash_error(err)
        return _page(found, replace_form=form, status=422)
    flash(f"Đã trả lời: thông tin được sửa bằng kết quả thay thế {replacement.code}.", "success")
    return redirect(url_for("admin.correction", correction_id=correction_id))


@bp.post("/corrections/<int:correction_id>/refuse")
def refuse_correction(correction_id: int):
    found = get_correction_or_404(current_user, correction_id)
    form = RefuseForm()
    if not form.validate_on_submit():
        return _page(found, refuse_form=form, status=422)
    try:
        corrections.refuse(current_user, found, form.reason.data)
    except UserError as err:
        flash_error(err)
        return _page(found, refuse_form=form, status=422)
    flash("Đã trả lời: từ chối sửa, kèm lý do.", "success")
    return redirect(url_for("admin.correction", correction_id=correction_id))


@bp.get("/corrections/<int:correction_id>/attachment")
def correction_attachment(correction_id: int):
    found = get_correction_or_404(current_user, correction_id)
    if found.attachment is None:
        return redirect(url_for("admin.correction", correction_id=correction_id))
    return send_attachment(found)
