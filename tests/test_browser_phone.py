"""On a phone and at a desk: the plan chart reads (text of at least 12 px, status by colour, pattern and
word, names whole, units without an inventory apart), the import job page follows its job in place,
and the navigation says where you are. Screenshots `phone-*` under test-artifacts/.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from .browser_kit import WIDTHS, browser_marks, check_page, login, new_page, shot
from .conftest import UNIT_A, UNIT_B, VIETNAM, make_result

pytestmark = browser_marks()

LONG_UNIT = "Trung tâm Thông tin và Ứng dụng tiến bộ Khoa học và Công nghệ tỉnh Quảng Ngãi (cơ sở 2, Đức Phổ)"
SMALLEST_TEXT = """figure => Math.min(...[...figure.querySelectorAll("*")]
    .filter(el => [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
    .map(el => parseFloat(getComputedStyle(el).fontSize)))"""


def _unit(code):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Unit

    return db.session.scalars(select(Unit).where(Unit.code == code)).one()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width, label", WIDTHS)
def test_the_plan_chart_reads_on_a_phone_and_says_who_is_late(live_server, browser, world, pdfs, clock,
                                                              width, label):
    from portal.extensions import db
    from portal.models import InventoryCount
    from portal.operations.accounts import create_unit

    unit_a, unit_b = _unit(UNIT_A), _unit(UNIT_B)
    far = create_unit(None, "000.07.21.H48", LONG_UNIT)
    # Phase 2 (due 31/12/2022) finished in March 2022: on time.
    clock.move_to(datetime(2022, 3, 1, 9, 0, tzinfo=VIETNAM))
    for n in range(2):
        make_result(world, pdfs[n], document_number=f"{n + 1}/GP-SKHCN", issue_date="15/03/2019", valid_until=None)
    # June 2024: phase 3 (due 31/12/2023) has one of ten done: late; phase 4 (due 31/12/2024) has two of
    # five hundred done in the last month: at that pace it will not make it, behind.
    clock.move_to(datetime(2024, 6, 1, 9, 0, tzinfo=VIETNAM))
    make_result(world, pdfs[2], document_number="3/GP-SKHCN", issue_date="15/03/2010", valid_until=None)
    for n in (3, 4):
        make_result(world, pdfs[n], document_number=f"{n + 1}/GP-SKHCN", issue_date="15/03/2000", valid_until=None)
    for unit, phase, results in ((unit_a, 2, 2), (unit_a, 3, 10), (unit_a, 4, 500), (far, 5, 40)):
        db.session.add(InventoryCount(unit_id=unit.id, phase=phase, results=results, pages=results * 2))
    db.session.commit()

    page = new_page(browser, width)
    login(page, live_server, "admin")
    page.get_by_role("link", name="Tiến độ").click()
    chart = page.get_by_role("figure", name="Đã số hóa so với số cần số hóa, theo đơn vị và giai đoạn")
    chart.wait_for()
    check_page(page, f"phone-plan-chart-{label}")
    assert page.evaluate(SMALLEST_TEXT, chart.element_handle()) >= 12
    months = page.get_by_role("figure", name=re.compile("Số kết quả số hóa mỗi tháng"))
    assert page.evaluate(SMALLEST_TEXT, months.element_handle()) >= 12
    # Each status has its colour, its pattern and its word, and the legend says which is which.
    legend = chart.get_by_role("list", name="Chú giải màu")
    assert legend.locator("li strong").all_inner_texts() == ["Đúng tiến độ", "Chậm tiến độ", "Trễ hạn"]
    bars = {pace: chart.locator(f"li.bar.pace-{pace}") for pace in ("on-time", "behind", "late")}
    assert "GĐ2: 2/2 (100%) · Đúng tiến độ" in bars["on-time"].first.inner_text()
    assert "GĐ3: 1/10 (10%) · Trễ hạn" in bars["late"].first.inner_text()
    assert "GĐ4: 2/500" in bars["behind"].first.inner_text() and "Chậm tiến độ" in bars["behind"].first.inner_text()
    fills = {pace: bar.first.locator("rect").nth(1).get_attribute("fill") for pace, bar in bars.items()}
    assert len(set(fills.values())) == 3 and all(f.startswith("url(#pace-") for f in fills.values())
    # Names whole, on their own line; no "0/?" for units that have not counted their paper yet.
    assert chart.get_by_role("heading", name=LONG_UNIT, exact=True).is_visible()
    assert "0/?" not in page.content()
    apart = page.get_by_role("list", name="Chưa kiểm kê")
    assert re.search(rf"{re.escape(unit_b.name)}: mọi giai đoạn", apart.inner_text())
    assert f"{unit_a.name}: giai đoạn 5" in apart.inner_text()
    # Where the admin is: the navigation marks the page.
    assert page.get_by_role("navigation", name="Chính").locator("[aria-current=page]").inner_text() == "Tiến độ"
    page.context.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width, label", WIDTHS)
def test_the_import_page_follows_its_job_without_reloading(live_server, browser, world, width, label):
    from portal.extensions import db
    from portal.models import ImportBatch

    batch = ImportBatch(source="web", name="lo-thang-6.csv", manifest_sha256="b" * 64, files_dir="",
                        status="running", total_rows=4, imported=1, unit_id=world["staff_a"].unit_id,
                        created_by_id=world["staff_a"].id)
    db.session.add(batch)
    db.session.commit()

    page = new_page(browser, width)
    login(page, live_server, "staff_a")
    page.goto(f"{live_server}/admin/imports/{batch.id}")
    region = page.locator("#import-progress [role=status]")
    assert region.get_attribute("aria-live") == "polite"
    assert "đã xử lý 1/4 dòng" in region.inner_text()
    check_page(page, f"phone-import-running-{label}")
    page.evaluate("window.stayedOnThePage = true")  # gone if the page reloads itself

    batch.imported, batch.failed = 2, 1
    db.session.commit()
    page.get_by_text("đã xử lý 3/4 dòng").wait_for()
    assert page.locator("progress").get_attribute("value") == "75" or page.evaluate(
        "document.querySelector('progress').value") == 75
    assert page.locator("dd[data-field=failed]").inner_text() == "1"

    batch.imported, batch.status = 3, "done"
    db.session.commit()
    more = page.get_by_role("link", name="Tải lại trang để xem báo cáo từng dòng")
    more.wait_for()
    assert region.get_by_text("Đã xong").is_visible()
    assert page.evaluate("window.stayedOnThePage") is True
    check_page(page, f"phone-import-done-{label}")
    more.click()
    page.get_by_role("link", name="Tải báo cáo từng dòng (CSV)").wait_for()
    page.context.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_without_javascript_the_import_page_reloads_itself(live_server, browser, world):
    from portal.extensions import db
    from portal.models import ImportBatch

    batch = ImportBatch(source="web", name="lo-thang-6.csv", manifest_sha256="c" * 64, files_dir="",
                        status="queued", unit_id=world["staff_a"].unit_id, created_by_id=world["staff_a"].id)
    db.session.add(batch)
    db.session.commit()
    page = new_page(browser, 390, java_script_enabled=False)
    login(page, live_server, "staff_a")
    page.goto(f"{live_server}/admin/imports/{batch.id}")
    assert page.get_by_role("status").inner_text().startswith("Đang chờ")
    batch.status, batch.total_rows, batch.imported = "done", 1, 1
    db.session.commit()
    page.get_by_role("status").get_by_text("Đã xong").wait_for()  # the meta refresh brought the new state
    shot(page, "phone-import-no-script-phone")  # axe needs scripts; the crawl checks this page with them
    page.context.close()
