"""A bank checks a copy in a real browser, at 1280 and 390 px (issue 17, item 2): the code typed in,
the three answers all passing; a file changed after signing uploaded (the file's answer fails, the
verdict above it is red); the result revoked since (the register's answer fails). Every page reached
passes check_page (axe serious/critical, no sideways scroll); screenshots are `verify-...`."""

from __future__ import annotations

import pytest

from .browser_kit import WIDTHS, browser_marks, check_page, new_page

pytestmark = browser_marks()

GREEN = """() => [...document.querySelectorAll("main *")].filter(el => {
    const style = getComputedStyle(el);
    return style.backgroundColor === "rgb(233, 246, 238)" || style.borderLeftColor === "rgb(26, 107, 52)";
}).length"""


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("width", "label"), WIDTHS)
def test_a_bank_reads_the_three_answers(live_server, browser, world, pdfs, tmp_path, width, label):
    from portal.operations import results as ops
    from portal.operations.copies import issue_copy
    from portal.storage import storage

    from .conftest import make_result
    from .test_verify_answers import in_signed_range

    result = make_result(world, pdfs[2], reviewer="reviewer_a", valid_until=None, document_number="3/GP-SKHCN")
    copy = issue_copy(world["holder_a"], result)
    changed = tmp_path / "ban-sao-da-sua.pdf"
    changed.write_bytes(in_signed_range(storage().path_for(copy.sha256).read_bytes()))

    page = new_page(browser, width)
    page.goto(f"{live_server}/verify")
    check_page(page, f"verify-01-start-{label}")
    page.get_by_label("Mã xác thực").fill(copy.display_code.lower())
    page.get_by_role("button", name="Xác thực").click()
    answers = page.locator(".verify-answer")
    answers.first.wait_for()
    assert [answers.nth(i).locator(".verify-mark").inner_text() for i in range(3)] == ["✓ Đạt."] * 3
    assert "Có thể tin cậy" in page.locator("#verdict .flash").inner_text()
    check_page(page, f"verify-02-all-pass-{label}")

    # A file changed inside the signed part: the file's answer fails alone, nothing is green.
    page.get_by_label("Tệp PDF bản sao cần kiểm tra").set_input_files(str(changed))
    page.get_by_role("button", name="Kiểm tra tệp").click()
    page.locator("#file-check").get_by_text("Không phải bản sao đã cấp").wait_for()
    marks = [answers.nth(i).locator(".verify-mark").inner_text() for i in range(3)]
    assert marks == ["✗ Không đạt.", "✓ Đạt.", "✓ Đạt."]
    assert page.evaluate(GREEN) == 0
    check_page(page, f"verify-03-file-changed-{label}")

    # Revoked since: the register's answer fails, with the day and the reason.
    ops.revoke(world["reviewer_a"], result, "Cơ sở đã chấm dứt hoạt động bức xạ")
    page.goto(f"{live_server}/verify/{copy.verification_code}")
    register = page.locator("#answer-register")
    assert "✗ Không đạt." in register.inner_text() and "Cơ sở đã chấm dứt hoạt động bức xạ" in register.inner_text()
    assert page.evaluate(GREEN) == 0
    check_page(page, f"verify-04-revoked-{label}")
