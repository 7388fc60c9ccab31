"""Results: the unit's list, upload, the page of one result, review and the state changes."""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ... import audit, scan_match
from ...access import (
    HeldUploadRefused,
    can,
    get_held_upload,
    get_result_or_404,
    is_reviewer,
    sees_every_unit,
    visible_batches,
    visible_results,
)
from ...copies.pdf import CopyFailed
from ...errors import UserError
from ...extensions import db
from ...forms.results import ConfirmForm, ReasonForm, ResultMetadataForm, UploadForm
from ...listing import listing
from ...models import ImportBatch, Procedure, Result, Unit
from ...models.results import DRAFT
from ...operations import claims
from ...operations import held as held_ops
from ...operations import results as ops
from ...operations import slips as slip_ops
from ...previews import SIZES
from ...scans import ScanError
from .. import searching
from ..documents import send_document, send_held_page, send_page
from ..gate import UPLOAD, takes_body
from ..query import DATABASE_INT_MAX, id_arg, number_arg, page_arg
from ..uploads import checked_scan
from . import bp, flash_error

ZOOMS = (100, 150, 200, 300)  # the scan's width in the viewer, in percent of the viewer's


@bp.get("/")
def home():
    return redirect(url_for("admin.results"))


@bp.get("/results")
def results():
    q, filters, page_number, _ = searching.read_args(staff=True)
    every_unit = sees_every_unit(current_user)
    if not every_unit:
        filters.unit = None  # the restriction already keeps them to their unit
    context = dict(q=q, filters=filters, statuses=searching.STAFF_STATUS_CHOICES,
                   units=db.session.scalars(select(Unit).order_by(Unit.name)).all() if every_unit else [],
                   procedures=db.session.scalars(select(Procedure).order_by(Procedure.code)).all())
    per_page = current_app.config["PER_PAGE"]
    if q:
        found, problem = searching.run(current_user, q, filters, page_number, per_page)
        return render_template("admin/results.html", found=found, problem=problem, page=None, **context)
    page = db.paginate(listing(current_user, filters), page=page_number, per_page=per_page, error_out=False)
    return render_template("admin/results.html", page=page, found=None, problem=None, **context)


@bp.get("/review")
def review_queue():
    return _queue_page()


def _queue_page(*, status: int = 200, ticked: set[int] | None = None, typed: dict[int, str] | None = None,
                errors: dict[int, str] | None = None):
    """Drafts waiting for a reviewer, oldest first, each with its first page beside its metadata
    and what the scan's text says about its number and date; filtered by import batch. Shown
    again, as the reviewer left it (`ticked`, `typed`), when a button of it was refused."""
    query = visible_results(current_user).where(Result.status == DRAFT).order_by(Result.digitized_at, Result.id)
    batch_id = id_arg("batch")
    if batch_id:
        query = query.where(Result.import_batch_id == batch_id)
    batches = db.session.scalars(visible_batches(current_user).where(ImportBatch.id.in_(
        visible_results(current_user).where(Result.status == DRAFT, Result.import_batch_id.is_not(None))
        .with_only_columns(Result.import_batch_id).distinct())).order_by(ImportBatch.id.desc())).all()
    page = db.paginate(query, page=page_arg(),
                       per_page=current_app.config["PER_PAGE"], error_out=False)
    checks = {r.id: scan_match.check(r.document.text if r.document else None, r.document_number, r.issue_date)
              for r in page.items}
    reviewer = is_reviewer(current_user)
    return render_template("admin/review.html", page=page, batches=batches, batch_id=batch_id, checks=checks,
                           confirm=ConfirmForm(), can_review=reviewer, ticked=ticked or set(), typed=typed or {},
                           errors=errors or {}, slips=slip_ops.mine(current_user, 3, live_only=True) if reviewer else []
                           ), status


