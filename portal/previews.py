"""Page images of stored PDFs, drawn by PDFium in the rendering process and cached in the store
(storage.previews(): beside the files, or in the bucket, so that every node serves them).

Two sizes, from a fixed set (SIZES; never a number taken from the URL): "normal", shown in the
result's page, and "large", opened on its own page to be read and pinch-zoomed. The image of a page
is at most that size's width and height, whatever the page's size: a 1 KB PDF can declare a page
of 100 x 14,400 points, which drawn 900 pixels wide was a 900 x 129,600 bitmap and took a web
process from 160 to 404 MB. It is drawn in the rendering process (portal/copies/worker.py:
spawned, its address space limited, replaced after a number of tasks) from a checked temporary
copy of the file, into a temporary PNG the web process caches and sends. A reviewer reads the
scan zoomed in "large" too.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from pathlib import Path

from flask import current_app

from .storage import Storage, previews, storage

log = logging.getLogger(__name__)
PREVIEW_WIDTH = 900
PREVIEW_MAX_HEIGHT = 2700  # three A4 pages' height at that width: a taller page is scaled down to fit
# Size name: (width, max height) in pixels. "large" is a small print's detail at 2x pinch zoom on a phone,
# or a stamp's date read by a reviewer zoomed in.
SIZES = {"normal": (PREVIEW_WIDTH, PREVIEW_MAX_HEIGHT), "large": (1800, 5400)}
PREVIEW_SECONDS = 30
MAX_PAGE = 999_999  # page numbers a cached image's name may carry (storage.PreviewCache)


def page_image(sha256: str, page_number: int, size: str = "normal", store: Storage | None = None) -> bytes | None:
    """PNG of one page (1-based), drawn once then served from the cache; None if no such page
    (or the page could not be drawn).

    `store`: where the file is, if not the results' store (the holding area's, say).
    It is drawn only from a stored file that is checked (storage.FileDamaged otherwise): an
    altered scan is never shown as the original. A cached image was drawn from checked bytes.
    """
    from .copies import worker
    from .copies.pdf import CopyFailed

    width, height = SIZES[size]
    if not 1 <= page_number <= MAX_PAGE:  # no such page (and no such name in the cache)
        return None
    cache = previews()
    name = cache.name_for(sha256, page_number, size)
    if (cached := cache.get(name)) is not None:
        return cached
    store = store or storage()
    with store.local_copy(sha256) as source:
        target = source.with_suffix(".png")
        try:
            drawn = worker.run(draw_page, str(source), page_number, str(target), width, height,
                               processes=current_app.config["COPY_PROCESSES"], timeout=PREVIEW_SECONDS)
        except CopyFailed:
            log.warning("page %s of %s could not be drawn", page_number, sha256)
            return None
        if not drawn:
            return None
        image = target.read_bytes()
    cache.put(name, image)
    return image


def preview_scale(width: float, height: float, max_width: int = PREVIEW_WIDTH,
                  max_height: int = PREVIEW_MAX_HEIGHT) -> float | None:
    """Points to pixels for a page of this size: `max_width` wide, unless that makes it taller
    than `max_height`. None for a page with no area. PDFium rounds the bitmap's size up,
    hence the hair less."""
    if not (width > 0 and height > 0 and math.isfinite(width) and math.isfinite(height)):
        return None
    return min(max_width / width, max_height / height) * (1 - 1e-6)


def draw_page(source: str, page_number: int, target: str, max_width: int = PREVIEW_WIDTH,
              max_height: int = PREVIEW_MAX_HEIGHT) -> bool:
    """In the rendering process: draw the page into `target` (PNG, written atomically). False if
    the PDF has no such page."""
    import pypdfium2

    document = pypdfium2.PdfDocument(source)
    try:
        if not 1 <= page_number <= len(document):
            return False
        page = document[page_number - 1]
        try:
            scale = preview_scale(page.get_width(), page.get_height(), max_width, max_height)
            if scale is None:
                return False
            image = page.render(scale=scale).to_pil()
        finally:
            page.close()
    finally:
        document.close()
    fd, temp_name = tempfile.mkstemp(dir=Path(target).parent, suffix=".png")
    try:
        with os.fdopen(fd, "wb") as out:
            image.save(out, format="PNG", optimize=False)
        os.replace(temp_name, target)
    except BaseException:  # a full disk, say: no half-drawn image stays in the cache
        Path(temp_name).unlink(missing_ok=True)
        raise
    return True
