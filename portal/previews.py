"""Page images of stored PDFs, drawn by PDFium and cached beside the files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pypdfium2
from flask import current_app

from .scans import PDFIUM_LOCK
from .storage import storage

PREVIEW_WIDTH = 900


def page_image(sha256: str, page_number: int) -> Path | None:
    """PNG of one page (1-based), drawn once then served from the cache; None if no such page."""
    source = storage().path_for(sha256)
    cache_dir = Path(current_app.config["PORTAL_DATA_DIR"]) / "previews" / sha256[:2]
    target = cache_dir / f"{sha256}-{page_number}.png"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with PDFIUM_LOCK:
        document = pypdfium2.PdfDocument(str(source))
        try:
            if not 1 <= page_number <= len(document):
                return None
            page = document[page_number - 1]
            scale = PREVIEW_WIDTH / page.get_width()
            image = page.render(scale=scale).to_pil()
            page.close()
        finally:
            document.close()
    fd, temp_name = tempfile.mkstemp(dir=cache_dir, suffix=".png")
    try:
        with os.fdopen(fd, "wb") as out:
            image.save(out, format="PNG", optimize=False)
        os.replace(temp_name, target)
    except BaseException:  # a full disk, say: no half-drawn image stays in the cache
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target
