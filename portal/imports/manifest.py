"""Reading a scanning team's manifest: CSV (UTF-8) or XLSX, English or Vietnamese headers."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

COLUMNS = (
    "result_code", "dossier_code", "procedure_code", "procedure_name", "field", "unit_code", "document_number",
    "issue_date", "signer_name", "signer_title", "summary", "holder_id", "holder_name", "valid_until",
    "formed_year", "file",
)
REQUIRED_COLUMNS = ("procedure_code", "unit_code", "document_number", "issue_date", "signer_name", "signer_title",
                    "summary", "holder_id", "holder_name", "file")

# Vietnamese headers, folded (no diacritics, lower case, single spaces). Documented in the README.
ALIASES = {
    "ma ket qua": "result_code",
    "ma ho so": "dossier_code",
    "ma thu tuc": "procedure_code", "ma tthc": "procedure_code",
    "ten thu tuc": "procedure_name", "thu tuc": "procedure_name", "ten tthc": "procedure_name",
    "linh vuc": "field",
    "ma don vi": "unit_code", "don vi": "unit_code",
    "so ky hieu": "document_number", "so van ban": "document_number", "so hieu": "document_number",
    "ngay ban hanh": "issue_date", "ngay cap": "issue_date",
    "nguoi ky": "signer_name",
    "chuc vu nguoi ky": "signer_title", "chuc vu": "signer_title",
    "trich yeu": "summary", "noi dung": "summary",
    "so dinh danh": "holder_id", "cccd mst": "holder_id", "so cccd mst": "holder_id", "ma so thue cccd": "holder_id",
    "nguoi duoc cap": "holder_name", "ten nguoi duoc cap": "holder_name", "to chuc ca nhan": "holder_name",
    "hieu luc den": "valid_until", "co hieu luc den": "valid_until", "ngay het hieu luc": "valid_until",
    "nam hinh thanh": "formed_year", "nam hinh thanh ho so": "formed_year",
    "tep": "file", "ten tep": "file", "duong dan tep": "file", "tep ban quet": "file",
}
LABELS = {
    "result_code": "mã kết quả", "dossier_code": "mã hồ sơ", "procedure_code": "mã thủ tục",
    "procedure_name": "tên thủ tục", "field": "lĩnh vực", "unit_code": "mã đơn vị",
    "document_number": "số, ký hiệu", "issue_date": "ngày ban hành", "signer_name": "người ký",
    "signer_title": "chức vụ người ký", "summary": "trích yếu", "holder_id": "số định danh (CCCD/MST)",
    "holder_name": "người được cấp", "valid_until": "hiệu lực đến", "formed_year": "năm hình thành",
    "file": "tệp",
}
MAX_ROWS = 100_000


class ManifestError(Exception):
    """The manifest as a whole cannot be read; str() says why in Vietnamese."""


@dataclass
class ManifestRow:
    line: int               # as the person who made the file sees it (the header is line 1)
    values: dict[str, str]  # column -> text, stripped; missing columns are ""


def fold(text: str) -> str:
    text = unicodedata.normalize("NFD", str(text)).replace("đ", "d").replace("Đ", "D")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def column_for(header: str) -> str | None:
    key = fold(header)
    if key.replace(" ", "_") in COLUMNS:
        return key.replace(" ", "_")
    return ALIASES.get(key)


def _cell(value) -> str:
    """A spreadsheet cell as text: dates as ISO dates, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _restore_leading_zero(values: dict[str, str]) -> None:
    """A spreadsheet that took an ID number for a number dropped its leading zero; every CCCD
    starts with 0 (province codes 001-096), as do the tax codes of many provinces."""
    holder = values.get("holder_id", "")
    if holder.isdigit() and len(holder) in (9, 11):
        values["holder_id"] = "0" + holder


def _rows(header: list, body) -> tuple[list[str | None], list[ManifestRow]]:
    columns = [column_for(h) if h is not None and str(h).strip() else None for h in header]
    found = {c for c in columns if c}
    missing = [LABELS[c] for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        raise ManifestError("Bảng kê thiếu cột: " + ", ".join(missing) + ". Xem danh sách tên cột trong hướng dẫn.")
    rows = []
    for line, cells in body:
        values = dict.fromkeys(COLUMNS, "")
        for column, cell in zip(columns, cells):
            if column:
                values[column] = _cell(cell)
        if not any(values.values()):
            continue  # blank line
        _restore_leading_zero(values)
        rows.append(ManifestRow(line, values))
        if len(rows) > MAX_ROWS:
            raise ManifestError(f"Bảng kê có hơn {MAX_ROWS:,} dòng; hãy chia thành nhiều bảng kê.".replace(",", "."))
    if not rows:
        raise ManifestError("Bảng kê không có dòng dữ liệu nào.")
    return columns, rows


def read_manifest(path: Path) -> list[ManifestRow]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path.read_bytes())
    if suffix == ".xlsx":
        return _read_xlsx(path)
    raise ManifestError("Bảng kê phải là tệp .csv (UTF-8) hoặc .xlsx.")


def _read_csv(data: bytes) -> list[ManifestRow]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ManifestError("Tệp CSV không ở mã UTF-8; khi lưu từ Excel hãy chọn «CSV UTF-8».") from None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ManifestError("Tệp bảng kê rỗng.") from None
    except csv.Error as err:
        raise ManifestError(f"Tệp CSV sai cấu trúc: {err}") from None

    def body():
        try:
            for cells in reader:
                yield reader.line_num, cells
        except csv.Error as err:
            raise ManifestError(f"Tệp CSV sai cấu trúc ở dòng {reader.line_num}: {err}") from None

    return _rows(header, body())[1]


def _read_xlsx(path: Path) -> list[ManifestRow]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError):
        raise ManifestError("Không đọc được tệp Excel (.xlsx); tệp bị hỏng hoặc không phải .xlsx.") from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ManifestError("Tệp bảng kê rỗng.")
        return _rows(list(header), ((n, list(cells)) for n, cells in enumerate(rows, start=2)))[1]
    finally:
        book.close()
