"""Batch import (`import-batch`, README: Batch import): manifests in both formats and header languages, every
kind of bad row, duplicates, reruns, and a rerun after the import process is killed."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from portal.extensions import db
from portal.models import ImportBatch, ImportRow, Procedure, Result, StoredFile
from portal.operations import imports

from .conftest import CCCD_A, CCCD_B, UNIT_A

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["result_code", "dossier_code", "procedure_code", "procedure_name", "field", "unit_code", "document_number",
          "issue_date", "signer_name", "signer_title", "summary", "holder_id", "holder_name", "valid_until",
          "formed_year", "file"]
VIETNAMESE = ["Mã kết quả", "Mã hồ sơ", "Mã thủ tục", "Tên thủ tục", "Lĩnh vực", "Mã đơn vị", "Số, ký hiệu",
              "Ngày ban hành", "Người ký", "Chức vụ người ký", "Trích yếu", "Số định danh", "Người được cấp",
              "Hiệu lực đến", "Năm hình thành", "Tệp"]


def row(n: int, **overrides) -> dict:
    values = {
        "result_code": "", "dossier_code": "", "procedure_code": "1.010711", "procedure_name": "", "field": "",
        "unit_code": UNIT_A, "document_number": f"{n}/GP-SKHCN", "issue_date": f"2019-05-{n:02d}",
        "signer_name": "Trần Văn Hùng", "signer_title": "Giám đốc",
        "summary": f"Giấy phép tiến hành công việc bức xạ số {n} cho Phòng khám Đa khoa Thiện Nhân",
        "holder_id": CCCD_A, "holder_name": "Phạm Minh Khánh", "valid_until": "", "formed_year": "",
        "file": f"scans/{n}.pdf",
    }
    values.update(overrides)
    return values


def write_csv(path: Path, rows: list[dict], header=HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for values in rows:
            writer.writerow([values[c] for c in HEADER])
    return path


@pytest.fixture
def folder(tmp_path, pdfs):
    scans = tmp_path / "batch" / "scans"
    scans.mkdir(parents=True)
    for n, pdf in enumerate(pdfs, start=1):
        (scans / f"{n}.pdf").write_bytes(pdf)
    return tmp_path / "batch"


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=[str(a) for a in args])


def test_a_csv_manifest_with_english_headers_makes_drafts_for_the_reviewers(cli, world, folder):
    manifest = write_csv(folder / "lo-1.csv", [row(1), row(2), row(3, valid_until="2030-01-01")])
    done = cli("import-batch", manifest, "--files", folder)
    assert done.exit_code == 0, done.output
    assert "Imported 3, skipped (already in) 0, failed 0 of 3 rows." in done.output
    results = db.session.scalars(select(Result).order_by(Result.document_number)).all()
    assert [r.document_number for r in results] == ["1/GP-SKHCN", "2/GP-SKHCN", "3/GP-SKHCN"]
    batch = db.session.scalars(select(ImportBatch)).one()
    assert all(r.status == "draft" and r.import_batch_id == batch.id and r.document.text for r in results)
    assert batch.status == "done" and (batch.imported, batch.skipped, batch.failed) == (3, 0, 0)
    # Indexed: the reviewers find them.
    from portal import search

    found = search.search_results(world["reviewer_a"], "thien nhan", search.Filters())
    assert len(found.items) == 3

    again = cli("import-batch", manifest, "--files", folder)
    assert again.exit_code == 0 and "Imported 0, skipped (already in) 3, failed 0" in again.output
    assert db.session.scalar(select(func.count(Result.id))) == 3


def test_an_xlsx_manifest_with_vietnamese_headers_and_publish(cli, world, folder):
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(VIETNAMESE)
    first = row(4, procedure_code="1.999999", procedure_name="Thủ tục mới của tỉnh", field="Sở hữu trí tuệ")
    second = row(5, holder_id=int(CCCD_B), holder_name="Trần Thị Lan")  # Excel dropped the leading zero
    for values in (first, second):
        cells = [values[c] for c in HEADER]
        cells[HEADER.index("issue_date")] = datetime(2019, 5, 4)  # a real date cell
        sheet.append(cells)
    manifest = folder / "lo-2.xlsx"
    book.save(manifest)

    done = cli("import-batch", manifest, "--files", folder, "--publish")
    assert done.exit_code == 0, done.output
    results = db.session.scalars(select(Result).order_by(Result.document_number)).all()
    assert [(r.status, r.holder_id) for r in results] == [("published", CCCD_A), ("published", CCCD_B)]
    assert db.session.scalars(select(Procedure).where(Procedure.code == "1.999999")).one().field == "Sở hữu trí tuệ"


@pytest.mark.parametrize("alongside", [False, True], ids=["index-at-the-end", "index-alongside"])
def test_every_kind_of_bad_row_is_reported_and_the_good_rows_are_kept(app, cli, world, folder, tmp_path, monkeypatch,
                                                                      alongside):
    # A large batch has its index written by a process beside it; a small one writes it at its end.
    monkeypatch.setattr(imports, "INDEX_ALONGSIDE_FROM", 1 if alongside else 10_000)
    (folder / "scans" / "broken.pdf").write_bytes(b"%PDF-1.4\n this is not really a pdf")
    (folder / "scans" / "note.pdf").write_bytes("Xin chào".encode())
    (tmp_path / "secret.pdf").write_bytes(b"%PDF-1.4 outside")
    rows = [
        row(1),                                              # line 2: good
        row(2, holder_id=""),                                # 3: missing field
        row(3, holder_id="051089004218x"),                   # 4: wrong ID number
        row(4, issue_date="31/02/2019"),                     # 5: no such date
        row(5, unit_code="000.99.21.H48"),                   # 6: unknown unit
        row(6, file="scans/none.pdf"),                       # 7: missing file
        row(7, file="../secret.pdf"),                        # 8: outside the folder
        row(8, file="scans/broken.pdf"),                     # 9: broken PDF
        row(9, file="scans/note.pdf"),                       # 10: not a PDF at all
        row(10, file="scans/1.pdf"),                         # 11: same file as line 2, another result
        row(11, procedure_code="1.888888"),                  # 12: procedure unknown, no name given
        row(12),                                             # 13: good
        row(12),                                             # 14: the same row again: already in
    ]
    manifest = write_csv(folder / "lo-3.csv", rows)
    report = tmp_path / "bao-cao.csv"
    done = cli("import-batch", manifest, "--files", folder, "--report", report)
    assert done.exit_code == 3, done.output
    assert "Imported 2, skipped (already in) 1, failed 10 of 13 rows." in done.output
    assert sorted(db.session.scalars(select(Result.document_number))) == ["1/GP-SKHCN", "12/GP-SKHCN"]
    skipped = db.session.scalars(select(ImportRow).where(ImportRow.line == 14)).one()
    assert skipped.status == "skipped" and skipped.result.document_number == "12/GP-SKHCN"
    from portal import search

    found = search.search_results(world["reviewer_a"], "thien nhan", search.Filters())
    assert sorted(r.document_number for r, _hit in found.items) == ["1/GP-SKHCN", "12/GP-SKHCN"]

    with open(report, encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))
    assert lines[0] == ["Dòng", "Tệp", "Lý do"]
    reasons = {int(line): reason for line, _file, reason in lines[1:]}
    assert sorted(reasons) == list(range(3, 13))
    expected = {
        3: "Thiếu số định danh (CCCD/MST)", 4: "số định danh", 5: "Ngày ban hành", 6: "đơn vị 000.99.21.H48 chưa có",
        7: "Không tìm thấy tệp «scans/none.pdf»", 8: "không hợp lệ", 9: "Không đọc được tệp PDF",
        10: "nội dung là", 11: "đã được lưu cho kết quả", 12: "thủ tục 1.888888 chưa có trong danh mục",
    }
    for line, words in expected.items():
        assert words.lower() in reasons[line].lower(), (line, reasons[line])
    assert not any((Path(app.config["PORTAL_DATA_DIR"]) / "files" / "tmp").iterdir())  # nothing left behind


def test_rows_whose_codes_collide_in_the_database_are_imported_one_by_one(cli, world, folder):
    # Line 2 gives its dossier code; line 3's generated code is the same, which the group cannot
    # see before its flush. The flush fails on the unique code; the group is then imported a row
    # at a time, each in a savepoint, and both rows go in with codes of their own.
    given = f"{UNIT_A}-190501-9001"
    manifest = write_csv(folder / "lo-4.csv", [row(1, issue_date="2019-05-01", dossier_code=given),
                                               row(2, issue_date="2019-05-01")])
    done = cli("import-batch", manifest, "--files", folder)
    assert done.exit_code == 0, done.output
    assert "Imported 2, skipped (already in) 0, failed 0 of 2 rows." in done.output
    codes = dict(db.session.execute(select(Result.document_number, Result.code)).all())
    assert codes == {"1/GP-SKHCN": f"{given}-KQ1", "2/GP-SKHCN": f"{UNIT_A}-190501-9002-KQ1"}


def _content_bomb(megabytes: int) -> bytes:
    """A small PDF whose page, once decompressed, is `megabytes` of drawing operators."""
    import zlib

    compressor = zlib.compressobj(9)
    chunk = b"0 0 m 1 1 l S\n" * 4096
    stream = b"".join(compressor.compress(chunk) for _ in range(megabytes * 1024 * 1024 // len(chunk)))
    stream += compressor.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_a_file_that_crashes_the_pdf_reader_is_reported_and_the_batch_goes_on(app, cli, world, folder, monkeypatch):
    # PDFium aborts the process when a page needs more memory than it may have: a decompression
    # bomb kills its reading process (the limit is lowered so that a small bomb will do). The
    # rows read beside it are read again; the bomb, read again alone, is reported.
    from portal.imports import reader

    monkeypatch.setattr(reader, "MEMORY_LIMIT", 300 * 1024**2)
    (folder / "scans" / "bomb.pdf").write_bytes(_content_bomb(400))
    manifest = write_csv(folder / "lo-5.csv", [row(1), row(2, file="scans/bomb.pdf"), row(3), row(4)])
    done = cli("import-batch", manifest, "--files", folder)
    assert done.exit_code == 3, done.output
    assert "Imported 3, skipped (already in) 0, failed 1 of 4 rows." in done.output
    failed = db.session.scalars(select(ImportRow).where(ImportRow.status == "failed")).one()
    assert failed.line == 3 and "làm trình đọc PDF dừng đột ngột" in failed.message
    assert not any((Path(app.config["PORTAL_DATA_DIR"]) / "files" / "tmp").iterdir())  # nothing left behind


def test_a_stalled_file_is_given_up_before_its_job_would_be_taken_over(app):
    # A web job whose lease ran out is run again by another process; the lease is renewed with
    # each row read, and a row waits at most two tries of one file.
    from portal.imports import reader

    assert 2 * reader.READ_SECONDS + imports.COMMIT_SECONDS < app.config["JOB_LEASE_SECONDS"] / 1.2


def test_a_file_that_keeps_the_pdf_reader_busy_is_stopped_and_reported(app, cli, world, folder, monkeypatch):
    # 200 MB of drawing operators take PDFium ~20 s on this machine: the reader is stopped at
    # the time limit (lowered here), the rows beside it are read again, the file is reported.
    from portal.imports import reader

    monkeypatch.setattr(reader, "READ_SECONDS", 2)
    (folder / "scans" / "slow.pdf").write_bytes(_content_bomb(200))
    manifest = write_csv(folder / "lo-6.csv", [row(1), row(2, file="scans/slow.pdf"), row(3)])
    done = cli("import-batch", manifest, "--files", folder)
    assert done.exit_code == 3, done.output
    assert "Imported 2, skipped (already in) 0, failed 1 of 3 rows." in done.output
    failed = db.session.scalars(select(ImportRow).where(ImportRow.status == "failed")).one()
    assert failed.line == 3 and "mất quá 2 giây" in failed.message
    assert not any((Path(app.config["PORTAL_DATA_DIR"]) / "files" / "tmp").iterdir())  # not even the killed reader's


def test_a_manifest_that_cannot_be_read_says_why(cli, world, folder):
    missing_column = folder / "thieu.csv"
    missing_column.write_text("document_number,file\n1/GP-SKHCN,scans/1.pdf\n", encoding="utf-8")
    result = cli("import-batch", missing_column, "--files", folder)
    assert result.exit_code == 1 and "Bảng kê thiếu cột" in result.output and "mã đơn vị" in result.output
    latin1 = folder / "latin1.csv"
    latin1.write_bytes(",".join(HEADER).encode() + "\nTrần".encode("cp1258", errors="replace"))
    latin1.write_bytes(b"result_code,summary\n,\xe0\xe1\n")
    result = cli("import-batch", latin1, "--files", folder)
    assert result.exit_code == 1 and "UTF-8" in result.output
    wrong = folder / "lo.txt"
    wrong.write_text("x")
    assert "phải là tệp .csv" in cli("import-batch", wrong, "--files", folder).output


def _count(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_rerun_after_the_import_is_killed_half_way_resumes_without_duplicates(app, world, tmp_path, db_url):
    from portal.demo.documents import Spec, render_many

    count = 400
    scans = tmp_path / "big" / "scans"
    scans.mkdir(parents=True)
    specs = [Spec(department="Sở Khoa học và Công nghệ tỉnh Quảng Ngãi", province="Quảng Ngãi", number=f"{n}/GP-SKHCN",
                  issue_date=__import__("datetime").date(2019, 1, 1), title="GIẤY PHÉP", holder_label="Người được cấp",
                  holder_name="Phạm Minh Khánh", holder_id=CCCD_A, address="Quảng Ngãi", signer_name="Trần Văn Hùng",
                  signer_title="Giám đốc", body=[f"Giấy phép số {n}."], pages=1) for n in range(1, count + 1)]
    for n, pdf in enumerate(render_many(specs), start=1):
        (scans / f"{n}.pdf").write_bytes(pdf)
    manifest = write_csv(tmp_path / "big" / "lo.csv",
                         [row(n, issue_date="2019-01-01") for n in range(1, count + 1)])
    env = {**os.environ, "DATABASE_URL": db_url, "PORTAL_DATA_DIR": app.config["PORTAL_DATA_DIR"],
           "SECRET_KEY": "test-secret", "PORTAL_INDEXER_INTERVAL": "0"}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "import-batch", str(manifest), "--files",
               str(tmp_path / "big")]
    db.session.remove()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _count(db_url, "SELECT count(*) FROM import_rows") < 60 and time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        time.sleep(0.05)
    helpers = _children(process.pid)  # its file readers and its indexer
    assert len(helpers) >= 3, helpers
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while _alive(helpers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(helpers), "processes of the killed import were left behind"
    first = _count(db_url, "SELECT count(*) FROM import_rows")
    assert 0 < first < count, "the import was not killed half-way"
    # Every committed row has its result, and no result lacks its row or its file.
    assert _count(db_url, "SELECT count(*) FROM results") == first
    assert _count(db_url, "SELECT count(*) FROM results r WHERE NOT EXISTS "
                          "(SELECT 1 FROM result_files f WHERE f.result_id = r.id)") == 0
    assert set(_indexed_ids()) <= set(db.session.scalars(select(Result.id)))  # no result the database lacks

    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"Resuming batch 1: {first} rows already handled." in again.stdout
    assert f"Imported {count}, skipped (already in) 0, failed 0 of {count} rows." in again.stdout
    assert _count(db_url, "SELECT count(*) FROM results") == count
    assert _count(db_url, "SELECT count(DISTINCT document_number) FROM results") == count
    assert _count(db_url, "SELECT count(*) FROM import_batches") == 1
    assert _count(db_url, "SELECT count(*) FROM import_rows WHERE status = 'imported'") == count
    indexed = _indexed_ids()
    assert len(indexed) == count and set(indexed) == set(db.session.scalars(select(Result.id)))  # once each
    # No orphan: every stored object is a result's file, and the killed import's spool is gone.
    files = Path(app.config["PORTAL_DATA_DIR"]) / "files"
    assert {p.name for p in (files / "objects").rglob("*") if p.is_file()} == set(
        db.session.scalars(select(StoredFile.sha256)))
    assert _count(db_url, "SELECT count(*) FROM stored_files s WHERE NOT EXISTS "
                          "(SELECT 1 FROM result_files f WHERE f.file_id = s.id)") == 0
    assert not any((files / "tmp").iterdir())


def _indexed_ids() -> list[int]:
    from portal import search

    searcher = search.search_index().searcher()
    return [int(searcher.stored_fields(n)["id"]) for n in searcher.reader().all_doc_ids()]


def _children(pid: int) -> set[int]:
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.add(int(stat.parent.name))
    return children


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _scanned_page(tmp_path: Path) -> bytes:
    """A real scan as the scanners deliver it: Vietnamese text drawn into a 300 dpi image, no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(ROOT / "portal" / "fonts" / "DejaVuSerif.ttf"), 48)
    image = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "",
                              "GIẤY CHỨNG NHẬN ĐĂNG KÝ", "Số: 77/GCN-SKHCN", "Người được cấp: Phạm Minh Khánh",
                              "Địa chỉ: thành phố Quảng Ngãi", "Thiết bị đo lường phóng xạ"]):
        draw.text((220, 300 + i * 130), line, fill=0, font=font)
    path = tmp_path / "scan.pdf"
    image.save(path, resolution=300)
    return path.read_bytes()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_scan_without_text_is_recognised_in_vietnamese_and_becomes_searchable(app, client, world, tmp_path):
    from portal import ocr, search
    from portal.storage import storage

    from .conftest import login, make_result

    if not ocr.available():
        assert os.environ.get("REQUIRE_OCR") != "1", "REQUIRE_OCR=1 but ocrmypdf or tesseract-ocr-vie is missing"
        pytest.skip("Tesseract with Vietnamese is not installed")
    scan = _scanned_page(tmp_path)
    result = make_result(world, scan, reviewer="reviewer_a", document_number="77/GCN-SKHCN", valid_until=None,
                         summary="Giấy chứng nhận đăng ký")
    document = result.document
    assert document.ocr_status == "pending" and not document.text
    login(client, "holder_a")
    assert "Đang nhận dạng chữ" in client.get(f"/me/results/{result.code}").get_data(as_text=True)

    assert ocr.run_pending() == 1
    db.session.refresh(document)
    assert document.ocr_status == "done"
    folded = __import__("portal.imports.manifest", fromlist=["fold"]).fold(document.text)
    for words in ("cong hoa xa hoi chu nghia viet nam", "quang ngai", "pham minh khanh", "phong xa"):
        assert words in folded, document.text
    assert storage().hash_of_stored(document.sha256) == document.sha256  # the scan itself is untouched
    found = search.search_results(world["holder_a"], "phong xa", search.Filters())
    assert [r.code for r, _hit in found.items] == [result.code]
    assert "Đang nhận dạng chữ" not in client.get(f"/me/results/{result.code}").get_data(as_text=True)


def test_without_tesseract_the_portal_says_ocr_is_unavailable(app, client, world, tmp_path, monkeypatch):
    from portal import ocr

    from .conftest import make_result

    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without ocrmypdf or tesseract
    ocr.available.cache_clear()
    try:
        result = make_result(world, _scanned_page(tmp_path), document_number="78/GCN-SKHCN")
        assert ocr.run_pending() == 0 and result.document.ocr_status == "pending"
        from .conftest import login

        login(client, "staff_a")
        page = client.get(f"/admin/results/{result.id}").get_data(as_text=True)
        assert "chưa cài nhận dạng chữ" in page
    finally:
        ocr.available.cache_clear()


def test_the_report_of_failed_rows_writes_a_formula_as_text(cli, world, folder, tmp_path):
    manifest = write_csv(folder / "lo.csv", [row(1), row(2, file="=cmd|' /C calc'!A0"), row(3, file="@x.pdf")])
    report = tmp_path / "loi.csv"
    done = cli("import-batch", manifest, "--files", folder, "--report", report)
    assert done.exit_code == 3, done.output
    with open(report, encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))
    assert [(int(line[0]), line[1]) for line in lines[1:]] == [(3, "'=cmd|' /C calc'!A0"), (4, "'@x.pdf")]