@bp.post("/review/publish")
def publish_checked():
    """Publish every result ticked on a page of the queue; each is its own operation, so one
    refusal (the reviewer digitized it, say) does not stop the others. The holders without an
    account get their hand-over slips at once, in one PDF (operations/slips.py)."""
    back = _queue_url()
    if not ConfirmForm().validate_on_submit():
        flash("Biểu mẫu đã hết hạn; hãy tải lại trang.", "error")
        return redirect(back)
    # Each ticked box names a result and the version the reviewer saw ("id:version").
    seen = dict(pair for pair in (_id_and_version(value) for value in request.form.getlist("result_id")[:200])
                if pair is not None)
    if not seen:
        flash("Chưa chọn kết quả nào.", "error")
        return redirect(back)
    published, refused = [], []
    for item in db.session.scalars(visible_results(current_user).where(Result.id.in_(seen))).all():
        try:
            ops.publish(current_user, item, seen_version=seen[item.id])
            published.append(item)
        except UserError as err:
            refused.append(str(err) if isinstance(err, ops.ChangedSinceSeen) else f"Không phát hành {item.code}: {err}")
    if published:
        flash(f"Đã phát hành {len(published)} kết quả.", "success")
        try:
            slip, not_issued = slip_ops.issue_for(current_user, published)
        except (UserError, CopyFailed) as err:
            slip, not_issued = None, [f"Chưa tạo được phiếu trả kết quả: {err} Hãy cấp mã tại trang của từng kết quả."]
        if slip is not None:
            flash(f"Đã tạo {slip.slip_count} phiếu trả kết quả có mã nhận tài khoản cho người được cấp chưa có "
                  f"tài khoản. Tải phiếu để in ở ô «Phiếu trả kết quả» đầu trang (chỉ bạn tải được, trong "
                  f"{current_app.config['HANDOVER_SLIP_DAYS']} ngày).", "claim")
        elif not not_issued:
            flash("Mọi người được cấp đều đã có tài khoản: kết quả đã có trong kho dữ liệu của họ.", "info")
        refused += not_issued
    for message in refused:
        flash(message, "error")
    return redirect(back)


@bp.post("/review/return")
def queue_return():
    """"Trả lại" pressed on a card of the queue: the whole page's form comes, so an empty reason
    shows the same page again (same filters, what was ticked and typed kept), the error by its field."""
    if not ConfirmForm().validate_on_submit():
        flash("Biểu mẫu đã hết hạn; hãy tải lại trang.", "error")
        return redirect(url_for("admin.review_queue", **_queue_args()))
    asked = request.form.get("return", "")
    if not (asked.isascii() and asked.isdigit() and int(asked) <= DATABASE_INT_MAX):
        abort(404)
    item = get_result_or_404(current_user, int(asked))
    typed = {}
    for key, value in request.form.items():
        name, _, number = key.partition("-")
        if name == "reason" and number.isascii() and number.isdigit():
            typed[int(number)] = value[:2000]
    ticked = {pair[0] for pair in map(_id_and_version, request.form.getlist("result_id")[:200]) if pair}
    reason = typed.get(item.id, "").strip()
    if len(reason) < 5:
        message = ("Hãy ghi lý do trả lại (ít nhất 5 ký tự) để người số hóa biết cần sửa gì." if not reason
                   else "Lý do trả lại quá ngắn: cần ít nhất 5 ký tự.")
        return _queue_page(status=422, ticked=ticked, typed=typed, errors={item.id: message})
    try:
        ops.send_back(current_user, item, reason)
    except UserError as err:
        return _queue_page(status=422, ticked=ticked, typed=typed, errors={item.id: str(err)})
    flash(f"Đã trả lại kết quả {item.code} cho người số hóa.", "success")
    return redirect(url_for("admin.review_queue", **_queue_args()))


def _queue_args() -> dict:
    return {name: value for name, value in (("batch", id_arg("batch")), ("page", page_arg())) if value and
            not (name == "page" and value == 1)}


def _id_and_version(value: str) -> tuple[int, int] | None:
    result_id, _, version = value.partition(":")
    if not (result_id.isascii() and result_id.isdigit() and version.isascii() and version.isdigit()):
        return None
    return (int(result_id), int(version)) if int(result_id) <= DATABASE_INT_MAX else None


def _queue_url() -> str:
    """Back to the queue page the reviewer came from (only ever a local queue URL)."""
    target = request.form.get("next", "")
    return target if target.startswith("/admin/review") and "//" not in target else url_for("admin.review_queue")


