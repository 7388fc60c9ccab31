"""Where a login may send someone afterwards: only a path of the portal's own."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import current_app
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect


def local_path(target: str | None) -> str | None:
    """`target` when it is a path (and query) that one of the portal's pages answers by GET, else None.

    Browsers ignore tabs and newlines in a URL and read a backslash as a slash, so "/\\t/evil"
    and "/\\\\evil" would lead to another site; a newline in a Location header is an error. Any such
    character refuses the target, and so does anything with a scheme or a host.
    """
    if not target or len(target) > 2000 or any(ord(ch) < 0x21 or ch in "\\\x7f" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    # "/a/../..//evil" is "//evil" once a browser removes the dot segments (%2e is a dot to it too).
    if any(segment in (".", "..") for segment in unquote(parts.path).split("/")):
        return None
    try:
        current_app.url_map.bind("localhost").match(parts.path, method="GET")
    except RequestRedirect:
        pass  # e.g. a missing trailing slash: still one of ours
    except HTTPException:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
