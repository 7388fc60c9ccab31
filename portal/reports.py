"""The yearly report as files: CSV (the rows, to recompute), XLSX (openpyxl), PDF (WeasyPrint)."""

from __future__ import annotations

import csv
import io

from flask import current_app, render_template

from .plan import ReportRow, total
from .spreadsheets import append_row, csv_row
from .timeutil import today

LABELS = ["Mã đơn vị", "Đơn vị", "Kết quả đã số hóa", "Trang đã số hóa", "Đã kiểm tra", "Đã phát hành",
          "Trang đã phát hành", "Kinh phí (đồng)", "Cần số hóa (kiểm kê)", "Còn lại", "Trang còn lại"]
FORMATS = ("xlsx", "pdf", "csv")


def _values(row: ReportRow) -> list:
    return [row.unit.code, row.unit.name, *(getattr(row, name) for name in ReportRow.FIELDS)]


def to_csv(rows: list[ReportRow]) -> bytes:
    """One header row (the XLSX's Vietnamese labels), then one row per unit, figures as plain
    integers; UTF-8 with a byte-order mark, without which Excel on Windows reads it as ANSI."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LABELS)
    for row in rows:
        writer.writerow(csv_row(_values(row)))
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[ReportRow], year: int, price: int) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = f"Năm {year}"
    department = current_app.config["DEPARTMENT_NAME"]
    append_row(sheet, [department])
    append_row(sheet, [f"BÁO CÁO KẾT QUẢ SỐ HÓA KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH NĂM {year}"])
    append_row(sheet, [f"Đơn giá số hóa: {price:,} đồng/trang. Lập ngày {today():%d/%m/%Y}.".replace(",", ".")])
    append_row(sheet, [])
    append_row(sheet, LABELS)
    header_row = sheet.max_row
    for row in rows:
        append_row(sheet, _values(row))
    sums = total(rows)
    append_row(sheet, ["", "Tổng cộng", *(sums[name] for name in ReportRow.FIELDS)])
    for cell in sheet[header_row] + sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for cell in sheet[header_row]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet["A1"].font = sheet["A2"].font = Font(bold=True)
    for column, width in zip("ABCDEFGHIJK", (16, 38, 12, 12, 12, 12, 12, 16, 14, 12, 12)):
        sheet.column_dimensions[column].width = width
    for data_row in sheet.iter_rows(min_row=header_row + 1, min_col=3):
        for cell in data_row:
            cell.number_format = "#,##0"
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=3)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(rows: list[ReportRow], year: int, price: int) -> bytes:
    from .copies import pdf, worker

    config = current_app.config
    html = render_template("reports/yearly.html", rows=rows, sums=total(rows), fields=ReportRow.FIELDS, year=year,
                           price=price,
                           department=config["DEPARTMENT_NAME"], province=config["PROVINCE_NAME"],
                           department_short=config["DEPARTMENT_NAME"].split(" tỉnh ")[0], made_on=today())
    return worker.run(pdf.render_document, html, processes=config["COPY_PROCESSES"])


def export(rows: list[ReportRow], year: int, price: int, fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv(rows)
    if fmt == "xlsx":
        return to_xlsx(rows, year, price)
    if fmt == "pdf":
        return to_pdf(rows, year, price)
    raise ValueError(fmt)