def _fill_choices(form: ResultMetadataForm) -> None:
    procedures = db.session.scalars(select(Procedure).where(Procedure.active).order_by(Procedure.code))
    form.procedure_code.choices = [("", "— Chọn thủ tục —")] + [
        (p.code, f"{p.code} — {p.name}") for p in procedures
    ]
    if sees_every_unit(current_user):
        units = db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.name))
        form.unit_id.choices = [(u.id, u.name) for u in units]
    else:
        form.unit_id.choices = [(current_user.unit_id, current_user.unit.name)]
        form.unit_id.data = current_user.unit_id


def _input_from(form: ResultMetadataForm) -> ops.ResultInput:
    procedure = db.session.scalars(select(Procedure).where(Procedure.code == form.procedure_code.data)).one()
    unit = db.session.get(Unit, form.unit_id.data)
    issue_date = form.date("issue_date")
    retention = form.retention_years.data
    retention_years = procedure.retention_years if retention == "procedure" else (int(retention) if retention else None)
    return ops.ResultInput(
        procedure=procedure, unit=unit,
        result_code=form.result_code.data or None, dossier_code=form.dossier_code.data or None,
        document_number=form.document_number.data, issue_date=issue_date,
        signer_name=form.signer_name.data.strip(), signer_title=form.signer_title.data.strip(),
        summary=form.summary.data.strip(), holder_kind=form.holder_kind, holder_id=form.holder_id.data,
        holder_name=form.holder_name.data.strip(), holder_address=(form.holder_address.data or "").strip(),
        valid_from=form.date("valid_from"), valid_until=form.date("valid_until"),
        formed_year=form.formed_year.data or issue_date.year, origin=form.origin.data,
        retention_years=retention_years,
        paper_pages=form.paper_pages.data,
    )


def _spool_upload(form: UploadForm):
    """The uploaded file checked and made into a PDF, or None with the error on the form."""
    try:
        return checked_scan(form.file.data)
    except ScanError as err:
        form.file.errors.append(str(err))
        return None


def _held_for(form: UploadForm):
    """The scan this submit stands on, held for its uploader: the file just sent (checked, then
    held, so that an error in another field does not make the clerk choose it again), or the one
    held by an earlier submit (its token in the form). None with the error on the file field."""
    upload = form.file.data
    if upload and upload.filename:
        scan = _spool_upload(form)
        if scan is not None:
            _give_up_held(form.held_token.data)  # another file chosen: the one held before is not needed
            return held_ops.hold(current_user, scan)
    elif not form.held_token.data:
        form.file.errors.append("Chưa chọn tệp bản quét.")
    if form.held_token.data:  # a new file that failed its checks leaves the one held before
        try:
            return get_held_upload(current_user, form.held_token.data)
        except HeldUploadRefused as err:
            form.file.errors.append(str(err))
            form.held_token.data = ""
    return None


def _give_up_held(token: str | None) -> None:
    if token:
        try:
            held_ops.release(get_held_upload(current_user, token))
        except HeldUploadRefused:
            pass


def _save_new(form: UploadForm, template: str, replaces: Result | None = None, **context):
    held = None
    if request.method == "POST":
        valid = form.validate_on_submit()
        held = _held_for(form)
        if held is not None:
            form.held_token.data = held.token
            form.file.label.text = "Chọn tệp khác (không bắt buộc)"
        if valid and held is not None:
            scan = held_ops.scan_of(held)
            try:
                result = ops.create_draft(current_user, _input_from(form), scan, replaces=replaces)
            except UserError as err:
                flash_error(err)
            else:
                held_ops.release(held)
                flash(f"Đã lưu bản nháp {result.code}; kết quả đang chờ cán bộ kiểm tra.", "success")
                return redirect(url_for("admin.result", result_id=result.id))
    return render_template(template, form=form, held=held, **context)


