"""Retention and the archive in a real browser, at 1280 and 390 px: an admin changes a procedure's
retention period, finds the change in the audit log, and reads the transfer register. Every page
reached passes check_page; screenshots are `archive-...`."""

from __future__ import annotations

import pytest

from .browser_kit import WIDTHS, browser_marks, check_page, login, new_page

pytestmark = browser_marks()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("width", "label"), WIDTHS)
def test_an_admin_sets_a_retention_period_and_reads_the_register(app, live_server, browser, world, pdfs, tmp_path,
                                                                   width, label):
    from portal.archive import package
    from portal.operations.archive import record_transfer

    from .conftest import UNIT_A, make_result

    make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)
    unit = package.find_unit(UNIT_A)
    record_transfer(package.export(unit, 2019, tmp_path / "nop-luu-2019"), "luutru")

    page = new_page(browser, width)
    login(page, live_server, "admin")
    page.goto(f"{live_server}/admin/procedures")
    check_page(page, f"archive-01-procedures-{label}")
    page.get_by_role("link", name="1.010711").click()
    page.get_by_label("Thời hạn lưu trữ (năm)").fill("20")
    check_page(page, f"archive-02-procedure-form-{label}")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_load_state()
    assert "20 năm" in page.locator("table.results").inner_text()

    page.goto(f"{live_server}/admin/audit?action=procedure.update")
    assert "trước: vĩnh viễn; sau: 20" in page.locator("table.results").inner_text()
    check_page(page, f"archive-03-audit-{label}")

    page.goto(f"{live_server}/admin/procedures")
    page.get_by_role("link", name="Sổ nộp lưu").click()
    page.get_by_role("heading", name="Sổ nộp lưu vào lưu trữ hiện hành").wait_for()
    row = page.locator("table.results tbody tr").first
    assert "nop-luu-2019" in row.inner_text() and "luutru" in row.inner_text()
    check_page(page, f"archive-04-register-{label}")
