"""Batch import from the web: the ZIP (never trusted), the job page, its report, and the review
queue a unit works through (filter by batch, publish a page at once, send one back)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import stat
import zipfile

import pytest
from sqlalchemy import select

from portal import jobs
from portal.extensions import db
from portal.models import ImportBatch, ImportRow, Result

from .conftest import csrf_token, login
from .test_import import HEADER, row


def manifest_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    out.write(",".join(HEADER) + "\n")
    for values in rows:
        out.write(",".join(f'"{values[c]}"' for c in HEADER) + "\n")
    return out.getvalue().encode("utf-8")


def make_zip(entries: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return out.getvalue()


def post_import(client, upload: bytes, name: str, files: list[tuple[bytes, str]] = ()):
    token = csrf_token(client, "/admin/imports")
    data = {"csrf_token": token, "upload": (io.BytesIO(upload), name),
            "files": [(io.BytesIO(content), filename) for content, filename in files]}
    return client.post("/admin/imports", data=data, content_type="multipart/form-data")


def test_staff_upload_a_zip_follow_the_job_and_download_its_report(app, client, world, pdfs):
    rows = [row(1, file="scans/1.pdf"), row(2, file="scans/2.pdf"), row(3, file="scans/missing.pdf"),
            row(4, unit_code="000.04.21.H48", file="scans/4.pdf")]
    archive = make_zip({"lo-5/bang-ke.csv": manifest_csv(rows), "lo-5/scans/1.pdf": pdfs[0],
                        "lo-5/scans/2.pdf": pdfs[1], "lo-5/scans/4.pdf": pdfs[3]})
    login(client, "staff_a")
    response = post_import(client, archive, "lo-5.zip")
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    job = response.headers["Location"]
    page = client.get(job).get_data(as_text=True)
    assert "Đang chờ" in page and 'http-equiv="refresh"' in page

    assert jobs.run_once()  # what a web process's background thread does
    page = client.get(job).get_data(as_text=True)
    assert "Đã xong" in page and 'http-equiv="refresh"' not in page
    assert "Không tìm thấy tệp «scans/missing.pdf»" in page
    assert "không phải đơn vị của người nhập" in page  # unit B's row in a unit A job
    batch = db.session.scalars(select(ImportBatch)).one()
    assert (batch.imported, batch.skipped, batch.failed) == (2, 0, 2) and batch.source == "web"
    report = client.get(f"{job}/report.csv")
    assert report.mimetype == "text/csv"
    text = report.data.decode("utf-8-sig")
    assert text.splitlines()[0] == "Dòng,Tệp,Kết quả,Chi tiết" and "Đã nhập" in text and "Lỗi" in text

    results = db.session.scalars(select(Result).where(Result.import_batch_id == batch.id)).all()
    assert {r.digitized_by_id for r in results} == {world["staff_a"].id}

    # Another unit's staff do not see the job, its report, or its results.
    other = app.test_client()
    login(other, "staff_b")
    assert other.get(job).status_code == 404 and other.get(f"{job}/report.csv").status_code == 404
    assert "Lô " not in other.get("/admin/review").get_data(as_text=True)


def test_a_manifest_with_loose_files(client, world, pdfs):
    login(client, "staff_a")
    rows = [row(5, file="5.pdf"), row(6, file="C:\\scans\\6.pdf")]
    response = post_import(client, manifest_csv(rows), "bang-ke.csv", [(pdfs[4], "5.pdf"), (pdfs[5], "6.pdf")])
    assert response.status_code == 302
    jobs.run_once()
    batch = db.session.scalars(select(ImportBatch)).one()
    assert (batch.imported, batch.failed) == (1, 1)  # a Windows path is not a file name of the upload


@pytest.mark.parametrize("entries, symlinks, words", [
    ({"bang-ke.csv": b"x", "../../evil.pdf": b"%PDF-1.4"}, None, "đường dẫn không an toàn"),
    ({"bang-ke.csv": b"x", "/etc/evil.pdf": b"%PDF-1.4"}, None, "đường dẫn không an toàn"),
    ({"bang-ke.csv": b"x"}, {"scans/link.pdf": "/etc/passwd"}, "liên kết tượng trưng"),
    ({"bang-ke.csv": b"x", "bomb.pdf": b"\0" * (20 * 1024 * 1024)}, None, "bom ZIP"),
    ({"scans/1.pdf": b"%PDF-1.4"}, None, "không thấy bảng kê"),
    ({"a.csv": b"x", "b.xlsx": b"y"}, None, "đúng một bảng kê"),
], ids=["dotdot", "absolute", "symlink", "bomb", "no-manifest", "two-manifests"])
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_hostile_zip_is_refused_and_nothing_is_written_outside_the_job(app, client, world, tmp_path, entries,
                                                                        symlinks, words):
    login(client, "staff_a")
    page = post_import(client, make_zip(entries, symlinks), "lo.zip").get_data(as_text=True)
    assert words in page
    assert db.session.scalars(select(ImportBatch.status)).all() == ["failed"]
    data = app.config["PORTAL_DATA_DIR"]
    assert not list((tmp_path / "data").rglob("evil.pdf")) and not list((tmp_path).glob("../../evil.pdf"))
    assert not any((__import__("pathlib").Path(data) / "imports").glob("*/files/*"))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_too_many_files_and_not_a_zip(app, client, world):
    app.config["IMPORT_MAX_FILES"] = 3
    login(client, "staff_a")
    page = post_import(client, make_zip({f"{n}.pdf": b"%PDF" for n in range(5)}), "lo.zip").get_data(as_text=True)
    assert "quá giới hạn 3 tệp" in page
    assert "không phải tệp ZIP" in post_import(client, b"PK not really", "lo.zip").get_data(as_text=True)
    assert "Hãy tải lên một tệp ZIP" in post_import(client, b"hello", "lo.txt").get_data(as_text=True)


def test_reviewers_work_through_a_batch_publishing_a_page_and_sending_one_back(app, client, world, pdfs):
    login(client, "staff_a")
    rows = [row(n, file=f"{n}.pdf") for n in (7, 8, 9)]
    post_import(client, manifest_csv(rows), "lo.csv", [(pdfs[n - 1], f"{n}.pdf") for n in (7, 8, 9)])
    jobs.run_once()
    batch = db.session.scalars(select(ImportBatch)).one()

    reviewer = app.test_client()
    login(reviewer, "reviewer_a")
    queue = reviewer.get(f"/admin/review?batch={batch.id}").get_data(as_text=True)
    assert f"Lô {batch.id}" in queue and queue.count('class="review-card"') == 3
    assert queue.count("/pages/1.png") == 3  # the first page beside each one's metadata
    results = {r.document_number: r for r in db.session.scalars(select(Result))}
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', queue).group(1)
    back = reviewer.post(f"/admin/results/{results['9/GP-SKHCN'].id}/return",
                         data={"csrf_token": token, "return-reason": "Thiếu trang 2 của bản giấy",
                               "next": f"/admin/review?batch={batch.id}"})
    assert back.status_code == 302 and back.headers["Location"].endswith(f"/admin/review?batch={batch.id}")
    done = reviewer.post("/admin/review/publish", data={
        "csrf_token": token, "next": f"/admin/review?batch={batch.id}",
        "result_id": [f"{r.id}:{r.version}" for r in (results["7/GP-SKHCN"], results["8/GP-SKHCN"])]},
        follow_redirects=True)
    assert "Đã phát hành 2 kết quả" in done.get_data(as_text=True)
    statuses = {r.document_number: r.status for r in db.session.scalars(select(Result).execution_options(
        populate_existing=True))}
    assert statuses == {"7/GP-SKHCN": "published", "8/GP-SKHCN": "published", "9/GP-SKHCN": "returned"}
    # An outside address is never followed.
    away = reviewer.post("/admin/review/publish", data={"csrf_token": token, "next": "https://evil.example/"})
    assert away.headers["Location"].endswith("/admin/review")

    # The digitizer cannot publish their own (four eyes), even in bulk.
    token = csrf_token(client, "/admin/review")
    again = client.post("/admin/review/publish", data={"csrf_token": token, "result_id": [
        f'{results["9/GP-SKHCN"].id}:{results["9/GP-SKHCN"].version}']}, follow_redirects=True).get_data(as_text=True)
    assert "Không phát hành" in again


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_import_over_its_limit_says_the_import_limit(app, client, world):
    app.config["IMPORT_MAX_ZIP_MB"] = 1
    login(client, "staff_a")
    page = post_import(client, b"PK" + b"\0" * (2 * 1024 * 1024), "lo.zip")
    assert page.status_code == 413 and "giới hạn 1 MB" in page.get_data(as_text=True)


def test_a_file_name_that_several_files_answer_to_is_the_rows_error(app, client, world, pdfs):
    """Two scans of the same name in different folders: the bare name is no longer one of them
    at random, the row says which files it could mean; a path from the manifest's folder (or a
    name only one file has) still finds its file."""
    rows = [row(1, file="x.pdf"), row(2, file="dirB/x.pdf"), row(3, file="y.pdf"), row(4, file="z.pdf")]
    archive = make_zip({"lo/bang-ke.csv": manifest_csv(rows), "lo/dirA/x.pdf": pdfs[0], "lo/dirB/x.pdf": pdfs[1],
                        "lo/dirC/y.pdf": pdfs[2], "lo/z.pdf": pdfs[3], "lo/dirD/z.pdf": pdfs[4]})
    login(client, "staff_a")
    job = post_import(client, archive, "lo.zip").headers["Location"]
    jobs.run_once()
    batch = db.session.scalars(select(ImportBatch)).one()
    assert (batch.imported, batch.failed) == (3, 1)
    page = client.get(job).get_data(as_text=True)
    assert ("Tên tệp «x.pdf» ứng với 2 tệp trong lô: «lo/dirA/x.pdf», «lo/dirB/x.pdf». "
            "Hãy ghi đường dẫn của tệp tính từ thư mục chứa bảng kê, hoặc đặt tên tệp khác nhau.") in page
    stored = {r.document_number: r.document.sha256 for r in db.session.scalars(select(Result))}
    # dirB's file for the path, the only y.pdf for the bare name, the manifest's own z.pdf.
    assert stored == {"2/GP-SKHCN": hashlib.sha256(pdfs[1]).hexdigest(),
                      "3/GP-SKHCN": hashlib.sha256(pdfs[2]).hexdigest(),
                      "4/GP-SKHCN": hashlib.sha256(pdfs[3]).hexdigest()}


def test_two_loose_files_of_the_same_name_are_the_rows_error(client, world, pdfs):
    login(client, "staff_a")
    post_import(client, manifest_csv([row(5, file="5.pdf")]), "bang-ke.csv", [(pdfs[4], "5.pdf"), (pdfs[5], "5.pdf")])
    jobs.run_once()
    batch = db.session.scalars(select(ImportBatch)).one()
    assert (batch.imported, batch.failed) == (0, 1)
    message = db.session.scalars(select(ImportRow.message)).one()
    assert "«5.pdf» ứng với 2 tệp trong lô: «5.pdf (tệp thứ 1 đã chọn)», «5.pdf (tệp thứ 2 đã chọn)»" in message


def test_a_manifests_text_that_looks_like_a_formula_is_text_in_the_job_report(client, world, pdfs):
    login(client, "staff_a")
    rows = [row(1, file="1.pdf"), row(2, file="=cmd|' /C calc'!A0"), row(3, file="@SUM(1+1).pdf"),
            row(4, file="-2+3.pdf"), row(5, file="+5.pdf")]
    job = post_import(client, manifest_csv(rows), "bang-ke.csv", [(pdfs[0], "1.pdf")]).headers["Location"]
    jobs.run_once()
    lines = list(csv.reader(io.StringIO(client.get(f"{job}/report.csv").data.decode("utf-8-sig"))))
    files = {int(line[0]): line[1] for line in lines[1:]}  # the line numbers stay plain integers
    assert files == {2: "1.pdf", 3: "'=cmd|' /C calc'!A0", 4: "'@SUM(1+1).pdf", 5: "'-2+3.pdf",
                     6: "'+5.pdf"}


def _job_folder(app, batch_id: int):
    from pathlib import Path

    return Path(app.config["PORTAL_DATA_DIR"]) / "imports" / str(batch_id)


def test_a_done_jobs_files_are_removed_and_its_report_stays(app, client, world, pdfs):
    from portal.storage import storage

    login(client, "staff_a")
    archive = make_zip({"bang-ke.csv": manifest_csv([row(1, file="1.pdf"), row(2, file="none.pdf")]),
                        "1.pdf": pdfs[0]})
    job = post_import(client, archive, "lo.zip").headers["Location"]
    batch = db.session.scalars(select(ImportBatch)).one()
    assert list(_job_folder(app, batch.id).glob("files/*"))  # the upload, unpacked, waits for the job
    jobs.run_once()
    db.session.refresh(batch)
    assert batch.status == "done" and batch.files_removed_at is not None
    assert not _job_folder(app, batch.id).exists()
    page = client.get(job).get_data(as_text=True)
    assert "Các tệp tải lên của lô đã được xóa lúc" in page and "các bản quét đã nhập nằm trong kho" in page
    assert "Không tìm thấy tệp «none.pdf»" in page
    report = client.get(f"{job}/report.csv").data.decode("utf-8-sig").splitlines()
    assert len(report) == 3 and "Đã nhập" in report[1] and "Lỗi" in report[2]
    result = db.session.scalars(select(Result)).one()
    assert storage().path_for(result.document.sha256).read_bytes() == pdfs[0]
    from portal.models import AuditEvent

    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.target == f"lô {batch.id}")
                              .order_by(AuditEvent.id)).all() == ["import.start", "import.finish",
                                                                   "import.files_removed"]


def test_a_failed_jobs_files_are_kept_for_the_set_days_then_removed(app, client, world, pdfs, clock, monkeypatch):
    from datetime import timedelta

    from portal.operations import imports

    app.config["IMPORT_KEEP_FAILED_DAYS"] = 7
    login(client, "staff_a")
    archive = make_zip({"bang-ke.csv": b"ma,ten\n1,2\n", "1.pdf": pdfs[0]})  # a manifest without its columns
    job = post_import(client, archive, "lo.zip").headers["Location"]
    jobs.run_once()
    batch = db.session.scalars(select(ImportBatch)).one()
    assert batch.status == "failed" and "Bảng kê thiếu cột" in batch.error
    assert _job_folder(app, batch.id).is_dir() and batch.files_removed_at is None
    page = client.get(job).get_data(as_text=True)
    assert "Các tệp tải lên của lô được giữ đến 22/06/2026 10:" in page and "sau đó tự động xóa" in page

    clock.shift(timedelta(days=6, hours=23))
    assert imports.remove_expired_job_files() == 0 and _job_folder(app, batch.id).is_dir()
    clock.shift(timedelta(hours=2))
    monkeypatch.setattr(jobs, "_next_tidy", 0.0)  # what a web process does once an hour
    jobs.run_once()
    db.session.refresh(batch)
    assert not _job_folder(app, batch.id).exists() and batch.files_removed_at is not None
    login(client, "staff_a")  # a week later: the session has long ended
    page = client.get(job).get_data(as_text=True)
    assert "Các tệp tải lên của lô đã được xóa lúc 22/06/2026" in page and "Bảng kê thiếu cột" in page
    assert imports.remove_expired_job_files() == 0


def test_a_killed_job_keeps_its_files_and_resumes_from_them(app, client, world, pdfs, clock):
    from datetime import timedelta

    from portal.operations import imports
    from portal.timeutil import utcnow

    login(client, "staff_a")
    post_import(client, make_zip({"bang-ke.csv": manifest_csv([row(1, file="1.pdf")]), "1.pdf": pdfs[0]}), "lo.zip")
    batch = db.session.scalars(select(ImportBatch)).one()
    batch.status, batch.heartbeat_at = "running", utcnow()  # taken by a process that was then killed
    db.session.commit()
    clock.shift(timedelta(days=30))
    assert imports.remove_expired_job_files() == 0 and _job_folder(app, batch.id).is_dir()
    assert jobs.run_once()  # another process takes it over
    db.session.refresh(batch)
    assert batch.status == "done" and batch.imported == 1 and not _job_folder(app, batch.id).exists()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_folders_no_job_owns_are_removed_once_old(app, world):
    import os
    from datetime import timedelta

    from portal.operations import imports
    from portal.timeutil import utcnow

    old, new = _job_folder(app, 901), _job_folder(app, 902)
    for folder in (old, new):
        (folder / "files").mkdir(parents=True)
        (folder / "files" / "000000.pdf").write_bytes(b"%PDF-1.4")
    for folder, age in ((old, timedelta(days=8)), (new, timedelta(days=6))):
        stamp = (utcnow() - age).timestamp()
        os.utime(folder, (stamp, stamp))
    assert imports.remove_expired_job_files() == 1
    assert not old.exists() and new.is_dir()


def test_a_job_that_keeps_killing_its_process_is_given_up_after_its_runs(app, client, world, pdfs, clock):
    from datetime import timedelta

    from portal.operations import imports
    from portal.timeutil import utcnow

    login(client, "staff_a")
    post_import(client, make_zip({"bang-ke.csv": manifest_csv([row(1, file="1.pdf")]), "1.pdf": pdfs[0]}), "lo.zip")
    batch = db.session.scalars(select(ImportBatch)).one()
    for run in range(1, imports.MAX_ATTEMPTS + 1):  # each run taken, then its process killed
        assert imports.claim_next_web_batch().id == batch.id
        db.session.refresh(batch)
        assert batch.attempts == run and batch.status == "running"
        assert imports.claim_next_web_batch() is None  # alive: nobody takes it over
        clock.shift(timedelta(seconds=app.config["JOB_LEASE_SECONDS"] + 1))  # its lease ran out
    assert imports.claim_next_web_batch() is None  # given up, not taken a fourth time
    db.session.refresh(batch)
    assert batch.status == "failed" and batch.error == imports.GIVEN_UP and batch.finished_at <= utcnow()
    page = client.get(f"/admin/imports/{batch.id}").get_data(as_text=True)
    assert f"Lô đã được chạy {imports.MAX_ATTEMPTS} lần" in page
    assert not jobs.run_once()
