"""One manifest row checked as the upload form checks it: every problem named, in Vietnamese."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from ..extensions import db
from ..identifiers import (
    InvalidInput,
    normalize_document_number,
    normalize_dossier_code,
    normalize_holder_id,
    normalize_procedure_code,
    normalize_result_code,
    normalize_unit_code,
    parse_date,
    parse_past_date,
)
from ..models import Procedure, Unit
from ..timeutil import today
from .manifest import LABELS, REQUIRED_COLUMNS, ManifestRow, fold


class RowError(Exception):
    """The row cannot be imported; str() lists every reason, `fields` each column's (API answers)."""

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.fields = fields or {}


@dataclass
class RowInput:
    line: int
    file: str           # as written in the manifest
    unit: Unit
    procedure_code: str
    procedure_name: str
    field: str
    fields: dict        # the rest of ResultInput, validated and normalized


def labelled(label: str, message: str) -> str:
    """A field's problem with its label said once: the identifiers' messages often begin with the
    label already ("Ngày ban hành «x» không hợp lệ"); the sentence's full stop goes, the row's
    message ends with its own."""
    message = message.strip().rstrip(".")
    core = label.split("(")[0]  # "số định danh (CCCD/MST)": the message may say "Số định danh ..."
    if fold(message).startswith(fold(core)):
        return message
    return f"{label}: {message}"


def sentence(text: str) -> str:
    """Capitalised, ending with exactly one full stop."""
    text = text.strip().rstrip(".").strip()
    return text[:1].upper() + text[1:] + "." if text else text


def resolve_file(files_dir: Path, name: str) -> Path:
    """The file a row names, inside `files_dir` and nowhere else."""
    relative = Path(name.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or not name.strip():
        raise RowError(f"Đường dẫn tệp «{name}» không hợp lệ: phải là đường dẫn bên trong thư mục tệp.")
    path = (files_dir / relative).resolve()
    if not path.is_relative_to(files_dir.resolve()) or not path.is_file():
        raise RowError(f"Không tìm thấy tệp «{name}» trong thư mục tệp.")
    return path


def known_procedure(code: str, cache: dict) -> Procedure | None:
    """The catalogue's procedure, looked up once per batch."""
    if code not in cache:
        cache[code] = db.session.scalars(select(Procedure).where(Procedure.code == code)).first()
    return cache[code]


def check_row(row: ManifestRow, units: dict[str, Unit], procedures: dict | None = None) -> RowInput:
    v = row.values
    problems: list[tuple[str, str]] = [(c, f"thiếu {LABELS[c]}") for c in REQUIRED_COLUMNS if not v.get(c)]
    out: dict = {}

    def take(column, fn, *args, **kwargs):
        if not v.get(column):
            return None
        try:
            return fn(v[column], *args, **kwargs)
        except InvalidInput as err:
            problems.append((column, labelled(LABELS[column], str(err))))
            return None

    unit = None
    if (code := take("unit_code", normalize_unit_code)) is not None:
        unit = units.get(code)
        if unit is None:
            problems.append(("unit_code", f"đơn vị {code} chưa có trong hệ thống"))
    procedure_code = take("procedure_code", normalize_procedure_code)
    out["result_code"] = take("result_code", normalize_result_code)
    out["dossier_code"] = take("dossier_code", normalize_dossier_code)
    out["document_number"] = take("document_number", normalize_document_number)
    out["issue_date"] = take("issue_date", parse_past_date, label="Ngày ban hành")
    out["valid_until"] = take("valid_until", parse_date, label="Ngày hết hiệu lực")
    holder = take("holder_id", normalize_holder_id)
    if holder:
        out["holder_kind"], out["holder_id"] = holder
    for column, limit in (("signer_name", 255), ("signer_title", 255), ("summary", 2000), ("holder_name", 255)):
        if len(v.get(column, "")) > limit:
            problems.append((column, f"{LABELS[column]} dài quá {limit} ký tự"))
        out[column] = v.get(column, "")[:limit]
    year = v.get("formed_year", "")
    if year:
        if not year.isdigit() or not 1945 <= int(year) <= today().year:
            problems.append(("formed_year", f"năm hình thành «{year}» không hợp lệ"))
        else:
            out["formed_year"] = int(year)
    if out.get("issue_date"):
        out.setdefault("formed_year", out["issue_date"].year)
        if out["formed_year"] > out["issue_date"].year:
            problems.append(("formed_year", "năm hình thành sau năm ban hành"))
        if out.get("valid_until") and out["valid_until"] < out["issue_date"]:
            problems.append(("valid_until", "ngày hết hiệu lực trước ngày ban hành"))
    if procedure_code and not v.get("procedure_name"):
        if known_procedure(procedure_code, {} if procedures is None else procedures) is None:
            problems.append(("procedure_code",
                             f"thủ tục {procedure_code} chưa có trong danh mục: cần ghi tên thủ tục và lĩnh vực"))
    if problems:
        fields: dict[str, str] = {}
        for column, message in problems:
            fields[column] = f"{fields[column]}; {message}" if column in fields else message
        raise RowError(sentence("; ".join(message for _column, message in problems)),
                       {column: sentence(message) for column, message in fields.items()})
    return RowInput(line=row.line, file=v["file"], unit=unit, procedure_code=procedure_code,
                    procedure_name=v.get("procedure_name", ""), field=v.get("field", ""), fields=out)
