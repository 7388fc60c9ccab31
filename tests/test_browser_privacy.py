"""The privacy notice in a real browser, at 1280 and 390 px: a holder's first login shows its summary
on the page they land on, the summary's link opens the notice (its procedures' retention folded in a
<details>), the footer leads there too, and the account page says which version they saw. Every page
reached passes check_page; screenshots are `privacy-...`."""

from __future__ import annotations

import pytest

from portal import privacy

from .browser_kit import WIDTHS, browser_marks, check_page, login, new_page

pytestmark = browser_marks()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("width", "label"), WIDTHS)
def test_a_holder_is_shown_the_notice_at_first_login(live_server, browser, world, width, label):
    page = new_page(browser, width)
    login(page, live_server, "holder_a")
    summary = page.locator(".privacy-summary")
    summary.get_by_role("heading", name="Thông báo về xử lý dữ liệu cá nhân").wait_for()
    check_page(page, f"privacy-01-summary-after-login-{label}")

    summary.get_by_role("link", name=f"Đọc toàn văn thông báo (phiên bản {privacy.NOTICE_VERSION})").click()
    page.get_by_role("heading", name="Thông báo về xử lý dữ liệu cá nhân", level=1).wait_for()
    assert page.locator(".privacy-summary").count() == 0  # shown once
    page.locator("details summary").click()
    page.get_by_role("cell", name="Vĩnh viễn").first.wait_for()
    check_page(page, f"privacy-02-notice-{label}")

    page.goto(f"{live_server}/account/password")
    assert f"Bạn đã được xem phiên bản {privacy.NOTICE_VERSION}" in page.inner_text("main")
    check_page(page, f"privacy-03-account-{label}")

    # Anyone reaches the notice from the footer of any page.
    other = new_page(browser, width)
    other.goto(f"{live_server}/verify")
    other.locator("footer").get_by_role("link", name="Thông báo về xử lý dữ liệu cá nhân").click()
    other.get_by_role("heading", name="Liên hệ").wait_for()
    check_page(other, f"privacy-04-notice-anonymous-{label}")
