"""The main staff journey in a real browser: Debian's Chromium driven by Playwright.

Screenshots of each step are kept under test-artifacts/ for people to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .browser_kit import ARTIFACTS, browser_marks, login, shot

pytestmark = browser_marks()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_staff_upload_then_reviewer_publishes(live_server, browser, pdfs, tmp_path):
    scan = tmp_path / "giay-phep-125.pdf"
    scan.write_bytes(pdfs[0])
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()

    login(page, live_server, "staff_a")
    page.get_by_role("link", name="Số hóa mới").click()
    page.get_by_label("Tệp bản quét").set_input_files(str(scan))
    page.get_by_label("Thủ tục hành chính").select_option("1.010711")
    page.get_by_label("Số, ký hiệu").fill("125/gp-skhcn")
    page.get_by_label("Ngày ban hành").fill("15/03/2019")
    page.get_by_label(re.compile(r"^Người ký")).fill("Trần Văn Hùng")
    page.get_by_label("Chức vụ người ký").fill("Giám đốc")
    page.get_by_label("Trích yếu").fill("Giấy phép tiến hành công việc bức xạ cho Phòng khám Thiện Nhân")
    page.get_by_label("Số CCCD hoặc mã số thuế").fill("05108900421")  # a CCCD one digit short first
    page.get_by_label("Tên người được cấp").fill("Phạm Minh Khánh")
    page.get_by_label("Có hiệu lực đến ngày").fill("15/03/2022")
    page.get_by_role("button", name="Lưu bản nháp").click()
    # The CCCD is checked, the typed values are kept, and so is the file: it need not be chosen again.
    assert page.get_by_label("Số, ký hiệu").input_value() == "125/GP-SKHCN"
    page.get_by_text("Đã giữ tệp giay-phep-125.pdf").wait_for()
    shot(page, "01-upload-form-error")
    page.get_by_label("Số CCCD hoặc mã số thuế").fill("051089004217")
    page.get_by_role("button", name="Lưu bản nháp").click()
    page.get_by_text("Đã lưu bản nháp").wait_for()
    shot(page, "02-draft-saved")
    assert page.locator(".badge").inner_text() == "Chờ kiểm tra"
    page.get_by_role("button", name="Đăng xuất").click()

    login(page, live_server, "reviewer_a")
    page.get_by_role("link", name="Chờ kiểm tra").click()
    page.get_by_role("img", name="Trang 1 của văn bản 125/GP-SKHCN").wait_for()  # beside its metadata
    shot(page, "03a-review-queue")
    page.get_by_role("link", name="125/GP-SKHCN").click()
    preview = page.get_by_role("img", name="Trang 1 của văn bản 125/GP-SKHCN")
    preview.wait_for()
    assert page.evaluate("img => img.naturalWidth", preview.element_handle()) > 0
    shot(page, "03-review-with-preview")
    page.get_by_role("button", name="Phát hành").click()
    page.get_by_text("Đã phát hành kết quả").wait_for()
    page.get_by_role("link", name="Kết quả", exact=True).click()
    listed = page.locator("table").inner_text()
    assert "Hết hiệu lực" in listed and "Còn hiệu lực" not in listed  # valid until 15/03/2022
    shot(page, "04-published")
    context.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width, label", [(1280, "desktop"), (390, "phone")])
def test_citizen_claims_an_account_searches_opens_and_downloads(live_server, browser, world, pdfs, width, label):
    from portal.operations import claims

    from .conftest import CCCD_B, make_result

    result = make_result(world, pdfs[0], reviewer="reviewer_a", holder_id=CCCD_B, holder_name="Trần Thị Lan",
                         summary="Giấy phép tiến hành công việc bức xạ cho Phòng khám Quảng Ngãi")
    code = claims.issue_claim_code(world["reviewer_a"], result)
    context = browser.new_context(locale="vi-VN", viewport={"width": width, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(live_server)
    page.get_by_role("link", name="Nhận tài khoản").click()
    page.get_by_label("Mã nhận tài khoản").fill(code)
    page.get_by_label("Số CCCD hoặc mã số thuế").fill(CCCD_B)
    page.get_by_label("Họ và tên").fill("Trần Thị Lan")
    page.get_by_label("Tên đăng nhập muốn dùng").fill("tranthilan")
    page.get_by_label(re.compile(r"^Mật khẩu")).fill("mat-khau-cua-lan")
    page.get_by_label("Nhập lại mật khẩu").fill("mat-khau-cua-lan")
    shot(page, f"10-claim-{label}")
    page.get_by_role("button", name="Nhận tài khoản").click()
    page.get_by_text("Đã tạo tài khoản").wait_for()
    page.get_by_role("button", name="Đăng xuất").click()

    page.goto(f"{live_server}/login")
    page.get_by_label("Tên đăng nhập").fill("tranthilan")
    page.get_by_label("Mật khẩu").fill("mat-khau-cua-lan")
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_label("Tìm").fill("quang ngai buc xa")  # typed without diacritics
    page.get_by_role("button", name="Tìm").click()
    hit = page.get_by_role("link", name=re.compile("Giấy phép tiến hành công việc bức xạ"))
    hit.wait_for()
    assert page.locator("mark").count() > 0
    shot(page, f"11-search-{label}")
    hit.click()
    page.get_by_role("img", name=re.compile("Trang 1 của văn bản")).wait_for()
    shot(page, f"12-result-{label}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Tải bản điện tử")).click()
    download = download_info.value
    assert download.suggested_filename == f"{result.code}.pdf"
    assert Path(download.path()).read_bytes() == pdfs[0]
    context.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_holder_issues_a_copy_then_a_stranger_verifies_it_and_checks_the_file(live_server, browser, world, pdfs,
                                                                            tmp_path):
    from .conftest import make_result

    result = make_result(world, pdfs[2], reviewer="reviewer_a", valid_until=None, document_number="3/GP-SKHCN")
    context = browser.new_context(locale="vi-VN", accept_downloads=True)
    page = context.new_page()
    login(page, live_server, "holder_a")
    page.goto(f"{live_server}/me/results/{result.code}")
    page.get_by_role("link", name=re.compile("Xin cấp bản sao điện tử")).click()
    page.get_by_role("button", name=re.compile("Xác nhận xin cấp bản sao")).click()  # after what it is and its fee
    panel = page.locator("#da-cap")
    panel.get_by_text(re.compile(r"Đã cấp bản sao số")).wait_for()
    code = re.search(r"([2-9A-HJ-NP-Z]{4}(?:-[2-9A-HJ-NP-Z]{4}){3})", panel.inner_text()).group(1)
    shot(page, "20-copy-issued")
    with page.expect_download() as download_info:
        panel.get_by_role("link", name=re.compile("Tải bản sao")).click()
    copy_pdf = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(copy_pdf)
    assert copy_pdf.read_bytes().startswith(b"%PDF")
    context.close()

    # Someone else (a bank clerk, say) types the code printed on the copy and uploads the file.
    stranger = browser.new_context(locale="vi-VN")
    page = stranger.new_page()
    page.goto(live_server)
    page.get_by_role("link", name="Xác thực bản sao").click()
    page.get_by_label(re.compile(r"^Mã xác thực")).fill(code.lower())
    page.get_by_role("button", name="Xác thực").click()
    page.locator("#answer-register").get_by_text("văn bản được sao còn hiệu lực hôm nay").wait_for()
    assert "3/GP-SKHCN" in page.content() and "Phạm Minh Khánh" not in page.content()
    page.get_by_label(re.compile(r"^Tệp PDF bản sao")).set_input_files(str(copy_pdf))
    page.get_by_role("button", name="Kiểm tra tệp").click()
    answer = page.locator("#file-check")
    answer.get_by_text("Đúng là bản sao đã cấp").wait_for()
    assert answer.get_by_text("Chữ ký số còn nguyên vẹn.").is_visible()
    shot(page, "21-copy-verified")
    stranger.close()


GREEN_ABOVE = """answer => [...document.querySelectorAll("main *")].filter(el => {
    const style = getComputedStyle(el), box = el.getBoundingClientRect();
    const green = style.backgroundColor === "rgb(233, 246, 238)" || style.borderLeftColor === "rgb(26, 107, 52)";
    return green && box.height > 0 && box.top < answer.getBoundingClientRect().top;
}).map(el => el.textContent.trim().slice(0, 80))"""


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_on_a_phone_the_answer_to_an_upload_is_on_the_first_screen(live_server, browser, world, pdfs, tmp_path):
    from portal.operations.copies import issue_copy
    from portal.storage import storage

    from .conftest import make_result

    result = make_result(world, pdfs[2], reviewer="reviewer_a", valid_until=None, document_number="3/GP-SKHCN")
    copy = issue_copy(world["holder_a"], result)
    genuine, other = tmp_path / "ban-sao.pdf", tmp_path / "tep-khac.pdf"
    genuine.write_bytes(storage().path_for(copy.sha256).read_bytes())
    other.write_bytes(pdfs[2])
    context = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    screen = page.viewport_size["height"]
    for upload, headline, name in ((other, "Không phải bản sao đã cấp", "22-verify-wrong-file-phone"),
                                   (genuine, "Đúng là bản sao đã cấp", "23-verify-right-file-phone")):
        page.goto(f"{live_server}/verify/{copy.verification_code}")
        page.get_by_label(re.compile(r"^Tệp PDF bản sao")).set_input_files(str(upload))
        page.get_by_role("button", name="Kiểm tra tệp").click()
        answer = page.locator("#file-check").get_by_text(headline)
        answer.wait_for()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))  # the first screen, as the phone shows it
        box = answer.bounding_box()
        assert page.evaluate("window.scrollY") == 0 and 0 <= box["y"] and box["y"] + box["height"] <= screen, box
        if upload is other:
            assert page.evaluate(GREEN_ABOVE, answer.element_handle()) == []
            assert page.get_by_text("còn hiệu lực hôm nay").bounding_box()["y"] > box["y"]
    context.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_staff_follow_the_plan_on_the_dashboard(live_server, browser, world, pdfs):
    from portal.extensions import db
    from portal.models import InventoryCount

    from .conftest import make_result

    for n, year in enumerate((1995, 2003, 2010, 2018, 2019)):
        make_result(world, pdfs[n], reviewer="reviewer_a" if n % 2 else None, document_number=f"{n + 1}/GP-SKHCN",
                    issue_date=f"15/03/{year}", valid_until=None)
    for phase, results in ((2, 4), (3, 2), (4, 3), (5, 1)):
        db.session.add(InventoryCount(unit_id=world["staff_a"].unit_id, phase=phase, results=results,
                                      pages=results * 2))
    db.session.commit()
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    login(page, live_server, "staff_a")
    page.get_by_role("link", name="Tiến độ").click()
    chart = page.get_by_role("figure", name="Đã số hóa so với số cần số hóa, theo đơn vị và giai đoạn")
    chart.wait_for()
    assert chart.locator("li.bar").count() == 4  # unit A's four phases, each counted
    shot(page, "30-plan-dashboard")
    context.close()
