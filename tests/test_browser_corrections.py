"""Requests to correct in a real browser, at 1280 and 390 px: the holder reports a wrong name with an
image attached, the unit's reviewer finds it in the queue, acknowledges it and refuses it with a
reason, and the holder sees each step. Every page reached passes check_page; screenshots are
`corrections-...`."""

from __future__ import annotations

import pytest

from .browser_kit import WIDTHS, browser_marks, check_page, login, new_page
from .conftest import image_bytes

pytestmark = browser_marks()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("width", "label"), WIDTHS)
def test_a_holder_asks_and_a_reviewer_answers(app, live_server, browser, world, pdfs, tmp_path, width, label):
    from .conftest import make_result

    result = make_result(world, pdfs[1], reviewer="reviewer_a", valid_until=None, document_number="77/GP-SKHCN")
    picture = tmp_path / "cccd.png"
    picture.write_bytes(image_bytes("PNG"))

    page = new_page(browser, width)
    login(page, live_server, "holder_a")
    page.goto(f"{live_server}/me/results/{result.code}")
    page.get_by_role("link", name="Báo thông tin sai, yêu cầu sửa").click()
    page.get_by_role("heading", name="Yêu cầu sửa thông tin").wait_for()
    check_page(page, f"corrections-01-form-{label}")
    page.get_by_role("button", name="Gửi yêu cầu").click()  # nothing chosen: the form says what is missing
    page.get_by_text("Hãy chọn thông tin cần sửa trong danh sách.").first.wait_for()
    check_page(page, f"corrections-02-form-errors-{label}")
    page.get_by_label("Thông tin bị sai").select_option(label="Tên người được cấp")
    page.get_by_label("Thông tin đúng phải là").fill("Nguyễn Thị Thanh Hương")
    page.get_by_label("Tài liệu chứng minh (không bắt buộc)").set_input_files(str(picture))
    page.get_by_role("button", name="Gửi yêu cầu").click()
    page.get_by_text("Đã gửi yêu cầu sửa thông tin.").wait_for()
    assert "Chờ xác nhận đã nhận" in page.locator("article.correction").inner_text()
    check_page(page, f"corrections-03-list-received-{label}")

    reviewer = new_page(browser, width)
    login(reviewer, live_server, "reviewer_a")
    reviewer.goto(f"{live_server}/admin/corrections")
    check_page(reviewer, f"corrections-04-queue-{label}")
    reviewer.locator("table.results a", has_text="Số").first.click()
    reviewer.get_by_role("button", name="Xác nhận đã nhận").click()
    reviewer.get_by_text("Đã xác nhận đã nhận yêu cầu").wait_for()
    check_page(reviewer, f"corrections-05-acknowledged-{label}")
    reviewer.get_by_label("Lý do từ chối").fill("Tên trên kết quả đúng như hồ sơ gốc đang lưu.")
    reviewer.get_by_role("button", name="Trả lời: từ chối").click()
    reviewer.get_by_text("Đã trả lời: từ chối sửa, kèm lý do.").wait_for()
    check_page(reviewer, f"corrections-06-refused-{label}")

    page.goto(f"{live_server}/me/results/{result.code}")
    steps = page.locator("#sua-thong-tin").inner_text()
    assert "Từ chối sửa" in steps and "Tên trên kết quả đúng như hồ sơ gốc đang lưu." in steps
    assert "Kiểm tra A" in steps
    check_page(page, f"corrections-07-result-page-{label}")
