"""The holder's own data store (Kho dữ liệu của tôi)."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import audit
from ..access import (
    can,
    current_login,
    get_data_export_or_404,
    get_fellow_member_or_404,
    get_holder_copy_or_404,
    get_holder_result_or_404,
    get_holder_share_or_404,
    has_own_store,
    is_business_account,
    visible_copies,
    visible_shares,
    why_not,
    why_not_assured,
    why_not_remove_member,
)
from ..errors import UserError
from ..extensions import db
from ..forms.accounts import MemberForm
from ..forms.results import ConfirmForm
from ..forms.shares import ShareForm
from ..models import CertifiedCopy, CopyShare
from ..models.data_exports import QUEUED, RUNNING
from ..operations import claims, copies, corrections, mydata, settings, shares
from ..timeutil import today, utcnow
from . import searching
from .documents import send_copy, send_data_export, send_data_zip, send_document, send_page
from .query import page_arg

bp = Blueprint("me", __name__, url_prefix="/me")


@bp.get("/results")
@login_required
def results():
    if not has_own_store(current_user):
        abort(404)
    q, filters, page, per_page = searching.read_args(staff=False)
    found, problem = searching.run(current_user, q, filters, page, per_page)
    return render_template("me/results.html", found=found, problem=problem, q=q, filters=filters,
                           statuses=searching.HOLDER_STATUS_CHOICES, **searching.facet_choices(current_user))


@bp.get("/results/<code>")
@login_required
def result(code: str):
    item = get_holder_result_or_404(current_user, code)
    audit.record_access("result.view", item)
    issued = db.session.scalars(visible_copies(current_user).where(CertifiedCopy.result_id == item.id)
                                .order_by(CertifiedCopy.issued_at.desc())).all()
    # The copy just issued (named by the redirect): its panel stays on the page with its download.
    just_issued = next((c for c in issued if c.verification_code == request.args.get("da_cap")), None)
    weak_login = why_not_assured(current_login(), "copy")
    return render_template("me/result.html", result=item, copies=issued, just_issued=just_issued,
                           no_copy_reason=copies.why_no_copy(item) or weak_login, weak_login=weak_login,
                           corrections_here=[c for c in corrections.requests_of(current_user)
                                             if c.result_id == item.id],
                           today=today())


@bp.get("/results/<code>/pages/<int:page_number>")
@login_required
def result_page_view(code: str, page_number: int):
    """One page large, on a page of its own that a phone can pinch-zoom."""
    item = get_holder_result_or_404(current_user, code)
    if item.document is None or not 1 <= page_number <= item.document.page_count:
        abort(404)
    return render_template("me/result_page.html", result=item, page_number=page_number)


@bp.route("/results/<code>/copies", methods=["GET", "POST"])
@login_required
def issue_copy(code: str):
    """Says what a copy from the register is and what it costs (GET), issues it on the confirmation (POST)."""
    item = get_holder_result_or_404(current_user, code)
    form = ConfirmForm()
    if not form.validate_on_submit():
        weak_login = why_not_assured(current_login(), "copy")
        return render_template("me/copy_confirm.html", result=item, form=form, fee=settings.get(settings.COPY_FEE),
                               no_copy_reason=copies.why_no_copy(item) or weak_login, weak_login=weak_login)
    try:
        made = copies.issue_copy(current_user, item)
    except UserError as err:
        flash(str(err), "error")
        return redirect(url_for("me.result", code=code, _anchor="ban-sao"))
    return redirect(url_for("me.result", code=code, da_cap=made.verification_code, _anchor="da-cap"))


@bp.get("/copies")
@login_required
def copy_list():
    if not has_own_store(current_user):
        abort(404)
    page = db.paginate(visible_copies(current_user).order_by(CertifiedCopy.issued_at.desc(), CertifiedCopy.id.desc()),
                       page=page_arg(), per_page=30, error_out=False)
    return render_template("me/copies.html", page=page)


@bp.get("/copies/<code>")
@login_required
def copy_page(code: str):
    """One copy: its facts, its download and verification link, its share links and their uses."""
    return _copy_page(get_holder_copy_or_404(current_user, code), ShareForm())


def _copy_page(copy: CertifiedCopy, form: ShareForm, created: shares.NewShare | None = None, status: int = 200):
    listed = db.session.scalars(visible_shares(current_user).where(CopyShare.copy_id == copy.id)
                                .order_by(CopyShare.created_at.desc(), CopyShare.id.desc())).all()
    # Why this holder may not share it (a weak VNeID session, a result no longer valid), or None.
    cannot_share = why_not(current_user, "share", copy.result) or copies.why_no_copy(copy.result)
    return render_template("me/copy.html", copy=copy, form=form, shares=listed, created=created,
                           cannot_share=cannot_share, weak_login=why_not_assured(current_login(), "share"),
                           verify_url=f"{current_app.config['BASE_URL']}/verify/{copy.verification_code}",
                           confirm_form=ConfirmForm()), status


@bp.post("/copies/<code>/shares")
@login_required
def create_share(code: str):
    """Makes a link and shows it on the page it answers with: the only time the token is seen
    (no redirect: it would have to carry the token in the URL or the session cookie)."""
    copy = get_holder_copy_or_404(current_user, code)
    form = ShareForm()
    if not form.validate_on_submit():
        return _copy_page(copy, form, status=422 if form.is_submitted() else 200)
    try:
        created = shares.create(current_user, copy, form.recipient.data, form.days.data)
    except UserError as err:
        flash(str(err), "error")
        return redirect(url_for("me.copy_page", code=copy.verification_code, _anchor="chia-se"))
    return _copy_page(copy, ShareForm(formdata=None), created=created, status=201)


@bp.get("/shares")
@login_required
def share_list():
    """Every share link of the holder's copies, newest first, with each opening."""
    if not has_own_store(current_user):
        abort(404)
    page = db.paginate(visible_shares(current_user).order_by(CopyShare.created_at.desc(), CopyShare.id.desc()),
                       page=page_arg(), per_page=30, error_out=False)
    return render_template("me/shares.html", page=page, confirm_form=ConfirmForm())


