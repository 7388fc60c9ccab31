"""Batch-import benchmark: results per second end to end, and OCR seconds per page.

    .venv/bin/python bench/import.py                       # 1,000 results, 3 runs
    .venv/bin/python bench/import.py --sizes 1000 5000 --runs 3

Generates N one-page results with a text layer (fpdf2, DejaVu, like the demo's) and a CSV
manifest, then imports them into a throw-away portal (SQLite, its own data directory):

- the portal's batch import (`operations.imports.run_batch`, what `flask import-batch` runs): rows
  checked, files hashed, stored and read ahead by other processes, drafts added 50 rows at a time
  with one flush and one commit, the search index written by a process beside the import and
  finished at its end;
- the baseline, in the same run on files of the same kind: the path a web upload takes, one
  result at a time (`operations.results.create_draft`, one transaction and one index commit per
  result);
- OCR: a scanned page without a text layer (Vietnamese text drawn into a 300 dpi image) through
  OCRmyPDF and Tesseract `vie`, seconds per page.

Each path runs several times (new files each time, into the same portal): the median, the range,
and the CPU time per result of the importing process and the processes it started, which varies
less than the wall clock on a shared machine. Figures go to docs/BENCHMARKS.md, between this
benchmark's markers.
"""

from __future__ import annotations

import argparse
import csv
import platform
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

# Nothing heavy at the top: the import's helper processes are spawned, and import this module.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

UNIT = "000.02.21.H48"


def _app(folder: Path):
    from flask_migrate import upgrade

    from portal import create_app
    from portal.operations import accounts

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
                      "PORTAL_DATA_DIR": str(folder / "data"),
                      "SECRET_KEY": "bench", "SEARCH_INDEXER_INTERVAL": 0, "SEARCH_REBUILD_IN_BACKGROUND": False,
                      "JOBS_INTERVAL": 0})
    context = app.app_context()
    context.push()
    upgrade()
    from portal import search

    search.search_index().create_empty()
    accounts.create_unit(None, UNIT, "Phòng Quản lý chuyên ngành")
    accounts.save_procedure(None, "1.010711", "Cấp giấy phép tiến hành công việc bức xạ", "An toàn bức xạ", None)
    staff = accounts.create_user(None, "staff", "staff", "Bench-password-1", unit_code=UNIT)
    return app, context, staff


def _issued(n: int) -> date:
    # Spread over a year: a unit's generated dossier codes run out at 999 results a day.
    return date(2019, 1, 1) + timedelta(days=n % 365)


def _generate(folder: Path, count: int, offset: int) -> Path:
    from portal.demo.documents import Spec, render_many

    scans = folder / "scans"
    scans.mkdir(parents=True, exist_ok=True)
    specs = [Spec(department="Sở Khoa học và Công nghệ tỉnh Quảng Ngãi", province="Quảng Ngãi",
                  number=f"{n}/GP-SKHCN", issue_date=_issued(n), title="GIẤY PHÉP TIẾN HÀNH CÔNG VIỆC BỨC XẠ",
                  holder_label="Người được cấp", holder_name="Phạm Minh Khánh", holder_id="051089004217",
                  address="Quảng Ngãi", signer_name="Trần Văn Hùng", signer_title="Giám đốc",
                  body=[f"Thiết bị X-quang chẩn đoán số {n}."], pages=1) for n in range(offset, offset + count)]
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["procedure_code", "unit_code", "document_number", "issue_date", "signer_name", "signer_title",
                         "summary", "holder_id", "holder_name", "file"])
        for spec, pdf in zip(specs, render_many(specs)):
            name = f"scans/{spec.number.split('/')[0]}.pdf"
            (folder / name).write_bytes(pdf)
            writer.writerow(["1.010711", UNIT, spec.number, spec.issue_date.isoformat(), "Trần Văn Hùng", "Giám đốc",
                             f"Giấy phép tiến hành công việc bức xạ {spec.number}", "051089004217",
                             "Phạm Minh Khánh", name])
    return manifest


def _cpu_seconds() -> float:
    """CPU time of this process and of the children it has waited for (the import's helpers)."""
    return sum(getattr(resource.getrusage(who), field) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for field in ("ru_utime", "ru_stime"))


def _batch(folder: Path, count: int, offset: int) -> tuple[float, float]:
    """(results per second, CPU ms per result) of one batch import."""
    from portal import search
    from portal.operations import imports

    manifest = _generate(folder, count, offset)
    # The small index segments of the runs before merged, as a web process's indexer does when
    # idle: otherwise every run would index into more segments than the one before.
    search.search_index().compact()
    batch = imports.open_batch(None, manifest, folder, publish=False, source="cli")
    cpu, start = _cpu_seconds(), time.perf_counter()
    batch = imports.run_batch(batch, manifest)
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    from portal.operations.imports import failed_rows

    assert batch.imported == count, [(r.line, r.message) for r in failed_rows(batch)]
    return count / seconds, cpu * 1000 / count


