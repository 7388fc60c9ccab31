"""A unit's results of a year as a BagIt package for the current archive (Circular 05/2025/TT-BNV).

Which results: the unit's results issued that year that were ever published (published, expired,
revoked, replaced); drafts and returned ones never were records. The payload (data/):
  results/<n>-<result code>/document.pdf       the stored original, read checked (portal.storage)
  results/<n>-<result code>/source-image.<ext> the scan it was converted from, when there was one
  results/<n>-<result code>/metadata.json      the record's metadata (the fields of Circular 05,
                                                METADATA_FIELDS), and the same as metadata.xml
  pdfa-report.json, pdfa-report.txt            which PDFs are not PDF/A, and why (archive/pdfa.py)
bag-info.txt names the unit, the year, the counts and the export time (the department's zone);
manifest-sha256.txt and tagmanifest-sha256.txt carry SHA-256 only.

The bag is built in a hidden folder beside `out` and moved into place once whole, so a failed export
leaves nothing that looks like a package.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from xml.etree import ElementTree

import bagit
from sqlalchemy import select

from ..errors import UserError
from ..extensions import db
from ..identifiers import InvalidInput, normalize_unit_code
from ..models import DOCUMENT, Result, Unit
from ..models.results import DIGITIZED, HOLDER_KIND_LABELS, HOLDER_VISIBLE_STATUSES, STATUS_LABELS
from ..storage import FileDamaged, StorageUnavailable, storage
from ..timeutil import local_zone, to_local, today, utcnow
from . import pdfa

# Every result names a person or a business and their identity number: personal data, so the
# archive opens it only under its restricted-access rules (Law on Archives 2024, Art. 28).
ACCESS_LEVEL = "Hạn chế"
PERMANENT = "Vĩnh viễn"
FIRST_YEAR = 1945
# The metadata fields of Circular 05/2025/TT-BNV, as named in each record (README, "Archive").
METADATA_FIELDS = ("file_code", "title", "retention", "retention_years", "access_level", "keywords", "page_count",
                   "paper_original_code", "issue_date", "valid_from", "valid_until", "digitized_at",
                   "checked_at", "published_at", "signer", "digitizer", "checker")
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# What XML 1.0 cannot hold at all, not even as a character reference (control characters a pasted
# or imported text may carry, Word's \x0b line break the likeliest): a space in metadata.xml, which
# must parse; metadata.json keeps them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class ExportError(UserError):
    """Why no package was written (Vietnamese)."""


@dataclass
class Package:
    path: Path
    unit: Unit
    year: int
    result_count: int
    file_count: int
    payload_oxum: str
    manifest_sha256: str
    not_pdfa: list[dict] = field(default_factory=list)


def find_unit(code: str) -> Unit:
    try:
        code = normalize_unit_code(code)
    except InvalidInput as err:
        raise ExportError(str(err)) from None
    unit = db.session.scalars(select(Unit).where(Unit.code == code)).first()
    if unit is None:
        raise ExportError(f"Không có đơn vị mã {code}.")
    return unit


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= today().year:
        raise ExportError(f"Năm {year} không hợp lệ: chọn một năm từ {FIRST_YEAR} đến {today().year}.")
    return year


def check_out(out: Path) -> Path:
    out = out.absolute()  # «--out .» names the folder by its name, beside which the bag is built
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"Thư mục đích {out} đã có nội dung: hãy chọn một thư mục mới hoặc rỗng.")
    if not out.parent.is_dir():
        raise ExportError(f"Không có thư mục {out.parent}.")
    return out


def results_of(unit: Unit, year: int) -> list[Result]:
    """What goes in the package; ExportError when there is nothing (before any file is written)."""
    results = list(db.session.scalars(
        select(Result).where(Result.unit_id == unit.id, Result.status.in_(HOLDER_VISIBLE_STATUSES),
                             Result.published_at.is_not(None),
                             Result.issue_date >= date(year, 1, 1), Result.issue_date < date(year + 1, 1, 1))
        .order_by(Result.issue_date, Result.code)))
    if not results:
        raise ExportError(f"Đơn vị {unit.code} không có kết quả nào đã phát hành năm {year}: không có gì để nộp lưu.")
    return results


def export(unit: Unit, year: int, out: Path, progress: Callable[[int], None] = lambda n: None) -> Package:
    """Write the package into `out` (missing or empty). Raises ExportError."""
    check_year(year)
    out = check_out(out)
    results = results_of(unit, year)
    try:
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.partial-"))
    except OSError as err:
        raise ExportError(f"Không ghi được vào thư mục {out.parent}: {err.strerror}.") from None
    try:
        payload = _write_payload(staging, results, progress)
        exported_at = utcnow().astimezone(local_zone())
        bag = bagit.make_bag(str(staging), checksums=["sha256"], bag_info={
            "Source-Organization": unit.name,
            "External-Identifier": out.name,
            "External-Description": f"Kết quả giải quyết thủ tục hành chính của {unit.name} ({unit.code}), "
                                    f"ban hành năm {year}",
            "Unit-Code": unit.code,
            "Unit-Name": unit.name,
            "Year": str(year),
            "Result-Count": str(len(results)),
            "File-Count": str(payload["files"]),
            "Not-PDFA-Count": str(len(payload["not_pdfa"])),
            "Export-Time": exported_at.isoformat(timespec="seconds"),
            "Bagging-Date": exported_at.date().isoformat(),
        })
        manifest = hashlib.sha256((staging / "manifest-sha256.txt").read_bytes()).hexdigest()
        if out.exists():
            out.rmdir()  # empty (checked above)
        staging.rename(out)
    except BaseException as err:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(err, OSError):  # a full disk, a folder made read-only meanwhile
            raise ExportError(f"Không ghi được gói vào thư mục {out.parent}: {err.strerror or err}. "
                              "Chưa có gói nào được tạo.") from None
        raise
    return Package(out, unit, year, len(results), payload["files"], bag.info["Payload-Oxum"], manifest,
                   payload["not_pdfa"])


def _write_payload(root: Path, results: list[Result], progress) -> dict:
    files, not_pdfa, report = 0, [], []
    for number, result in enumerate(results, start=1):
        folder_name = f"{number:05d}-{_UNSAFE.sub('_', result.code)}"
        folder = root / "results" / folder_name
        folder.mkdir(parents=True)
        described = []
        for attached in result.files:
            stored = attached.file
            name = ("document" if attached.role == DOCUMENT else attached.role.replace("_", "-")) + \
                EXTENSIONS.get(stored.media_type, ".bin")
            target = folder / name
            try:
                with storage().open_verified(stored.sha256) as checked, open(target, "wb") as copy:
                    shutil.copyfileobj(checked, copy)
            except StorageUnavailable:
                raise ExportError("Kho lưu trữ tệp không trả lời: chưa có gói nào được tạo. "
                                  "Hãy thử lại sau ít phút.") from None
            except FileDamaged as err:
                state = "bị mất" if err.state == "missing" else "bị thay đổi"
                raise ExportError(f"Tệp {name} của kết quả {result.code} {state} trong kho lưu trữ "
                                  f"(SHA-256 {stored.sha256}): chạy «fixity» và khôi phục trước khi nộp lưu.") from None
            entry = {"path": f"data/results/{folder_name}/{name}", "role": attached.role,
                     "media_type": stored.media_type, "sha256": stored.sha256, "size": stored.size,
                     "page_count": stored.page_count}
            if stored.media_type == "application/pdf":
                level, problems = pdfa.problems(target)
                entry.update(pdfa=level, pdfa_problems=problems)
                report.append({"result_code": result.code, "path": entry["path"], "pdfa": level,
                               "conforms": not problems, "problems": problems})
                if problems:
                    not_pdfa.append(report[-1])
            described.append(entry)
            files += 1
        record = metadata(result, described)
        (folder / "metadata.json").write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n",
                                              encoding="utf-8")
        (folder / "metadata.xml").write_bytes(as_xml(record))
        progress(1)
    (root / "pdfa-report.json").write_text(json.dumps(
        {"checked": len(report), "not_pdfa": len(not_pdfa), "files": report,
         "method": "pikepdf: XMP pdfaid, output intent, embedded fonts, encryption, JavaScript and embedded "
                   "files; not a full validation (no veraPDF)"},
        ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (root / "pdfa-report.txt").write_text(_report_text(report, not_pdfa), encoding="utf-8")
    return {"files": files, "not_pdfa": not_pdfa}


def _report_text(report: list[dict], not_pdfa: list[dict]) -> str:
    lines = [f"Kiểm tra PDF/A: {len(report)} tệp PDF, {len(not_pdfa)} tệp không đạt PDF/A.",
             "(Kiểm tra cấu trúc bằng pikepdf, chưa phải kiểm định đầy đủ bằng veraPDF.)", ""]
    for item in not_pdfa:
        lines.append(f"{item['path']} (kết quả {item['result_code']}):")
        lines.extend(f"  - {problem}" for problem in item["problems"])
    return "\n".join(lines) + "\n"


def _local(moment: datetime | None) -> str | None:
    return to_local(moment).isoformat(timespec="seconds") if moment else None


def metadata(result: Result, files: list[dict]) -> dict:
    """One result's record: the Circular 05/2025 fields first, then what identifies it here."""
    procedure = result.procedure
    return {
        "file_code": result.dossier_code or result.code,
        "title": result.summary,
        "retention": PERMANENT if result.retention_years is None else f"{result.retention_years} năm",
        "retention_years": result.retention_years,
        "access_level": ACCESS_LEVEL,
        "keywords": [procedure.field, procedure.name, HOLDER_KIND_LABELS[result.holder_kind]],
        "page_count": result.page_count,
        "paper_original_code": result.code if result.origin == DIGITIZED else None,
        "issue_date": result.issue_date.isoformat(),
        "valid_from": result.valid_from.isoformat(),
        "valid_until": result.valid_until.isoformat() if result.valid_until else None,
        "digitized_at": _local(result.digitized_at),
        "checked_at": _local(result.checked_at),
        "published_at": _local(result.published_at),
        "signer": {"name": result.signer_name, "title": result.signer_title},
        "digitizer": result.digitized_by.display_name if result.digitized_by else None,
        "checker": result.checked_by.display_name if result.checked_by else None,
        "result_code": result.code,
        "dossier_code": result.dossier_code,
        "document_number": result.document_number,
        "procedure": {"code": procedure.code, "name": procedure.name, "field": procedure.field},
        "unit": {"code": result.unit.code, "name": result.unit.name},
        "origin": result.origin,
        "status": result.effective_status(),
        "status_label": STATUS_LABELS[result.effective_status()],
        "status_reason": result.status_reason,
        "replaces": result.replaces.code if result.replaces else None,
        "holder": {"kind": result.holder_kind, "id": result.holder_id, "name": result.holder_name,
                   "address": result.holder_address},
        "files": files,
    }


def as_xml(record: dict) -> bytes:
    """The same record as XML: one element a key, a list's items as <item>, null as an empty element."""
    def put(parent, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                put(ElementTree.SubElement(parent, key), inner)
        elif isinstance(value, list):
            for inner in value:
                put(ElementTree.SubElement(parent, "item"), inner)
        elif value is not None:
            parent.text = _NOT_XML.sub(" ", str(value).lower() if isinstance(value, bool) else str(value))

    root = ElementTree.Element("record")
    put(root, record)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