@bp.post("/shares/<int:share_id>/revoke")
@login_required
def revoke_share(share_id: int):
    share = get_holder_share_or_404(current_user, share_id)
    if ConfirmForm().validate_on_submit():
        if shares.revoke(current_user, share):
            flash(f"Đã thu hồi đường dẫn chia sẻ cho {share.recipient}; đường dẫn không mở được nữa.", "success")
        else:
            flash("Đường dẫn này đã bị thu hồi trước đó.", "info")
    if request.form.get("back") == "list":
        return redirect(url_for("me.share_list"))
    return redirect(url_for("me.copy_page", code=share.copy.verification_code, _anchor="chia-se"))


@bp.get("/copies/<code>.pdf")
@login_required
def copy_file(code: str):
    """The issued copy again, byte for byte the file that was registered."""
    return send_copy(get_holder_copy_or_404(current_user, code))


@bp.get("/results/<code>/file")
@login_required
def result_file(code: str):
    return send_document(get_holder_result_or_404(current_user, code))


@bp.get("/results/<code>/pages/<int:page_number>.png")
@login_required
def result_page(code: str, page_number: int):
    return send_page(get_holder_result_or_404(current_user, code), page_number)


@bp.get("/results/<code>/pages/<int:page_number>-large.png")
@login_required
def result_page_large(code: str, page_number: int):
    return send_page(get_holder_result_or_404(current_user, code), page_number, "large")


@bp.get("/access")
@login_required
def access_log():
    """Who looked at my results: every view, download and look-up, from the audit trail."""
    if not has_own_store(current_user):
        abort(404)
    page = db.paginate(audit.events_about(current_user), page=page_arg(),
                       per_page=30, error_out=False)
    # Whom each share link opened on this page was for (the trail names the share, not its recipient).
    ids = {e.details.get("share") for e in page.items if e.action == "share.use"} - {None}
    recipients = dict(db.session.execute(visible_shares(current_user).where(CopyShare.id.in_(ids))
                                         .with_only_columns(CopyShare.id, CopyShare.recipient)).all()) if ids else {}
    return render_template("me/access.html", page=page, recipients=recipients)


