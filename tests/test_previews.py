"""Page images: drawn in the rendering process, never larger than the cap, whatever size the PDF
declares for its page (issue 12, item 17)."""

from __future__ import annotations

import io
import re

import pikepdf
import pytest
from PIL import Image

from portal.previews import PREVIEW_MAX_HEIGHT, PREVIEW_WIDTH

from .conftest import login, make_result

# The web process may grow by this much while it has a page drawn (imports, the pool's pipes);
# drawing a 100 x 14,400 pt page in it took ~250-650 MB.
RSS_GROWTH_BOUND_KB = 32 * 1024


def one_page_pdf(width: float, height: float) -> bytes:
    """A real PDF of one page of that size in points, with a little drawn on it."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(width, height))
    pdf.pages[0].Contents = pdf.make_stream(b"0 0 1 rg 5 5 50 50 re f")
    out = io.BytesIO()
    pdf.save(out, compress_streams=True)
    return out.getvalue()


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        return int(re.search(rf"^{field}:\s+(\d+) kB", fh.read(), re.M).group(1))


def _peak_growth_kb(fetch) -> int:
    """How far above its resident size this process (the web process of the tests) peaked while
    `fetch()` ran: the kernel's high-water mark, reset first (clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before = _status_kb("VmRSS")
    fetch()
    return _status_kb("VmHWM") - before


@pytest.mark.parametrize("size", [(100, 14_400), (14_400, 100)], ids=["tall", "wide"])
def test_a_huge_page_is_drawn_small_and_outside_the_web_process(app, client, world, pdfs, size):
    tiny = one_page_pdf(*size)
    assert len(tiny) < 1024
    normal = make_result(world, pdfs[0])
    huge = make_result(world, tiny, document_number="2/GP-SKHCN")
    login(client, "reviewer_a")
    first = client.get(f"/admin/results/{normal.id}/pages/1.png")  # starts the rendering process
    assert first.status_code == 200 and Image.open(io.BytesIO(first.data)).width == PREVIEW_WIDTH

    answers = []
    growth = _peak_growth_kb(lambda: answers.append(client.get(f"/admin/results/{huge.id}/pages/1.png")))
    assert growth < RSS_GROWTH_BOUND_KB, f"the web process grew by {growth // 1024} MB"
    image = Image.open(io.BytesIO(answers[0].data))
    assert answers[0].status_code == 200 and image.format == "PNG"
    assert image.width <= PREVIEW_WIDTH and image.height <= PREVIEW_MAX_HEIGHT
    assert image.width * image.height <= PREVIEW_WIDTH * PREVIEW_MAX_HEIGHT
    # Scaled to fit, not cut: the long side takes the whole of its limit.
    assert (image.height == PREVIEW_MAX_HEIGHT) if size[1] > size[0] else (image.width == PREVIEW_WIDTH)
    assert client.get(f"/admin/results/{huge.id}/pages/1.png").data == answers[0].data  # from the cache


def test_the_review_queue_and_the_holders_page_show_their_images(app, client, world, pdfs):
    result = make_result(world, pdfs[2], reviewer="reviewer_a")  # two pages
    login(client, "holder_a")
    page = client.get(f"/me/results/{result.code}").get_data(as_text=True)
    assert f"/me/results/{result.code}/pages/2.png" in page
    for n in (1, 2):
        image = client.get(f"/me/results/{result.code}/pages/{n}.png")
        assert image.status_code == 200 and Image.open(io.BytesIO(image.data)).size[0] == PREVIEW_WIDTH
    assert client.get(f"/me/results/{result.code}/pages/3.png").status_code == 404
    draft = make_result(world, pdfs[3], document_number="9/GP-SKHCN")
    reviewer = app.test_client()
    login(reviewer, "reviewer_a")
    assert f"/admin/results/{draft.id}/pages/1.png" in reviewer.get("/admin/review").get_data(as_text=True)
    assert reviewer.get(f"/admin/results/{draft.id}/pages/1.png").data.startswith(b"\x89PNG")


def test_page_numbers_out_of_range_are_no_page_not_an_error(app, client, world, pdfs):
    result = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)
    login(client, "holder_a")
    for page in (0, 2, 1_000_000, 10**12):
        assert client.get(f"/me/results/{result.code}/pages/{page}.png").status_code == 404, page
    assert client.get(f"/me/results/{result.code}/pages/1.png").status_code == 200
