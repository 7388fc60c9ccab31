"""Issue 14 in a real browser: a citizen logs in through the national identity provider (the test
provider's own form, as VNeID's would be) at phone width, lands in their store and issues a certified
copy; a business logs in at desktop width and finds its store and its members; both log out through
the provider. Every portal page reached passes check_page; screenshots are `vneid-...`."""

from __future__ import annotations

import re

import pytest

from .browser_kit import browser_marks, check_page, new_page, shot

pytestmark = browser_marks()

BUTTON = "Đăng nhập bằng tài khoản Cổng Dịch vụ công quốc gia / VNeID"


@pytest.fixture
def portal(app, live_server, provider):
    """The live server, connected to the provider; its BASE_URL is its own address (the redirect URI)."""
    app.config.update(provider.config(), BASE_URL=live_server)
    return live_server


def sign_in_at_provider(page, number: str, name: str, tax_code: str = "", level: int = 2) -> None:
    page.get_by_role("heading", name=re.compile("Đăng nhập VNeID")).wait_for()
    page.get_by_label("Số định danh cá nhân").fill(number)
    page.get_by_label("Họ và tên").fill(name)
    if tax_code:
        page.get_by_label(re.compile("Mã số thuế")).fill(tax_code)
    page.get_by_label("Mức độ định danh").fill(str(level))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_citizen_logs_in_with_vneid_on_a_phone_and_issues_a_copy(portal, browser, world, pdfs, provider):
    from .conftest import CCCD_A, make_result

    result = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None, document_number="14/GP-SKHCN")
    page = new_page(browser, 390)
    page.goto(f"{portal}/login")
    check_page(page, "vneid-01-login-phone")
    page.get_by_role("link", name=BUTTON).click()
    sign_in_at_provider(page, CCCD_A, "Phạm Minh Khánh")
    shot(page, "vneid-02-provider-form-phone")
    page.get_by_role("button", name="Đồng ý và đăng nhập").click()
    page.wait_for_url(f"{portal}/me/results")
    assert page.get_by_text("Đã đăng nhập bằng VNeID").is_visible()
    assert page.get_by_text(result.summary).first.is_visible()
    check_page(page, "vneid-03-store-phone")

    page.goto(f"{portal}/me/results/{result.code}")
    page.get_by_role("link", name=re.compile("Xin cấp bản sao điện tử")).click()
    check_page(page, "vneid-04-copy-confirm-phone")
    page.get_by_role("button", name=re.compile("Xác nhận xin cấp bản sao")).click()
    page.locator("#da-cap").get_by_role("heading", name=re.compile("Đã cấp bản sao số")).wait_for()
    check_page(page, "vneid-05-copy-issued-phone")

    page.locator("a.who").click()
    page.get_by_role("heading", name="Đăng nhập bằng VNeID").wait_for()
    check_page(page, "vneid-06-account-phone")
    page.get_by_role("button", name="Đăng xuất", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(portal)}/\?state=.+"))  # back from the provider's logout
    assert page.get_by_text("Bạn đã đăng xuất.").is_visible()
    assert provider.logouts and provider.logouts[-1]["post_logout_redirect_uri"] == f"{portal}/"
    page.context.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_business_logs_in_with_vneid_on_a_desktop(portal, browser, world, pdfs):
    from .conftest import CCCD_B, MST_C, make_result

    result = make_result(world, pdfs[2], reviewer="reviewer_a", valid_until=None, holder_id=MST_C,
                         holder_name="Công ty TNHH Thiết bị Y tế Minh Phát", document_number="15/GP-SKHCN")
    page = new_page(browser, 1280)
    page.goto(f"{portal}/login")
    page.get_by_role("link", name=BUTTON).click()
    sign_in_at_provider(page, CCCD_B, "Trần Thị Lan", tax_code=MST_C)
    shot(page, "vneid-07-provider-form-business-desktop")
    page.get_by_role("button", name="Đồng ý và đăng nhập").click()
    page.wait_for_url(f"{portal}/me/results")
    assert page.get_by_text(result.summary).first.is_visible()
    check_page(page, "vneid-08-business-store-desktop")
    page.get_by_role("link", name="Thành viên").click()
    assert page.get_by_text(f"{MST_C}.tran-thi-lan").first.is_visible()
    check_page(page, "vneid-09-business-members-desktop")
    page.context.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_refused_login_says_why_and_offers_the_password(portal, browser, world, provider):
    provider.misbehave("expired")
    page = new_page(browser, 390)
    page.goto(f"{portal}/login")
    page.get_by_role("link", name=BUTTON).click()
    sign_in_at_provider(page, "051089004217", "Phạm Minh Khánh")
    page.get_by_role("button", name="Đồng ý và đăng nhập").click()
    page.get_by_role("heading", name="Chưa đăng nhập được bằng VNeID").wait_for()
    assert page.get_by_label("Mật khẩu").is_visible()
    check_page(page, "vneid-10-refused-phone")
    page.context.close()
