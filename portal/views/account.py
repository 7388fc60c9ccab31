"""Logging in (password, then the second factor where it is on; or the national identity, VNeID)
and out; the account page: password, second factor, open sessions."""

from __future__ import annotations

import time

import segno
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from .. import national_identity
from ..access import current_login
from ..errors import UserError
from ..extensions import db, limiter
from ..forms.accounts import (
    ClaimForm,
    LoginForm,
    NewPasswordForm,
    PasswordForm,
    SecondFactorForm,
    SecondFactorOffForm,
    SecondFactorSetupForm,
)
from ..forms.results import ConfirmForm
from ..models import User
from ..models.sessions import NATIONAL_METHOD
from ..operations import claims, national_login, second_factor, sessions, settings
from ..operations import privacy as privacy_notice
from ..safe_redirect import local_path
from .errors import answer, wants_json

bp = Blueprint("account", __name__)

PENDING = "portal_pending_login"  # password checked, second factor awaited
PENDING_SECONDS = 300
PENDING_TRIES = 5
NOTICE_SHOWN = "portal_privacy_notice"  # a holder's first login since the notice changed


def _open_session(user: User, method: str, **national) -> None:
    # A login made while another session is open (a holder raising their VNeID level) replaces it.
    sessions.end_session(session.get(sessions.COOKIE_KEY), "replaced")
    session.clear()  # nothing from before is kept (the CSRF token included): the cookie's value is new
    token = sessions.start_session(user, method, **national)
    login_user(user)
    session[sessions.COOKIE_KEY] = token
    if privacy_notice.record_notice_shown(user):
        session[NOTICE_SHOWN] = True  # the next page shows the notice's summary (views/privacy.py)


