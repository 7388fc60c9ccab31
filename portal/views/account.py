"""Logging in and out."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from .. import audit
from ..extensions import db, limiter
from ..forms.accounts import LoginForm
from ..models import User
from ..timeutil import utcnow

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
        username = form.username.data.strip().lower()
        user = db.session.scalars(select(User).where(func.lower(User.username) == username)).first()
        if user is not None and user.active and user.check_password(form.password.data):
            login_user(user)
            user.last_login_at = utcnow()
            audit.record("login", actor=user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("public.index"))
        audit.record("login.failed", actor=user, target=username[:64])
        db.session.commit()
        flash("Tên đăng nhập hoặc mật khẩu không đúng.", "error")
    return render_template("login.html", form=form)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        audit.record("logout")
        db.session.commit()
    logout_user()
    flash("Bạn đã đăng xuất.", "info")
    return redirect(url_for("public.index"))
