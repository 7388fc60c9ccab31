"""Request input no database can take, turned away before any view reads it.

PostgreSQL's text cannot hold a NUL character and its ids are 32-bit integers; SQLite's integers
stop at 2**63. Unchecked, `?actor=%00`, `/admin/results/99999999999` or `?page=` with twenty
digits each ended in a 500 (issue 12's held attacks, re-run by tests/test_held_input.py).
"""

from __future__ import annotations

from flask import jsonify, render_template, request
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # the largest id (and page number) a query is asked about
NUL_MESSAGE = "Yêu cầu có ký tự không hợp lệ (ký tự NUL). Hãy xóa ký tự đó rồi gửi lại."


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: a number past MAX_ID matches no route (404), as a missing id does."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def int_arg(name: str, default: int | None = None) -> int | None:
    """A query-string number from 1 to MAX_ID, else `default`."""
    value = request.args.get(name, type=int)
    return value if value is not None and 1 <= value <= MAX_ID else default


def _texts():
    yield request.path
    sources = [request.args] + ([request.form] if request.method not in ("GET", "HEAD") else [])
    for source in sources:
        for key, value in source.items(multi=True):
            yield key
            yield value


def refuse_nul_characters():
    """Before every request: a NUL anywhere in the path, the query or a form field is a 400."""
    if any("\x00" in text for text in _texts()):
        if request.blueprint == "api":
            return jsonify(error="bad_request", message=NUL_MESSAGE), 400
        return render_template("error.html", code=400, title="Yêu cầu không hợp lệ", message=NUL_MESSAGE), 400
    return None