def _one_by_one(folder: Path, count: int, offset: int, staff) -> tuple[float, float]:
    """The baseline: what the upload form does for each result."""
    from sqlalchemy import select

    from portal import search
    from portal.extensions import db
    from portal.identifiers import normalize_holder_id
    from portal.models import Procedure, Unit
    from portal.operations.results import ResultInput, create_draft
    from portal.scans import Spooled, prepare
    from portal.storage import storage

    manifest = _generate(folder, count, offset)
    rows = list(csv.DictReader(open(manifest, encoding="utf-8")))
    procedure = db.session.scalars(select(Procedure)).one()
    unit = db.session.scalars(select(Unit)).one()
    cpu, start = _cpu_seconds(), time.perf_counter()
    for row in rows:
        with open(folder / row["file"], "rb") as fh:
            path, sha, size = storage().spool(fh)
        scan = prepare(storage(), Spooled(path, sha, size, ""), Path(row["file"]).name)
        kind, holder = normalize_holder_id(row["holder_id"])
        create_draft(staff, ResultInput(
            procedure=procedure, unit=unit, document_number=row["document_number"],
            issue_date=date.fromisoformat(row["issue_date"]),
            signer_name=row["signer_name"], signer_title=row["signer_title"], summary=row["summary"],
            holder_kind=kind, holder_id=holder, holder_name=row["holder_name"], formed_year=2019), scan)
        search.sync()
    return count / (time.perf_counter() - start), (_cpu_seconds() - cpu) * 1000 / count


def _ocr_seconds_per_page(folder: Path, pages: int = 3) -> float | None:
    from portal import ocr

    if not ocr.available():
        return None
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(ROOT / "portal" / "fonts" / "DejaVuSerif.ttf"), 42)
    images = []
    for n in range(pages):
        image = Image.new("L", (2480, 3508), 255)  # A4 at 300 dpi
        draw = ImageDraw.Draw(image)
        for i, line in enumerate(["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                                  "GIẤY PHÉP TIẾN HÀNH CÔNG VIỆC BỨC XẠ", f"Số: {n + 1}/GP-SKHCN",
                                  "Người được cấp: Phạm Minh Khánh", "Địa chỉ: Số 12 Hùng Vương, Quảng Ngãi"] * 3):
            draw.text((200, 250 + i * 120), line, fill=0, font=font)
        images.append(image)
    scan = folder / "scan.pdf"
    images[0].save(scan, save_all=True, append_images=images[1:], resolution=300)
    start = time.perf_counter()
    text = ocr.recognise(scan)
    seconds = time.perf_counter() - start
    assert "Quảng Ngãi" in text or "Quang Ngai" in text, text[:300]
    return seconds / pages


def _runs(label: str, count: int, runs: int, once) -> str:
    """A table row: `once()` run `runs` times, each returning (results/s, CPU ms per result)."""
    figures = [once() for _ in range(runs)]
    rates = [rate for rate, _cpu in figures]
    print(f"{label}, {count} results: " + ", ".join(f"{rate:.0f}/s" for rate in rates))
    return (f"| {label} | {count:,} | {runs} | {statistics.median(rates):.0f} ({min(rates):.0f}-{max(rates):.0f}) | "
            f"{statistics.median(cpu for _rate, cpu in figures):.1f} |")


def main() -> None:
    from search import write_section

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000], help="results per batch")
    parser.add_argument("--runs", type=int, default=3, help="runs of each path and size")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder = Path(tmp)
        _app_, context, staff = _app(folder)
        numbers = [1]  # the next document number: every run imports new ones

        def take(count: int) -> int:
            numbers[0] += count
            return numbers[0] - count

        # The baseline first, on the smallest store: its index write per result grows with the index.
        baseline_count = 200
        baseline = _runs("baseline: one result at a time, as the upload form (a commit and an index write each)",
                         baseline_count, args.runs,
                         lambda: _one_by_one(folder / f"single-{numbers[0]}", baseline_count, take(baseline_count),
                                             staff))
        for count in args.sizes:
            rows.append(_runs("batch import (`import-batch`)", count, args.runs,
                              lambda count=count: _batch(folder / f"batch-{numbers[0]}", count, take(count))))
        rows.append(baseline)
        ocr_seconds = _ocr_seconds_per_page(folder)
        print(f"OCR: {ocr_seconds} s/page")
        context.pop()
    lines = [f"Run {date.today().isoformat()} on {platform.machine()}, Python {platform.python_version()}, "
             f"`bench/import.py --sizes {' '.join(map(str, args.sizes))} --runs {args.runs}` (SQLite).", "",
             "| path | results per run | runs | results per second: median (range) | CPU ms per result |",
             "| --- | ---: | ---: | ---: | ---: |", *rows, "",
             "OCR (OCRmyPDF + Tesseract `vie`, a 300 dpi A4 scan of Vietnamese text): "
             + (f"{ocr_seconds:.1f} s per page." if ocr_seconds else "not measured (Tesseract with `vie` missing).")]
    write_section(args.out, "import", "\n".join(lines))


if __name__ == "__main__":
    main()
