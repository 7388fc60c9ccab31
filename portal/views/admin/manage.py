"""What only admins manage: units, users, the procedure catalogue, and the audit log."""

from __future__ import annotations

import functools
from datetime import datetime, time, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ...access import can
from ...errors import UserError
from ...extensions import db
from ...forms.accounts import ProcedureForm, SettingsForm, UnitForm, UserForm
from ...identifiers import InvalidInput, parse_date
from ...models import AuditEvent, Procedure, Unit, User
from ...models.audit import ACTION_LABELS
from ...operations import accounts as ops
from ...operations import second_factor, settings
from ...timeutil import local_zone
from ...workdays import parse_holidays
from ..query import page_arg
from . import bp, flash_error


def admin_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not can(current_user, "manage"):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.get("/units")
@admin_required
def units():
    rows = db.session.scalars(select(Unit).order_by(Unit.code)).all()
    return render_template("admin/units.html", units=rows)


@bp.route("/units/new", methods=["GET", "POST"])
@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@admin_required
def unit_form(unit_id: int | None = None):
    unit = db.get_or_404(Unit, unit_id) if unit_id else None
    form = UnitForm(obj=unit)
    if unit is not None:
        form.code.data = unit.code  # the code is part of every dossier code: it never changes
    if form.validate_on_submit():
        try:
            if unit is None:
                ops.create_unit(current_user, form.code.data, form.name.data)
            else:
                ops.update_unit(current_user, unit, form.name.data, form.active.data, form.push_publishes.data)
        except UserError as err:
            flash_error(err)
        else:
            flash("Đã lưu đơn vị.", "success")
            return redirect(url_for("admin.units"))
    return render_template("admin/unit_form.html", form=form, unit=unit)


@bp.get("/users")
@admin_required
def users():
    rows = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    return render_template("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_form(user_id: int | None = None):
    user = db.get_or_404(User, user_id) if user_id else None
    form = UserForm(obj=user)
    form.unit_code.choices = [("", "—")] + [
        (u.code, u.name) for u in db.session.scalars(select(Unit).order_by(Unit.name))
    ]
    if request.method == "GET" and user is not None:
        form.unit_code.data = user.unit.code if user.unit else ""
    if user is not None:
        form.username.data = user.username
    if form.validate_on_submit():
        try:
            if user is None:
                if not form.password.data:
                    raise InvalidInput("Cần đặt mật khẩu cho tài khoản mới.")
                ops.create_user(current_user, form.username.data, form.role.data, form.password.data,
                                full_name=form.full_name.data, unit_code=form.unit_code.data or None,
                                holder_id=form.holder_id.data or None)
            else:
                ops.update_user(current_user, user, role=form.role.data, full_name=form.full_name.data,
                                active=form.active.data, unit_code=form.unit_code.data or None,
                                holder_id=form.holder_id.data or None, new_password=form.password.data or None,
                                business_manager=form.business_manager.data)
                if form.reset_second_factor.data and user.totp_secret:
                    second_factor.reset(current_user, user)
        except UserError as err:
            flash_error(err)
        else:
            flash("Đã lưu tài khoản.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user)


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings_page():
    keys = {"require_second_factor": settings.REQUIRE_SECOND_FACTOR, "copy_fee": settings.COPY_FEE,
            "help_phone": settings.HELP_PHONE, "help_address": settings.HELP_ADDRESS, "help_hours": settings.HELP_HOURS,
            "tax_code_id_type": settings.TAX_CODE_ID_TYPE,
            "privacy_contact": settings.PRIVACY_CONTACT, "privacy_email": settings.PRIVACY_EMAIL,
            "privacy_phone": settings.PRIVACY_PHONE, "access_log_years": settings.ACCESS_LOG_YEARS,
            "correction_answer_days": settings.CORRECTION_ANSWER_DAYS, "holidays": settings.HOLIDAYS}
    data = {name: settings.get(key) for name, key in keys.items()}
    data["holidays"] = "\n".join(data["holidays"])
    formdata = None
    if request.method == "POST":  # a field left out keeps its value (older forms and scripts post only what
        formdata = request.form.copy()  # they know); a checkbox left out is one unticked
        for name in keys.keys() - {"require_second_factor"}:
            formdata.setdefault(name, str(data[name]))
    form = SettingsForm(formdata=formdata, data=data)
    if form.validate_on_submit():
        for name, key in keys.items():
            value = getattr(form, name).data
            if key == settings.REQUIRE_SECOND_FACTOR:
                value = bool(value)
            elif key == settings.HOLIDAYS:  # one date a line, checked by the form
                value = [day.isoformat() for day in parse_holidays(value)]
            elif isinstance(value, str):
                value = value.strip()
            if value != settings.get(key):
                settings.change(current_user, key, value)
        flash("Đã lưu cài đặt.", "success")
        return redirect(url_for("admin.settings_page"))
    return render_template("admin/settings.html", form=form, without=ops.staff_without_second_factor())


@bp.get("/procedures")
@admin_required
def procedures():
    rows = db.session.scalars(select(Procedure).order_by(Procedure.field, Procedure.code)).all()
    return render_template("admin/procedures.html", procedures=rows)


@bp.route("/procedures/new", methods=["GET", "POST"])
@bp.route("/procedures/<int:procedure_id>", methods=["GET", "POST"])
@admin_required
def procedure_form(procedure_id: int | None = None):
    procedure = db.get_or_404(Procedure, procedure_id) if procedure_id else None
    form = ProcedureForm(obj=procedure)
    if procedure is not None:
        form.code.data = procedure.code
    if form.validate_on_submit():
        try:
            ops.save_procedure(current_user, form.code.data, form.name.data, form.field.data,
                               form.retention_years.data, procedure)
        except UserError as err:
            flash_error(err)
        else:
            flash("Đã lưu thủ tục.", "success")
            return redirect(url_for("admin.procedures"))
    return render_template("admin/procedure_form.html", form=form, procedure=procedure)


def _day_bound(text: str, end: bool) -> datetime | None:
    try:
        day = parse_date(text)
    except InvalidInput:
        return None
    moment = datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=local_zone())
    return moment


@bp.get("/audit")
@admin_required
def audit_log():
    args = request.args
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if args.get("action") in ACTION_LABELS:
        query = query.where(AuditEvent.action == args["action"])
    if args.get("actor"):
        query = query.where(AuditEvent.actor_name.ilike(f"%{args['actor'][:100]}%"))
    if args.get("target"):
        query = query.where(AuditEvent.target.ilike(f"%{args['target'][:100]}%"))
    if args.get("ip"):
        query = query.where(AuditEvent.ip == args["ip"][:64])
    if args.get("since") and (since := _day_bound(args["since"], end=False)):
        query = query.where(AuditEvent.at >= since)
    if args.get("until") and (until := _day_bound(args["until"], end=True)):
        query = query.where(AuditEvent.at < until)
    page = db.paginate(query, page=page_arg(),
                       per_page=current_app.config["PER_PAGE"] * 2, error_out=False)
    return render_template("admin/audit.html", page=page, actions=ACTION_LABELS, args=args)
