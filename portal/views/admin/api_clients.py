"""Machine clients, for admins: list, create (the secret shown once), rotate, revoke.

A secret is shown in the answer to the POST that made it, never stored in the session (a flash
message rides in the signed but readable cookie) and never shown again."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ...errors import UserError
from ...extensions import db
from ...forms.api_clients import ApiClientForm
from ...models import ApiClient, Unit
from ...operations import api_clients as ops
from . import bp, flash_error
from .manage import admin_required


def _page(form: ApiClientForm, shown: tuple[ApiClient, str] | None = None):
    clients = db.session.scalars(select(ApiClient).order_by(ApiClient.revoked_at.is_not(None), ApiClient.name)).all()
    return render_template("admin/api_clients.html", form=form, clients=clients, shown=shown)


def _form() -> ApiClientForm:
    form = ApiClientForm()
    form.unit_code.choices = [("", "—")] + [
        (u.code, f"{u.code} — {u.name}") for u in db.session.scalars(select(Unit).where(Unit.active)
                                                                      .order_by(Unit.code))]
    return form


@bp.route("/api-clients", methods=["GET", "POST"])
@admin_required
def api_clients():
    form = _form()
    if form.validate_on_submit():
        try:
            made = ops.create_client(current_user, form.name.data, form.unit_code.data)
        except UserError as err:
            flash_error(err)
        else:
            return _page(_form(), made)
    return _page(form)


@bp.post("/api-clients/<int:client_id>/rotate")
@admin_required
def rotate_api_client(client_id: int):
    client = db.get_or_404(ApiClient, client_id)  # (the form's token is checked by CSRF protection)
    try:
        secret = ops.rotate_secret(current_user, client)
    except UserError as err:
        flash_error(err)
        return redirect(url_for("admin.api_clients"))
    return _page(_form(), (client, secret))


@bp.post("/api-clients/<int:client_id>/revoke")
@admin_required
def revoke_api_client(client_id: int):
    client = db.get_or_404(ApiClient, client_id)
    try:
        ops.revoke_client(current_user, client)
    except UserError as err:
        flash_error(err)
    else:
        flash(f"Đã thu hồi ứng dụng kết nối «{client.name}»; các mã truy cập của nó hết hiệu lực ngay.", "success")
    return redirect(url_for("admin.api_clients"))
