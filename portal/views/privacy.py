"""The privacy notice: a public page, and its summary on the page a holder lands on at their first
login since the notice changed (the login records it: operations/privacy.py)."""

from __future__ import annotations

from flask import Blueprint, render_template, session
from sqlalchemy import select

from .. import privacy
from ..extensions import db
from ..models import Procedure
from ..operations import settings

bp = Blueprint("privacy", __name__)


@bp.get("/quyen-rieng-tu")
def notice():
    procedures = db.session.scalars(select(Procedure).where(Procedure.active).order_by(Procedure.code)).all()
    return render_template("privacy.html", contact=contact(), procedures=procedures,
                           log_years=settings.get(settings.ACCESS_LOG_YEARS))


def contact() -> dict:
    return {"name": settings.get(settings.PRIVACY_CONTACT), "email": settings.get(settings.PRIVACY_EMAIL),
            "phone": settings.get(settings.PRIVACY_PHONE), "address": settings.get(settings.HELP_ADDRESS)}


@bp.app_template_global()
def privacy_summary_due() -> bool:
    """True once, on the first page drawn after the login that recorded the notice as shown."""
    from .account import NOTICE_SHOWN

    return bool(session.pop(NOTICE_SHOWN, False))


@bp.app_template_global()
def privacy_notice_version() -> str:
    return privacy.NOTICE_VERSION
