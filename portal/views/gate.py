"""What every request passes before anything reads its body: who is asking, then how large a
body they may send.

CSRF protection reads the form, and Werkzeug writes every uploaded part over 500 KB to a
temporary file while it reads; so the factory registers `before_the_body` ahead of CSRF
protection. It runs the audience's own check first (the department's pages are for staff: nobody
else's body is read there), then sets the body limit of the endpoint for this person: a form's few
kilobytes unless the view declares more (`takes_body`). Werkzeug refuses a Content-Length over the
limit before reading a byte, and stops a body sent without one (chunked) when it passes the limit.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, request
from flask_login import current_user

from ..access import can

FORM, UPLOAD, IMPORT = "form", "upload", "import"

_audience_checks: dict[str, Callable] = {}


def audience_check(bp: Blueprint):
    """Register a blueprint's check of who may use it (a before_request that must not wait for
    CSRF protection); it answers like a before_request: None to go on, or a response."""
    def register(check: Callable) -> Callable:
        _audience_checks[bp.name] = check
        return check
    return register


def takes_body(kind: str, *, if_may: str | None = None):
    """Declare that a view takes more than a form: UPLOAD (one scan or copy) or IMPORT (a batch).
    With `if_may` (an action of access.can), only people allowed to do it get that limit."""
    def mark(view: Callable) -> Callable:
        view.body_kind = (kind, if_may)
        return view
    return mark


def body_limits(config) -> dict[str, int]:
    form = config["MAX_FORM_BYTES"]
    return {FORM: form, UPLOAD: config["MAX_UPLOAD_BYTES"] + form,
            IMPORT: config["IMPORT_MAX_ZIP_MB"] * 1024 * 1024 + form}


def body_kind() -> str:
    """The kind of body this request may carry, for this endpoint and this person."""
    view = current_app.view_functions.get(request.endpoint or "")
    kind, if_may = getattr(view, "body_kind", (FORM, None))
    if if_may is not None and not can(current_user, if_may):
        return FORM
    return kind


def before_the_body():
    # Who is asking, first: loading the session may end an idle one (a commit), which must come
    # before any view's work (portal/operations/sessions.session_user).
    current_user._get_current_object()
    check = _audience_checks.get(request.blueprint or "")
    if check is not None and (answer := check()) is not None:
        return answer
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None  # no body expected; the app's default limit (a form's) stands
    request.max_content_length = body_limits(current_app.config)[body_kind()]
    return None
