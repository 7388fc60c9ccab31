"""Printed-looking PDFs for demo results, with a real text layer (fpdf2, embedded DejaVu).

fpdf2 spends most of its time loading the font, so every document is drawn into one PDF
and then split into one file per result with pypdf.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

FONTS = Path(__file__).resolve().parent.parent / "fonts"
NEXT_LINE = {"new_x": "LMARGIN", "new_y": "NEXT"}


@dataclass
class Spec:
    department: str
    province: str
    number: str
    issue_date: date
    title: str
    holder_label: str
    holder_name: str
    holder_id: str
    address: str
    signer_name: str
    signer_title: str
    body: list[str] = field(default_factory=list)
    pages: int = 1


def _draw(pdf: FPDF, spec: Spec) -> None:
    pdf.add_page()
    top = pdf.get_y()
    pdf.set_font("Serif", "", 10)
    pdf.multi_cell(80, 5, f"UBND TỈNH {spec.province.upper()}", align="C", **NEXT_LINE)
    pdf.set_font("Serif", "B", 10)
    pdf.multi_cell(80, 5, spec.department.split(" tỉnh ")[0].upper(), align="C", **NEXT_LINE)
    pdf.set_font("Serif", "", 10)
    pdf.multi_cell(80, 7, f"Số: {spec.number}", align="C", **NEXT_LINE)
    pdf.set_xy(100, top)
    pdf.set_font("Serif", "B", 10)
    pdf.multi_cell(95, 5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C", new_x="LEFT", new_y="NEXT")
    pdf.multi_cell(95, 5, "Độc lập - Tự do - Hạnh phúc", align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font("Serif", "I", 10)
    day = spec.issue_date
    pdf.multi_cell(95, 7, f"{spec.province}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}",
                   align="C", **NEXT_LINE)
    pdf.ln(12)
    pdf.set_font("Serif", "B", 14)
    pdf.multi_cell(0, 8, spec.title, align="C", **NEXT_LINE)
    pdf.ln(4)
    pdf.set_font("Serif", "", 11)
    lines = [f"{spec.holder_label}: {spec.holder_name}", f"Số định danh: {spec.holder_id}",
             f"Địa chỉ: {spec.address}", *spec.body]
    for line in lines:
        pdf.multi_cell(0, 6.5, line, **NEXT_LINE)
        pdf.ln(1)
    pdf.ln(8)
    pdf.set_x(110)
    pdf.set_font("Serif", "B", 11)
    pdf.multi_cell(85, 6, spec.signer_title.upper(), align="C", **NEXT_LINE)
    pdf.ln(18)
    pdf.set_x(110)
    pdf.multi_cell(85, 6, spec.signer_name, align="C", **NEXT_LINE)
    for annex in range(1, spec.pages):
        pdf.add_page()
        pdf.set_font("Serif", "", 11)
        pdf.multi_cell(0, 6.5, f"Phụ lục {annex} kèm theo văn bản số {spec.number} ngày {day:%d/%m/%Y}.",
                       **NEXT_LINE)


def render_many(specs: list[Spec]) -> list[bytes]:
    """One PDF (bytes) per spec, each with exactly `spec.pages` pages."""
    if not specs:
        return []
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))  # same inputs, same bytes
    pdf.add_font("Serif", "", str(FONTS / "DejaVuSerif.ttf"))
    pdf.add_font("Serif", "B", str(FONTS / "DejaVuSerif-Bold.ttf"))
    pdf.add_font("Serif", "I", str(FONTS / "DejaVuSerif.ttf"))
    pdf.set_margins(20, 15, 15)
    pdf.set_auto_page_break(True, margin=20)
    starts = []
    for spec in specs:
        starts.append(pdf.page_no())
        _draw(pdf, spec)
    reader = PdfReader(io.BytesIO(bytes(pdf.output())))
    documents = []
    for spec, start in zip(specs, starts):
        writer = PdfWriter()
        for index in range(start, start + spec.pages):
            writer.add_page(reader.pages[index])
        writer.add_metadata({"/Title": f"{spec.title} {spec.number}", "/Producer": spec.department})
        out = io.BytesIO()
        writer.write(out)
        documents.append(out.getvalue())
    return documents
