"""Request text no database can take, turned away before any view reads it: PostgreSQL's text
cannot hold a NUL character, and `?actor=%00` ended in a 500. (Numbers are read by views/query.py.)
"""

from __future__ import annotations

from flask import request

from .errors import answer

NUL_MESSAGE = "Yêu cầu có ký tự không hợp lệ (ký tự NUL). Hãy xóa ký tự đó rồi gửi lại."


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
        return answer(400, NUL_MESSAGE, error="bad_request")
    return None