@bp.post("/results/held")
@takes_body(UPLOAD, if_may="upload")
def hold_scan():
    """A scan chosen on the upload form, checked and held at once (JavaScript sends it as soon as
    it is chosen): its token and the address of its first page, as JSON."""
    if not can(current_user, "upload"):
        abort(403)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return jsonify(error="no_file", message="Chưa chọn tệp bản quét."), 400
    try:
        held = held_ops.hold(current_user, checked_scan(upload))
    except ScanError as err:
        return jsonify(error="scan", message=str(err)), 400
    return jsonify(token=held.token, name=held.original_name, size=held.size_label, pages=held.page_count,
                   preview_url=url_for("admin.held_page", token=held.token, page_number=1))


@bp.get("/results/held/<token>/pages/<int:page_number>.png")
def held_page(token: str, page_number: int):
    """A page of a scan held for the person asking; anyone else's, or a made-up token, is 404."""
    try:
        held = get_held_upload(current_user, token)
    except HeldUploadRefused:
        abort(404)
    return send_held_page(held, page_number)


@bp.route("/results/new", methods=["GET", "POST"])
@takes_body(UPLOAD, if_may="upload")
def new_result():
    if not can(current_user, "upload", unit=current_user.unit):
        abort(403)
    form = UploadForm()
    _fill_choices(form)
    return _save_new(form, "admin/result_form.html", title="Số hóa kết quả mới")


@bp.get("/results/<int:result_id>")
def result(result_id: int):
    item = get_result_or_404(current_user, result_id)
    audit.record_access("result.view", item)
    replacement = db.session.scalars(select(Result).where(Result.replaces_id == item.id)).first()
    return render_template(
        "admin/result.html", result=item, replacement=replacement, viewer=_viewer(item),
        confirm_form=ConfirmForm(), return_form=ReasonForm(prefix="return"), revoke_form=ReasonForm(prefix="revoke"),
        may={action: can(current_user, action, item)
             for action in ("edit", "review", "revoke", "replace", "claim_code")},
    )


def _viewer(item: Result) -> dict | None:
    """The page of the scan shown (?page=, from 1), its zoom (?zoom=, one of ZOOMS), and what
    the scan's text says about the typed number and date."""
    document = item.document
    if document is None:
        return None
    pages = max(document.page_count or 1, 1)
    number = number_arg("page", 1, low=1, high=pages, clamp=True)
    zoom = number_arg("zoom", ZOOMS[0], low=ZOOMS[0], high=ZOOMS[-1])
    zoom = zoom if zoom in ZOOMS else ZOOMS[0]
    findings = scan_match.check(document.text, item.document_number, item.issue_date)
    texts = scan_match.split_pages(document.text)
    page_text = texts[number - 1] if number <= len(texts) else ""
    return dict(pages=pages, number=number, zoom=zoom, zooms=ZOOMS, findings=findings,
                size="normal" if zoom == ZOOMS[0] else "large",
                text=scan_match.highlight(page_text, findings) if findings and page_text.strip() else None)


@bp.get("/results/<int:result_id>/file")
def result_file(result_id: int):
    return send_document(get_result_or_404(current_user, result_id))


@bp.get("/results/<int:result_id>/pages/<int:page_number>.png")
def result_page(result_id: int, page_number: int):
    """A page's image; ?size=large asks for the larger rendering (previews.SIZES), any other size is a 404."""
    size = request.args.get("size", "normal")
    if size not in SIZES:
        abort(404)
    return send_page(get_result_or_404(current_user, result_id), page_number, size)


@bp.route("/results/<int:result_id>/edit", methods=["GET", "POST"])
def edit_result(result_id: int):
    item = get_result_or_404(current_user, result_id)
    if not can(current_user, "edit", item):
        abort(403)
    form = ResultMetadataForm(obj=None if request.method == "POST" else _form_data(item))
    _fill_choices(form)
    if form.validate_on_submit():
        try:
            ops.update_draft(current_user, item, _input_from(form))
        except UserError as err:
            flash_error(err)
        else:
            flash("Đã lưu thay đổi.", "success")
            return redirect(url_for("admin.result", result_id=item.id))
    return render_template("admin/result_form.html", form=form, result=item, title=f"Sửa {item.code}")


