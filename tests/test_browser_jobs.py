"""Issue 16's background queues page in a real browser: a clerk finds the import job that was given
up and its reason, then opens its page; an admin sees every queue. At desktop and phone widths.
Screenshots `jobs-...`."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from .browser_kit import WIDTHS, browser_marks, check_page, login, new_page

pytestmark = browser_marks()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("width", "label"), WIDTHS)
def test_staff_find_a_given_up_import_and_an_admin_sees_every_queue(app, live_server, browser, world, pdfs,
                                                                     width, label):
    from portal import ocr
    from portal.extensions import db
    from portal.models import ImportBatch
    from portal.operations import imports
    from portal.timeutil import utcnow

    from .conftest import make_result

    unit_a = world["staff_a"].unit
    now = utcnow()
    given_up = ImportBatch(source="web", name="lo-giay-phep-buc-xa-thang-6-2026-phong-quan-ly-chuyen-nganh.zip",
                           manifest_sha256="b" * 64, files_dir="", status="failed", error=imports.GIVEN_UP,
                           attempts=imports.MAX_ATTEMPTS, total_rows=120, imported=50, finished_at=now,
                           unit_id=unit_a.id, created_by_id=world["staff_a"].id)
    running = ImportBatch(source="web", name="lo-2.zip", manifest_sha256="c" * 64, files_dir="", status="running",
                          attempts=1, total_rows=40, imported=10, lease_until=now + timedelta(minutes=2),
                          leased_by="node-a:4242", unit_id=unit_a.id, created_by_id=world["staff_a"].id)
    db.session.add_all([given_up, running])
    scan = make_result(world, pdfs[0]).document
    scan.ocr_status, scan.ocr_attempts, scan.ocr_lease_until = "failed", ocr.MAX_ATTEMPTS, now
    db.session.commit()

    page = new_page(browser, width)
    login(page, live_server, "staff_a")
    page.get_by_role("link", name="Công việc nền").click()
    page.get_by_role("heading", name="Công việc nền").wait_for()
    assert page.get_by_text(imports.GIVEN_UP).is_visible()
    assert page.get_by_text("Nhận dạng chữ").count() == 0  # an admin's queue
    check_page(page, f"jobs-01-staff-{label}")
    page.get_by_role("link", name=re.compile(f"Lô {given_up.id}")).click()
    page.get_by_text(f"Lô đã được chạy {imports.MAX_ATTEMPTS} lần").first.wait_for()
    page.context.close()

    page = new_page(browser, width)
    login(page, live_server, "admin")
    page.goto(f"{live_server}/admin/jobs")
    for name in ("Nhập theo lô", "Nhận dạng chữ (OCR)", "Đồng bộ kho dữ liệu quốc gia"):
        assert page.get_by_role("heading", name=name).is_visible()
    assert page.get_by_text(ocr.GIVEN_UP).is_visible()
    check_page(page, f"jobs-02-admin-{label}")
    page.context.close()