@bp.get("/data")
@login_required
def my_data():
    """Everything the portal holds about the caller, as one ZIP (portal/operations/mydata.py): built
    now for a store of ordinary size, otherwise a page to have it built in the background."""
    if not has_own_store(current_user):
        abort(404)
    if size := mydata.too_large(current_user):
        exports = mydata.exports_of(current_user)
        return render_template("me/data.html", results=size[0], megabytes=-(-size[1] // (1024 * 1024)),
                               max_results=current_app.config["MYDATA_MAX_RESULTS"],
                               max_mb=current_app.config["MYDATA_MAX_MB"], exports=exports,
                               busy=any(e.status in (QUEUED, RUNNING) for e in exports),
                               keep_hours=mydata.KEEP_HOURS, confirm_form=ConfirmForm())
    return send_data_zip(mydata.build(current_user), current_user.holder_id, utcnow())


@bp.post("/data/exports")
@login_required
def request_data_export():
    """Asks for the background build of the caller's export (one at a time); a store small enough
    to pack while they wait is not built twice, /me/data gives it at once."""
    if not has_own_store(current_user):
        abort(404)
    if ConfirmForm().validate_on_submit() and mydata.too_large(current_user):
        mydata.request_export(current_user)
        flash("Đã nhận yêu cầu; dữ liệu đang được đóng gói. Trang này cho biết tiến độ và đường dẫn tải khi xong.",
              "success")
    return redirect(url_for("me.my_data"))


@bp.get("/data/exports/<int:export_id>.zip")
@login_required
def data_export_file(export_id: int):
    return send_data_export(get_data_export_or_404(current_user, export_id))


@bp.route("/members", methods=["GET", "POST"])
@login_required
def members():
    """A business's accounts: every member sees them; its managers add and remove members."""
    if not is_business_account(current_user):
        abort(404)
    form = MemberForm()
    if form.validate_on_submit():
        try:
            added = claims.add_member(current_user, form.username.data, form.password.data, form.full_name.data)
        except UserError as err:
            flash(str(err), "error")
        else:
            flash(f"Đã thêm thành viên; tên đăng nhập là {added.username}.", "success")
            return redirect(url_for("me.members"))
    listed = claims.members(current_user)
    # Who may be removed is decided in access.py: never one's own row.
    removable = {m.id for m in listed if why_not_remove_member(current_user, m) is None}
    return render_template("me/members.html", form=form, members=listed, removable=removable,
                           may_manage=can(current_user, "manage_members"), confirm_form=ConfirmForm())


@bp.route("/members/<int:user_id>/remove", methods=["GET", "POST"])
@login_required
def remove_member(user_id: int):
    """Asks first (GET), removes on the confirmation (POST)."""
    member = get_fellow_member_or_404(current_user, user_id)
    if not can(current_user, "manage_members"):
        abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        if why := why_not_remove_member(current_user, member):
            flash(why, "error")
            return redirect(url_for("me.members"))
        return render_template("me/member_remove.html", member=member, confirm_form=form)
    try:
        claims.remove_member(current_user, member)
    except UserError as err:
        flash(str(err), "error")
        return redirect(url_for("me.members"))
    flash(f"Đã gỡ {member.display_name}; tài khoản đó không còn truy cập được.", "success")
    return redirect(url_for("me.members"))


@bp.post("/members/<int:user_id>/manager")
@login_required
def member_manager(user_id: int):
    member = get_fellow_member_or_404(current_user, user_id)
    if ConfirmForm().validate_on_submit():
        try:
            claims.set_manager(current_user, member, request.form.get("manager") == "1")
        except UserError as err:
            flash(str(err), "error")
        else:
            flash("Đã cập nhật người quản lý.", "success")
    return redirect(url_for("me.members"))


from . import me_corrections  # noqa: E402,F401  (its routes register on bp)