def _log_in(user: User, method: str, next_url: str | None):
    _open_session(user, method)
    if settings.second_factor_required(user) and not user.totp_enabled:
        flash("Quản trị hệ thống yêu cầu cán bộ dùng xác thực hai bước: hãy bật ngay bây giờ.", "info")
        return redirect(url_for("account.second_factor_page"))
    return redirect(next_url or url_for("public.index"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("public.index"))
    form = LoginForm()
    next_url = local_path(request.args.get("next"))
    if form.validate_on_submit():
        try:
            user = sessions.check_credentials(form.username.data, form.password.data)
        except UserError as err:
            flash(str(err), "error")
        else:
            if not user.totp_enabled:
                return _log_in(user, "password", next_url)
            session.clear()
            session[PENDING] = {"user": user.id, "at": time.time(), "tries": 0, "next": next_url}
            return redirect(url_for("account.login_second_factor"))
    return render_template("login.html", form=form, next_url=next_url)


@bp.get("/login/oidc")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def national_start():
    """Off to the national identity provider (VNeID), with `state`, `nonce` and PKCE."""
    if not national_identity.configured():
        return answer(404, "Cổng chưa được kết nối với Cổng Dịch vụ công quốc gia / VNeID; hãy đăng nhập bằng "
                           "tài khoản và mật khẩu.")
    try:
        return redirect(national_identity.start(local_path(request.args.get("next"))))
    except national_identity.LoginRefused as err:
        return _national_refused(err)


@bp.get("/login/oidc/callback")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def national_callback():
    """Back from the provider: the verified identity opens its account (operations/national_login.py)."""
    if not national_identity.configured():
        return answer(404)
    try:
        asserted = national_identity.finish(request.args)
        user, person = national_login.log_in(asserted)
    except national_identity.LoginRefused as err:
        return _national_refused(err)
    _open_session(user, NATIONAL_METHOD, assurance_level=person.level, id_token=asserted.id_token)
    flash(f"Đã đăng nhập bằng VNeID: {user.display_name}.", "success")
    return redirect(asserted.next_url or url_for("me.results"))


def _national_refused(err: national_identity.LoginRefused):
    """The Vietnamese page of a refused national login, with the password login still on it."""
    national_login.record_refusal(err)
    return answer(err.status, str(err), title="Chưa đăng nhập được bằng VNeID", error=err.reason,
                  template="national_refused.html", form=LoginForm())


def _pending_user() -> tuple[User | None, dict]:
    pending = session.get(PENDING) or {}
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, {}
    user = db.session.get(User, pending["user"])
    return (user if user is not None and user.active and user.totp_enabled else None), pending


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login_second_factor():
    user, pending = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash("Phiên đăng nhập đã hết hạn; hãy nhập lại tên đăng nhập và mật khẩu.", "info")
        return redirect(url_for("account.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            used = second_factor.check_at_login(user, form.code.data)
        except UserError as err:
            pending["tries"] = pending.get("tries", 0) + 1
            if pending["tries"] >= PENDING_TRIES:
                session.pop(PENDING, None)
                flash("Nhập sai mã quá nhiều lần; hãy đăng nhập lại từ đầu.", "error")
                return redirect(url_for("account.login"))
            session[PENDING] = pending
            flash(str(err), "error")
        else:
            response = _log_in(user, f"password+{used}", pending.get("next"))
            if used == "recovery":
                flash(f"Bạn vừa dùng một mã khôi phục; còn {second_factor.recovery_codes_left(user)} mã. "
                      "Hãy tạo bộ mã mới nếu sắp hết.", "info")
            return response
    return render_template("login_second_factor.html", form=form)


@bp.route("/claim", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PUBLIC_LOOKUP_RATE_LIMIT"], methods=["POST"])
def claim():
    """Open an account with the one-time code from a result's hand-over slip."""
    form = ClaimForm()
    if form.validate_on_submit():
        try:
            user = claims.claim_account(form.code.data, form.holder_id.data, form.username.data,
                                        form.password.data, form.full_name.data or "")
        except UserError as err:
            flash(str(err), "error")
        else:
            _open_session(user, "claim")
            flash("Đã tạo tài khoản. Đây là kho dữ liệu của bạn.", "success")
            return redirect(url_for("me.results"))
    return render_template("claim.html", form=form)


@bp.post("/logout")
def logout():
    id_token = sessions.end_session(session.get(sessions.COOKIE_KEY))
    logout_user()
    session.clear()
    flash("Bạn đã đăng xuất.", "info")
    # A session the national identity opened: the provider ends its own too, and sends the browser back.
    if id_token and national_identity.configured() and (away := national_identity.logout_url(id_token)):
        return redirect(away)
    return redirect(url_for("public.index"))


def unauthorized():
    """Where a page that needs a login sends someone who has none (or whose session ended)."""
    ended = getattr(g, "session_ended", None)
    message = {"idle": "Phiên làm việc đã kết thúc vì lâu không thao tác; vui lòng đăng nhập lại.",
               "expired": "Phiên làm việc đã quá thời hạn; vui lòng đăng nhập lại."}.get(
        ended or "", "Vui lòng đăng nhập để tiếp tục.")
    if wants_json():
        return answer(401, message)
    flash(message, "info")
    return redirect(url_for("account.login", next=request.full_path if request.method == "GET" else None))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            sessions.change_password(current_user, form.current.data, form.new.data, form.confirm.data)
        except UserError as err:
            flash(str(err), "error")
        else:
            # Every session ended, this one too (a copy of its cookie may be what was stolen): a new one goes on.
            _open_session(current_user._get_current_object(), "password.change")
            flash("Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc.", "success")
            return redirect(url_for("public.index"))
    token = session.get(sessions.COOKIE_KEY)
    open_sessions = [(record, sessions.is_current(record, token)) for record in sessions.open_sessions(current_user)]
    login = current_login()
    return render_template("password.html", form=form, end_form=ConfirmForm(), open_sessions=open_sessions,
                           linked=national_login.is_linked(current_user), off_form=ConfirmForm(prefix="off"),
                           on_form=NewPasswordForm(), national_session=login is not None
                           and login.method == NATIONAL_METHOD)


@bp.post("/account/password-login/off")
@login_required
def password_login_off():
    """The holder who logs in through VNeID turns their password off."""
    if ConfirmForm(prefix="off").validate_on_submit():
        try:
            national_login.turn_password_off(current_user)
        except UserError as err:
            flash(str(err), "error")
        else:
            flash("Đã tắt đăng nhập bằng mật khẩu: từ nay chỉ đăng nhập được bằng VNeID. Các phiên đăng nhập bằng "
                  "mật khẩu đã kết thúc.", "success")
    return redirect(url_for("account.change_password"))


@bp.post("/account/password-login/on")
@login_required
def password_login_on():
    """A new password opens the account again (set from a VNeID session; the old one never returns)."""
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            national_login.turn_password_on(current_user, form.new.data, form.confirm.data)
        except UserError as err:
            flash(str(err), "error")
        else:
            flash("Đã đặt mật khẩu mới: tài khoản đăng nhập được bằng mật khẩu này hoặc bằng VNeID.", "success")
    else:
        flash("Hãy nhập mật khẩu mới hai lần.", "error")
    return redirect(url_for("account.change_password"))


@bp.post("/account/logout-everywhere")
@login_required
def logout_everywhere():
    if ConfirmForm().validate_on_submit():
        sessions.end_all_sessions(current_user)
        logout_user()
        session.clear()
        flash("Đã đăng xuất trên mọi thiết bị.", "info")
    return redirect(url_for("public.index"))


@bp.get("/account/second-factor")
@login_required
def second_factor_page():
    user = current_user._get_current_object()
    if not user.is_staff:
        return redirect(url_for("account.change_password"))
    uri = second_factor.provisioning_uri(user)
    return render_template(
        "second_factor.html", start_form=ConfirmForm(), setup_form=SecondFactorSetupForm(),
        off_form=SecondFactorOffForm(), codes_form=SecondFactorForm(prefix="codes"),
        qr=segno.make(uri, error="m").png_data_uri(scale=5, border=4) if uri else None,
        secret=second_factor.pending_secret(user), required=settings.second_factor_required(user),
        recovery_left=second_factor.recovery_codes_left(user) if user.totp_enabled else 0,
    )


@bp.post("/account/second-factor/start")
@login_required
def second_factor_start():
    if ConfirmForm().validate_on_submit():
        try:
            second_factor.begin_enrolment(current_user)
        except UserError as err:
            flash(str(err), "error")
    return redirect(url_for("account.second_factor_page"))


@bp.post("/account/second-factor/confirm")
@login_required
def second_factor_confirm():
    form = SecondFactorSetupForm()
    if form.validate_on_submit():
        try:
            codes = second_factor.confirm_enrolment(current_user, form.code.data)
        except UserError as err:
            flash(str(err), "error")
        else:
            return render_template("recovery_codes.html", codes=codes, first=True)
    else:
        flash("Hãy nhập mã 6 chữ số đang hiện trong ứng dụng.", "error")
    return redirect(url_for("account.second_factor_page"))


@bp.post("/account/second-factor/recovery-codes")
@login_required
def second_factor_new_codes():
    form = SecondFactorForm(prefix="codes")
    if form.validate_on_submit():
        try:
            codes = second_factor.regenerate_recovery_codes(current_user, form.code.data)
        except UserError as err:
            flash(str(err), "error")
        else:
            return render_template("recovery_codes.html", codes=codes, first=False)
    return redirect(url_for("account.second_factor_page"))


@bp.post("/account/second-factor/off")
@login_required
def second_factor_off():
    form = SecondFactorOffForm()
    if form.validate_on_submit():
        try:
            second_factor.disable(current_user, form.password.data, form.code.data)
        except UserError as err:
            flash(str(err), "error")
        else:
            flash("Đã tắt xác thực hai bước.", "success")
    return redirect(url_for("account.second_factor_page"))


def require_second_factor():
    """A staff member who must use the second factor and has not set it up yet can do nothing
    else (registered on the staff pages)."""
    if (current_user.is_authenticated and settings.second_factor_required(current_user)
            and not current_user.totp_enabled):
        flash("Quản trị hệ thống yêu cầu cán bộ dùng xác thực hai bước: hãy bật trước khi tiếp tục.", "info")
        return redirect(url_for("account.second_factor_page"))
    return None

