"""An uploaded scan, as every view that takes one reads it (a clerk's form, a machine client's
push): spooled to the store's temporary area within the upload limit, then checked and made
into a PDF (portal/scans.py)."""

from __future__ import annotations

from flask import current_app
from werkzeug.datastructures import FileStorage

from ..scans import PreparedScan, ScanError, Spooled, prepare
from ..storage import TooLarge, storage


def checked_scan(upload: FileStorage) -> PreparedScan:
    """The uploaded file checked and made into a PDF; ScanError says what is wrong with it."""
    store = storage()
    try:
        path, sha, size = store.spool(upload.stream, limit=current_app.config["MAX_UPLOAD_BYTES"])
    except TooLarge:
        limit = current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
        raise ScanError(f"Tệp vượt quá giới hạn {limit} MB.") from None
    spooled = Spooled(path, sha, size, upload.mimetype or "")
    try:
        return prepare(store, spooled, upload.filename or "")
    except BaseException:  # refused, or no space left for the PDF made from an image
        store.discard(path)
        raise
