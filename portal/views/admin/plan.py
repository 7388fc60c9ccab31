"""Following the digitization plan: inventory, progress by phase and unit, the yearly report."""

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ... import plan, reports
from ...copies.pdf import CopyFailed
from ...errors import UserError
from ...forms.plan import InventoryForm
from ...operations.plan import record_inventory
from ...timeutil import today
from ..query import year_arg
from . import bp


@bp.route("/plan", methods=["GET", "POST"])
def plan_dashboard():
    units = plan.units_for(current_user)
    form = InventoryForm()
    form.unit_id.choices = [(u.id, u.name) for u in units]
    if form.validate_on_submit():
        unit = next(u for u in units if u.id == form.unit_id.data)
        try:
            record_inventory(current_user, unit, form.phase.data, form.results.data, form.pages.data, form.note.data)
        except UserError as err:
            flash(str(err), "error")
        else:
            flash(f"Đã ghi số kiểm kê của {unit.name}, giai đoạn {form.phase.data}.", "success")
            return redirect(url_for("admin.plan_dashboard"))
    figures = plan.progress(current_user)
    history = plan.inventory_history(current_user)
    return render_template("admin/plan.html", figures=figures, form=form, history=history, phases=plan.PHASE_LABELS,
                           paces=plan.PACE_LABELS, pace_hints=plan.PACE_HINTS, deadlines=plan.DEADLINES,
                           this_year=today().year)


@bp.get("/plan/report")
def plan_report():
    year = year_arg(today().year)
    fmt = request.args.get("format", "xlsx")
    if fmt not in reports.FORMATS or not 1990 <= year <= 2100:
        abort(404)
    price = current_app.config["PRICE_PER_PAGE"]
    try:
        data = reports.export(plan.yearly_report(current_user, year, price), year, price, fmt)
    except CopyFailed as err:  # the PDF is rendered in the rendering process, which may fail
        flash(str(err), "error")
        return redirect(url_for("admin.plan_dashboard"))
    mimetype = {"csv": "text/csv", "pdf": "application/pdf",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[fmt]
    return Response(data, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=bao-cao-so-hoa-{year}.{fmt}"})
