"""Share links in a real browser, at 1280 and 390 px: the holder makes a link on the copy's page,
someone with no account opens it in a fresh browser and gets the copy's very file, the holder sees
that opening and revokes the link, and the link then says it was revoked. Every page reached passes
check_page; screenshots are `shares-...`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .browser_kit import WIDTHS, browser_marks, check_page, login, new_page

pytestmark = browser_marks()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("width", "label"), WIDTHS)
def test_a_holder_shares_a_copy_and_revokes_the_link(app, live_server, browser, world, pdfs, width, label):
    from portal.operations.copies import issue_copy
    from portal.storage import storage

    from .conftest import make_result

    app.config["BASE_URL"] = live_server  # the link the page shows is the one the recipient opens
    result = make_result(world, pdfs[1], reviewer="reviewer_a", valid_until=None, document_number="77/GP-SKHCN")
    copy = issue_copy(world["holder_a"], result)
    with storage().open_verified(copy.sha256) as fh:
        registered = fh.read()

    page = new_page(browser, width)
    login(page, live_server, "holder_a")
    page.goto(f"{live_server}/me/copies")
    page.get_by_role("link", name=copy.register_number).click()
    page.get_by_role("heading", name=f"Bản sao số {copy.register_number}").wait_for()
    assert page.get_by_label("Số ngày mở").input_value() == "3"
    check_page(page, f"shares-01-copy-page-{label}")

    page.get_by_label("Người nhận").fill("Ngân hàng TMCP Công Thương Việt Nam, chi nhánh Quảng Ngãi")
    page.get_by_role("button", name="Tạo đường dẫn chia sẻ").click()
    panel = page.locator("#vua-tao")
    panel.get_by_role("heading", name=re.compile("Đã tạo đường dẫn cho Ngân hàng TMCP Công Thương")).wait_for()
    link = panel.get_by_label("Đường dẫn chia sẻ").input_value()
    assert link.startswith(f"{live_server}/share/")
    assert panel.get_by_role("button", name="Chép đường dẫn").is_visible()  # share_link.js
    check_page(page, f"shares-02-link-made-{label}")

    # Someone with no account opens the link in a browser of their own: the registered file, byte for byte.
    recipient = new_page(browser, width, accept_downloads=True)
    recipient.goto(f"{live_server}/verify")
    with recipient.expect_download() as download:
        recipient.evaluate("url => { window.location.href = url; }", link)
    assert Path(download.value.path()).read_bytes() == registered
    assert download.value.suggested_filename == copy.file_name

    # The holder sees that opening, and revokes the link with the button.
    page.goto(f"{live_server}/me/copies/{copy.verification_code}")
    row = page.locator("table.shares tbody tr").first
    assert "Đã tải bản sao" in row.inner_text() and "127.0.0.1" in row.inner_text()
    assert link not in page.content()  # shown once, never again
    row.get_by_role("button", name=re.compile("Thu hồi")).click()
    page.get_by_text("Đã thu hồi đường dẫn chia sẻ cho Ngân hàng TMCP Công Thương").wait_for()
    assert "Đã thu hồi" in page.locator("table.shares tbody tr").first.inner_text()
    check_page(page, f"shares-03-revoked-{label}")

    # The link now says so, in Vietnamese, instead of the file.
    answer = recipient.goto(link)
    assert answer.status == 410
    recipient.get_by_role("heading", name="Đường dẫn chia sẻ đã bị thu hồi").wait_for()
    check_page(recipient, f"shares-04-link-revoked-{label}")
    recipient.context.close()

    # All the holder's links, and "Ai đã xem", tell both openings.
    page.get_by_role("link", name="Chia sẻ", exact=True).first.click()
    page.get_by_role("heading", name="Đường dẫn chia sẻ bản sao").wait_for()
    uses = page.locator("table.shares .share-uses li")
    assert uses.count() == 2 and "đã bị thu hồi" in uses.first.inner_text()
    check_page(page, f"shares-05-list-{label}")
    page.get_by_role("link", name="Ai đã xem").first.click()
    opened = page.locator("td[data-label='Việc']", has_text="Mở đường dẫn chia sẻ")
    assert opened.count() == 2 and "đường dẫn đã bị thu hồi" in opened.first.inner_text()
    check_page(page, f"shares-06-access-log-{label}")
    page.context.close()
