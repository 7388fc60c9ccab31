"""The holder's journeys of issue 13 in a real browser, at 1280 and 390 px: a page of the scan opened
full size, a certified copy issued through its confirmation page (the success panel and its download
stay on the page), a business manager removing a member through the confirmation. Every page reached
passes check_page (axe serious/critical, no sideways scroll); screenshots are `holder-...`."""

from __future__ import annotations

import re

import pytest

from .browser_kit import WIDTHS, browser_marks, check_page, login, new_page

pytestmark = browser_marks()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("width", "label"), WIDTHS)
def test_holder_opens_a_page_full_size_and_issues_a_copy(live_server, browser, world, pdfs, width, label):
    from .conftest import make_result

    result = make_result(world, pdfs[2], reviewer="reviewer_a", valid_until=None, document_number="3/GP-SKHCN")
    page = new_page(browser, width, accept_downloads=True)
    login(page, live_server, "holder_a")
    page.goto(f"{live_server}/me/results/{result.code}")
    check_page(page, f"holder-01-result-{label}")
    # The footer's help line: the department's phone, address and hours.
    footer = page.locator("footer .help-line")
    assert "điện thoại" in footer.inner_text() and footer.get_by_role("link").get_attribute("href").startswith("tel:")

    # A page of the scan opens large, on a page that lets a phone pinch-zoom.
    page.get_by_role("link", name=re.compile(r"^Trang 1 của văn bản 3.GP-SKHCN.*mở cỡ lớn")).click()
    large = page.get_by_role("img", name=re.compile(r"^Trang 1 của văn bản 3.GP-SKHCN.*cỡ lớn"))
    large.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=large.element_handle())
    assert page.evaluate("img => img.naturalWidth", large.element_handle()) > 900
    viewport = page.locator('meta[name="viewport"]').get_attribute("content")
    assert "user-scalable" not in viewport and "maximum-scale" not in viewport
    check_page(page, f"holder-02-page-large-{label}")
    page.get_by_role("link", name="Trang sau »").first.click()
    page.get_by_role("img", name=re.compile(r"^Trang 2 của văn bản")).wait_for()
    page.get_by_role("link", name=re.compile(r"^« ")).first.click()

    # The copy: what it is and its fee first, then the confirmation.
    page.get_by_role("link", name=re.compile("Xin cấp bản sao điện tử")).click()
    assert page.get_by_text("miễn phí").first.is_visible()
    page.get_by_role("heading", name="Bản sao được cấp từ sổ gốc là gì?").wait_for()
    check_page(page, f"holder-03-copy-confirm-{label}")
    page.get_by_role("button", name=re.compile("Xác nhận xin cấp bản sao")).click()
    panel = page.locator("#da-cap")
    panel.get_by_role("heading", name=re.compile(r"Đã cấp bản sao số")).wait_for()
    download = panel.get_by_role("link", name=re.compile("Tải bản sao"))
    # Both in view on landing, not a message scrolled away.
    assert panel.is_visible() and download.is_visible()
    assert page.evaluate("el => el.getBoundingClientRect().top >= 0 && el.getBoundingClientRect().bottom "
                         "<= window.innerHeight", download.element_handle())
    check_page(page, f"holder-04-copy-issued-{label}")
    with page.expect_download() as info:
        download.click()
    assert info.value.suggested_filename.endswith(".pdf")
    page.context.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("width", "label"), WIDTHS)
def test_business_manager_removes_a_member_after_confirming(live_server, browser, world, width, label):
    from portal.operations import claims
    from portal.operations.accounts import create_user

    from .conftest import MST_C, PASSWORD

    manager = create_user(None, "dn-chinh", "holder", PASSWORD, holder_id=MST_C, full_name="Giám đốc Minh")
    claims.add_member(manager, "ketoan", "mat-khau-ke-toan", "Nguyễn Văn A")
    page = new_page(browser, width)
    login(page, live_server, "dn-chinh")
    page.get_by_role("link", name="Thành viên").click()
    check_page(page, f"holder-05-members-{label}")
    assert page.get_by_role("link", name=re.compile("Gỡ Giám đốc Minh")).count() == 0  # not on one's own row
    page.get_by_role("link", name=re.compile("^Gỡ Nguyễn Văn A khỏi doanh nghiệp")).click()
    page.get_by_role("heading", name="Gỡ Nguyễn Văn A khỏi doanh nghiệp?").wait_for()
    check_page(page, f"holder-06-member-confirm-{label}")
    page.get_by_role("button", name="Gỡ Nguyễn Văn A khỏi doanh nghiệp").click()
    page.get_by_text("Đã gỡ Nguyễn Văn A").wait_for()
    assert "Nguyễn Văn A" not in page.locator("table").inner_text()
    check_page(page, f"holder-07-member-removed-{label}")
    page.context.close()
