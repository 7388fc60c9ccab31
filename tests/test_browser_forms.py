"""Forms in a real browser (issue 13, items 4-6), at both widths: a clerk chooses a scan and sees
its first page at once, sends the form with a field wrong, lands on the error summary (focused, at
the top), follows its link to the field, corrects it and saves without choosing the file again."""

from __future__ import annotations

import re

import pytest

from .browser_kit import WIDTHS, browser_marks, check_page, login, new_page

pytestmark = browser_marks()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("width", "label"), WIDTHS)
def test_an_upload_with_a_field_error_keeps_the_scan_and_says_what_to_fix(live_server, browser, pdfs, tmp_path,
                                                                          width, label):
    scan = tmp_path / "giay-phep-hai-trang.pdf"
    scan.write_bytes(pdfs[2])
    page = new_page(browser, width)
    login(page, live_server, "staff_a")
    page.goto(f"{live_server}/admin/results/new")
    check_page(page, f"forms-01-upload-empty-{label}")

    # The first page shows as soon as the file is chosen, before anything is sent.
    page.get_by_label("Tệp bản quét").set_input_files(str(scan))
    preview = page.get_by_role("img", name="Trang đầu của tệp giay-phep-hai-trang.pdf")
    preview.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    page.get_by_text("Đã giữ tệp giay-phep-hai-trang.pdf").wait_for()
    check_page(page, f"forms-02-upload-preview-{label}")

    page.get_by_label("Thủ tục hành chính").select_option("1.010711")
    page.get_by_label("Số, ký hiệu").fill("126/gp-skhcn")
    page.get_by_label("Ngày ban hành").fill("31/02/2019")  # no such day
    page.get_by_label(re.compile(r"^Người ký")).fill("Trần Văn Hùng")
    page.get_by_label("Chức vụ người ký").fill("Giám đốc")
    page.get_by_label("Trích yếu").fill("Giấy phép tiến hành công việc bức xạ cho Phòng khám Thiện Nhân")
    page.get_by_label("Số CCCD hoặc mã số thuế").fill("051089004217")
    page.get_by_label("Tên người được cấp").fill("Phạm Minh Khánh")
    page.get_by_role("button", name="Lưu bản nháp").click()
    page.wait_for_load_state()

    # The summary is the first thing in the content, and it has the focus.
    summary = page.locator(".error-summary")
    summary.get_by_role("heading", name="Có lỗi cần sửa").wait_for()
    page.wait_for_function("() => document.activeElement && document.activeElement.matches('.error-summary')")
    assert page.evaluate("() => document.querySelector('main h1').compareDocumentPosition("
                         "document.querySelector('.error-summary')) & Node.DOCUMENT_POSITION_PRECEDING")
    # The file is still held and its page still shown; it need not be chosen again.
    page.get_by_text("Đã giữ tệp giay-phep-hai-trang.pdf").wait_for()
    page.get_by_role("img", name="Trang đầu của tệp giay-phep-hai-trang.pdf").wait_for()
    assert page.get_by_label("Chọn tệp khác (không bắt buộc)").input_value() == ""
    check_page(page, f"forms-03-upload-error-summary-{label}")

    # Its link moves the focus to the field, whose error and hint are read with it.
    summary.get_by_role("link", name=re.compile(r"^Ngày ban hành")).click()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'issue_date'")
    field = page.get_by_label("Ngày ban hành")
    assert field.get_attribute("aria-describedby") == "issue_date-hint issue_date-error"
    assert field.get_attribute("aria-invalid") == "true"

    field.fill("15/03/2019")
    page.get_by_label("Số trang bản giấy").fill("2")
    page.get_by_role("button", name="Lưu bản nháp").click()
    page.get_by_text("Đã lưu bản nháp").wait_for()
    check_page(page, f"forms-04-draft-saved-{label}")
    page.context.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("width", "label"), WIDTHS)
def test_a_refused_file_is_said_beside_the_preview_and_login_errors_are_summarised(live_server, browser, tmp_path,
                                                                                   width, label):
    page = new_page(browser, width)
    page.goto(f"{live_server}/login")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_function("() => document.activeElement && document.activeElement.matches('.error-summary')")
    page.locator(".error-summary").get_by_role("link", name=re.compile(r"^Mật khẩu")).click()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'password'")
    check_page(page, f"forms-05-login-error-summary-{label}")

    fake = tmp_path / "khong-phai-pdf.pdf"
    fake.write_bytes(b"hello, this is text")
    login(page, live_server, "staff_a")
    page.goto(f"{live_server}/admin/results/new")
    page.get_by_label("Tệp bản quét").set_input_files(str(fake))
    page.locator("[data-scan-preview] .error").get_by_text("nội dung là").wait_for()
    check_page(page, f"forms-06-upload-refused-file-{label}")
    page.context.close()