@bp.route("/results/<int:result_id>/replace", methods=["GET", "POST"])
@takes_body(UPLOAD, if_may="upload")
def replace_result(result_id: int):
    old = get_result_or_404(current_user, result_id)
    if not can(current_user, "replace", old):
        abort(403)
    form = UploadForm(obj=None if request.method == "POST" else _form_data(old, for_replacement=True))
    _fill_choices(form)
    return _save_new(form, "admin/result_form.html", replaces=old, result=old, replacing=True,
                     title=f"Thay thế kết quả {old.code}")


def _form_data(item: Result, for_replacement: bool = False):
    """The form's initial values from a stored result."""
    class Data:
        pass

    data = Data()
    for name in ("document_number", "signer_name", "signer_title", "summary", "holder_id", "holder_name",
                 "holder_address", "formed_year", "origin", "paper_pages", "unit_id"):
        setattr(data, name, getattr(item, name))
    data.procedure_code = item.procedure.code
    data.retention_years = "" if item.retention_years is None else str(item.retention_years)
    if for_replacement:
        data.document_number = data.paper_pages = None
        data.formed_year = None
    else:
        data.result_code, data.dossier_code = item.code, item.dossier_code
        data.issue_date = f"{item.issue_date:%d/%m/%Y}"
        data.valid_from = f"{item.valid_from:%d/%m/%Y}"
        data.valid_until = f"{item.valid_until:%d/%m/%Y}" if item.valid_until else ""
    return data


def _state_change(result_id: int, operation, form: ConfirmForm | ReasonForm, done: str, then=None):
    item = get_result_or_404(current_user, result_id)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(" ".join(errors), "error")
        return redirect(url_for("admin.result", result_id=item.id))
    try:
        if isinstance(form, ReasonForm):
            operation(current_user, item, form.reason.data)
        else:
            operation(current_user, item)
    except ops.ChangedSinceSeen as err:
        flash_error(err)  # the reviewer looks again at what is there now
        return redirect(url_for("admin.result", result_id=item.id))
    except UserError as err:
        flash_error(err)
        return redirect(url_for("admin.result", result_id=item.id))
    flash(done.format(code=item.code), "success")
    if then is not None:
        then(item)
    if request.form.get("next"):
        return redirect(_queue_url())
    return redirect(url_for("admin.result", result_id=item.id))


@bp.post("/results/<int:result_id>/publish")
def publish(result_id: int):
    # The version the reviewer's page showed: a draft changed since is not published.
    seen = request.form.get("version", type=int) or 0

    def publish_seen(actor, item):
        return ops.publish(actor, item, seen_version=seen)

    # Only a publish that happened issues a claim code: a second click must not void the first code.
    return _state_change(result_id, publish_seen, ConfirmForm(), "Đã phát hành kết quả {code}.",
                         then=_flash_claim_code_if_needed)


@bp.post("/results/<int:result_id>/claim-code")
def new_claim_code(result_id: int):
    item = get_result_or_404(current_user, result_id)
    if ConfirmForm().validate_on_submit():
        _flash_claim_code(item)
    return redirect(url_for("admin.result", result_id=item.id))


def _flash_claim_code_if_needed(item: Result) -> None:
    if claims.holder_has_account(item.holder_id):
        flash("Người được cấp đã có tài khoản: kết quả đã có trong kho dữ liệu của họ.", "info")
    else:
        _flash_claim_code(item)


def _flash_claim_code(item: Result) -> None:
    try:
        code = claims.issue_claim_code(current_user, item)
    except UserError as err:
        flash_error(err)
        return
    flash(f"Mã nhận tài khoản của người được cấp: {code} — in trên phiếu trả kết quả. Mã chỉ hiện một lần, "
          f"dùng một lần, hết hạn sau {claims.VALID_DAYS} ngày.", "claim")


@bp.post("/results/<int:result_id>/return")
def send_back(result_id: int):
    return _state_change(result_id, ops.send_back, ReasonForm(prefix="return"),
                         "Đã trả lại kết quả {code} cho người số hóa.")


@bp.post("/results/<int:result_id>/revoke")
def revoke(result_id: int):
    return _state_change(result_id, ops.revoke, ReasonForm(prefix="revoke"), "Đã thu hồi kết quả {code}.")
