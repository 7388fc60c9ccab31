"""The reviewer's day in a browser, at a desk and on a phone: the queue (select-all, keys), sending
back with no reason, reading a page zoomed and turning pages by keyboard, publishing a batch and
downloading its hand-over slips."""

import io
import re

import pytest
from pypdf import PdfReader

from .browser_kit import WIDTHS, browser_marks, check_page, login, new_page
from .conftest import CCCD_B, make_result

pytestmark = browser_marks()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("width", "label"), WIDTHS)
def test_a_reviewer_reads_sends_back_and_publishes_a_batch(live_server, browser, world, pdfs, width, label):
    wrong = make_result(world, pdfs[0], document_number="125/GP-SKHCN", issue_date="05/06/2012", valid_until=None)
    two_pages = make_result(world, pdfs[2], document_number="3/GP-SKHCN", issue_date="04/05/2019",
                            holder_id=CCCD_B, holder_name="Trần Thị Lan")
    page = new_page(browser, width)
    login(page, live_server, "reviewer_a")

    page.goto(f"{live_server}/admin/review")
    select_all = page.get_by_label("Chọn tất cả kết quả trên trang này")
    select_all.check()
    boxes = page.get_by_label("Đã kiểm tra, đúng với bản giấy")
    assert boxes.count() == 2 and all(boxes.nth(i).is_checked() for i in range(2))
    boxes.nth(1).uncheck()
    assert page.evaluate("document.getElementById('select-all').indeterminate")
    page.keyboard.press("k")  # from the second card's box: up to the first card
    assert page.evaluate("document.activeElement.textContent") == wrong.document_number
    page.keyboard.press("x")  # ticks the card in hand
    assert boxes.nth(0).is_checked() is False
    page.keyboard.press("x")
    assert boxes.nth(0).is_checked()
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.textContent") == wrong.document_number
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.textContent") == two_pages.document_number
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.textContent") == wrong.document_number
    assert page.get_by_text("Không tìm thấy ngày ban hành 05/06/2012 trên bản quét").is_visible()
    check_page(page, f"review-01-queue-{label}")

    # Send back with no reason: the same queue, the error by the field, the tick and the typing kept.
    page.get_by_label("Lý do trả lại").nth(1).fill("Thiếu dấu")
    page.get_by_role("button", name="Trả lại").first.click()
    page.wait_for_load_state()
    reason = page.get_by_label("Lý do trả lại").first
    assert page.get_by_role("heading", name="Kết quả chờ kiểm tra").is_visible()
    assert reason.get_attribute("aria-invalid") == "true"
    error = page.locator(f"#{reason.get_attribute('aria-describedby')}")
    assert error.is_visible() and "Hãy ghi lý do trả lại" in error.inner_text()
    assert page.get_by_label("Lý do trả lại").nth(1).input_value() == "Thiếu dấu"
    assert boxes.nth(0).is_checked() and not boxes.nth(1).is_checked()
    check_page(page, f"review-02-return-without-reason-{label}")

    # Read the two-page scan: zoom with +, turn the page with the keyboard, the page in the URL.
    page.goto(f"{live_server}/admin/results/{two_pages.id}")
    viewer = page.get_by_role("img", name=f"Trang 1 của văn bản {two_pages.document_number}")
    viewer.wait_for()
    assert page.locator("mark.found-number").first.is_visible() or page.locator("details.page-text").count()
    check_page(page, f"review-03-page-{label}")
    page.keyboard.press("+")
    page.wait_for_url(re.compile(r"zoom=150"))
    image = page.get_by_role("img", name=f"Trang 1 của văn bản {two_pages.document_number}")
    image.wait_for()
    assert page.evaluate("img => img.naturalWidth", image.element_handle()) == 1800
    frame = page.locator(".viewer-frame")
    assert page.evaluate("f => f.scrollWidth > f.clientWidth", frame.element_handle())  # larger than its box
    check_page(page, f"review-04-page-zoomed-{label}")
    page.keyboard.press("PageDown")
    page.wait_for_url(re.compile(r"page=2&zoom=150"))
    page.get_by_role("img", name=f"Trang 2 của văn bản {two_pages.document_number}").wait_for()
    check_page(page, f"review-05-page-two-{label}")

    # Publish both from the queue: the slips are there to download at once.
    page.goto(f"{live_server}/admin/review")
    page.get_by_label("Chọn tất cả kết quả trên trang này").check()
    page.get_by_role("button", name="Phát hành các kết quả đã đánh dấu").click()
    page.wait_for_load_state()
    assert page.get_by_text("Đã phát hành 2 kết quả").is_visible()
    assert page.get_by_text("Đã tạo 1 phiếu trả kết quả").is_visible()
    check_page(page, f"review-06-published-{label}")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"phiếu .*\(1 phiếu\)")).click()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(open(download.value.path(), "rb").read())).pages)
    assert "Trần Thị Lan" in text and "/claim" in text
    page.get_by_role("link", name="Tất cả phiếu").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="Tải phiếu (PDF)").count() == 1
    check_page(page, f"review-07-slips-{label}")
    page.context.close()
