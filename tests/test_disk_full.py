"""A full disk, for real: the data directory on a small tmpfs of its own, filled up. Every write
(an upload, a copy, a page image, an import's job folder) answers 507 in Vietnamese (JSON on the
API), is logged, and leaves nothing half-written; /healthz reports the low space."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import search
from portal.extensions import db
from portal.models import CertifiedCopy, ImportBatch, Result
from portal.models.imports import FAILED

from .conftest import csrf_token, fill_disk, login, make_app, make_result, upload
from .test_import import row
from .test_web_import import make_zip, manifest_csv, post_import

FULL_PAGE = "Máy chủ đã hết chỗ lưu trữ"


@pytest.fixture
def app(db_url, small_disk, signing_keys):
    """The portal with its data directory on the small disk (the database stays elsewhere)."""
    app = make_app(db_url, small_disk / "data", **signing_keys)
    with app.app_context():
        search.search_index().create_empty()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def published(world, pdfs):
    return make_result(world, pdfs[2], reviewer="reviewer_a", valid_until=None, document_number="3/GP-SKHCN")


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def assert_full_page(response) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 507 and FULL_PAGE in page and "chưa có gì được lưu" in page, page[:500]


def test_an_upload_on_a_full_disk_saves_nothing_and_says_so(app, client, world, pdfs, small_disk, caplog):
    data = Path(app.config["PORTAL_DATA_DIR"])
    login(client, "staff_a")
    filler = fill_disk(small_disk, leave=8 * 1024)  # less than the scan
    assert_full_page(upload(client, pdfs[0]))
    assert files_in(data / "files") == []  # no temporary file, no object
    assert db.session.scalar(select(func.count(Result.id))) == 0
    assert "No space left to write: POST /admin/results/new" in caplog.text

    filler.unlink()  # space again: the same upload goes in
    assert upload(client, pdfs[0]).status_code == 302


def test_a_copy_on_a_full_disk_is_not_issued(app, client, world, published, small_disk, caplog):
    data = Path(app.config["PORTAL_DATA_DIR"])
    stored = files_in(data / "files")
    login(client, "holder_a")
    token = csrf_token(client, f"/me/results/{published.code}")
    filler = fill_disk(small_disk, leave=16 * 1024)  # less than the signed copy
    assert_full_page(client.post(f"/me/results/{published.code}/copies", data={"csrf_token": token}))
    answer = client.post(f"/api/v1/me/results/{published.code}/copies", headers={"X-CSRFToken": token})
    assert answer.status_code == 507 and answer.json["error"] == "storage_full"
    assert "chưa có gì được lưu" in answer.json["message"]
    assert files_in(data / "files") == stored
    assert db.session.scalar(select(func.count(CertifiedCopy.id))) == 0
    assert "No space left to write: POST /api/v1/me/results" in caplog.text
    spec = client.get("/api/v1/openapi.json").json
    assert "507" in spec["paths"]["/api/v1/me/results/{code}/copies"]["post"]["responses"]

    filler.unlink()
    assert client.post(f"/api/v1/me/results/{published.code}/copies", headers={"X-CSRFToken": token}).status_code == 201


def test_a_page_image_on_a_full_disk_leaves_no_empty_file(app, client, world, published, small_disk):
    previews = Path(app.config["PORTAL_DATA_DIR"]) / "previews"
    login(client, "holder_a")
    filler = fill_disk(small_disk, leave=0)
    assert_full_page(client.get(f"/me/results/{published.code}/pages/1.png"))
    assert files_in(previews) == []

    filler.unlink()
    image = client.get(f"/me/results/{published.code}/pages/1.png")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")


def test_an_import_on_a_full_disk_leaves_no_job_folder(app, client, world, pdfs, small_disk):
    imports = Path(app.config["PORTAL_DATA_DIR"]) / "imports"
    archive = make_zip({"bang-ke.csv": manifest_csv([row(1, file="1.pdf")]), "1.pdf": pdfs[0]})
    login(client, "staff_a")
    csrf_token(client, "/admin/imports")
    fill_disk(small_disk, leave=8 * 1024)
    assert_full_page(post_import(client, archive, "lo-1.zip"))
    assert files_in(imports) == [] and not any(imports.iterdir())
    batch = db.session.scalars(select(ImportBatch)).one()
    assert batch.status == FAILED and "hết chỗ lưu trữ" in batch.error


def test_healthz_reports_low_space(app, client, small_disk):
    app.config["MIN_FREE_MB"] = 8
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["status"] == "ok"
    assert health.json["storage"]["status"] == "ok" and health.json["storage"]["free_mb"] >= 8
    fill_disk(small_disk, leave=1024 * 1024)
    health = client.get("/healthz")
    # Reading, downloading and verifying still work: a warning for the operators, not a 503.
    assert health.status_code == 200 and health.json["status"] == "warning"
    assert health.json["storage"] == {"status": "low", "free_mb": 1, "min_free_mb": 8}
    assert (health.json["database"], health.json["index"]) == ("ok", "ok")


def test_a_scan_in_a_zip_is_not_called_broken_when_the_disk_is_full(tmp_path, small_disk, pdfs):
    from portal.imports.unpack import unpack

    archive = tmp_path / "lo.zip"
    archive.write_bytes(make_zip({"1.pdf": pdfs[0] + os.urandom(100_000)}))
    fill_disk(small_disk, leave=8 * 1024)
    with pytest.raises(OSError, match="No space left"):
        unpack(archive, small_disk / "unpacked", max_files=10, max_bytes=10**9)
