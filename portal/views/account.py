"""Logging in and out."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from .. import audit
from ..extensions import db, limiter
from ..forms.accounts import ClaimForm, LoginForm, PasswordForm
from ..forms.results import ConfirmForm
from ..operations import OperationError, claims, sessions, user_errors

bp = Blueprint("account", __name__)


def _safe_next(target: str | None) -> str | None:
    # Only a path on this site: never an absolute URL or a scheme-relative one.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("public.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = sessions.authenticate(form.username.data, form.password.data)
        except OperationError as err:
            flash(str(err), "error")
        else:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("public.index"))
    return render_template("login.html", form=form)


@bp.route("/claim", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PUBLIC_LOOKUP_RATE_LIMIT"], methods=["POST"])
def claim():
    """Open an account with the one-time code from a result's hand-over slip."""
    form = ClaimForm()
    if form.validate_on_submit():
        try:
            user = claims.claim_account(form.code.data, form.holder_id.data, form.username.data,
                                        form.password.data, form.full_name.data or "")
        except user_errors() as err:
            flash(str(err), "error")
        else:
            login_user(user)
            flash("Đã tạo tài khoản. Đây là kho dữ liệu của bạn.", "success")
            return redirect(url_for("me.results"))
    return render_template("claim.html", form=form)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        audit.record("logout")
        db.session.commit()
    logout_user()
    flash("Bạn đã đăng xuất.", "info")
    return redirect(url_for("public.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            sessions.change_password(current_user, form.current.data, form.new.data, form.confirm.data)
        except user_errors() as err:
            flash(str(err), "error")
        else:
            login_user(current_user._get_current_object())  # this session goes on; the others end
            flash("Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc.", "success")
            return redirect(url_for("public.index"))
    return render_template("password.html", form=form, end_form=ConfirmForm())


@bp.post("/account/logout-everywhere")
@login_required
def logout_everywhere():
    if ConfirmForm().validate_on_submit():
        sessions.end_all_sessions(current_user)
        logout_user()
        flash("Đã đăng xuất trên mọi thiết bị.", "info")
    return redirect(url_for("public.index"))
