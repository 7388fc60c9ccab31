"""Blueprints, one per audience, and what every page shares (errors, headers, filters)."""

from __future__ import annotations

from datetime import date

from flask import Flask, request, url_for

from .. import wording
from ..models.results import STATUS_LABELS
from ..timeutil import to_local

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

def _csp() -> str:
    """The policy; the logout form of a VNeID session is answered by a redirect to the provider's
    end_session_endpoint, which browsers hold to form-action too."""
    from ..national_identity import form_targets

    targets = form_targets()
    return CSP.replace("form-action 'self'", " ".join(["form-action 'self'", *targets])) if targets else CSP


def register_views(app: Flask) -> None:
    from . import account, admin, api, errors, inputs, machine, me, openapi, privacy, public, shares, verify
    from .query import DatabaseInt

    app.before_request(inputs.refuse_nul_characters)

    app.url_map.converters["int"] = DatabaseInt  # before the routes that use it are added
    for blueprint in (public.bp, account.bp, admin.bp, me.bp, verify.bp, shares.bp, privacy.bp):
        app.register_blueprint(blueprint)
    openapi.init_app(app, api.bp, machine.bp)  # the JSON APIs, described from their schemas

    errors.register(app)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", _csp())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            # Set, not defaulted: send_file's own "no-cache" lets a browser keep a holder's PDF on disk.
            response.headers["Cache-Control"] = "no-store"
        return response

    app.add_template_filter(wording.day, "vn_date")

    @app.template_filter("vn_datetime")
    def vn_datetime(value):
        local = to_local(value)
        return local.strftime("%d/%m/%Y %H:%M") if local else ""

    @app.template_filter("iso_vn_date")
    def iso_vn_date(value: str):
        return wording.day(date.fromisoformat(value)) if value else ""

    @app.template_filter("iso_vn_datetime")
    def iso_vn_datetime(value: str):
        return wording.moment(value, seconds=True)

    app.add_template_filter(wording.details_words, "vn_details")  # audit details: words, not Python
    app.add_template_filter(wording.value_words, "vn_value")
    app.add_template_filter(wording.money, "vn_money")

    @app.template_filter("status_label")
    def status_label(value):
        return STATUS_LABELS.get(value, value or "")

    @app.template_global()
    def ocr_available() -> bool:
        from ..ocr import available

        return available()

    @app.template_global()
    def national_login_offered() -> bool:
        from ..national_identity import configured

        return configured()

    @app.template_global()
    def page_url(number: int) -> str:
        """This page's URL with its filters, at another page number (globals reach imported macros)."""
        args = {**(request.view_args or {}), **request.args.to_dict(), "page": number}
        return url_for(request.endpoint, **args)

    @app.context_processor
    def globals_():
        from flask_login import current_user

        from ..access import can, is_business_account, sees_every_unit, works_for_department
        from ..operations import settings

        # What the navigation and the pages' wording offer: decided in access.py, not in the template.
        return {"department_name": app.config["DEPARTMENT_NAME"], "help_line": settings.help_line,
                "nav": {"members": is_business_account(current_user), "department": works_for_department(current_user),
                        "manage": can(current_user, "manage"), "every_unit": sees_every_unit(current_user)}}
