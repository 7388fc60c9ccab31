"""PORTAL_STORAGE=s3, the whole way through, on SQLite and PostgreSQL: files kept in a bucket (moto's
S3 server over HTTP), none in the data directory; two nodes that share no directory serve the
same files; damage is found by downloads, `fixity` and /healthz; a holder reaches only their
own files, streamed or through short-lived presigned addresses; backup and restore."""

from __future__ import annotations

import hashlib
import io
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from portal import search
from portal.extensions import db
from portal.models import AuditEvent, CertifiedCopy, HandoverSlip, Result
from portal.operations import results as result_ops
from portal.storage import FILES, HELD, SLIPS, storage

from .conftest import CCCD_B, csrf_token, login, make_app, make_result, result_form, upload
from .test_backup import empty_target, schema_kept  # noqa: F401  (the fixture)
from .test_copies import copy_bytes, issue


@pytest.fixture
def app(s3_app):
    return s3_app


def objects(s3_server, area: str) -> list[str]:
    return [key for key in s3_server.keys() if key.startswith(f"portal/{area}/")]


def no_local_files(app) -> None:
    """Nothing kept in the data directory: files, page images and held scans are in the bucket
    (the spool folder is there, and empty)."""
    data = Path(app.config["PORTAL_DATA_DIR"])
    for folder in ("files", "held", "previews", "slips"):
        kept = [p for p in (data / folder).rglob("*") if p.is_file()] if (data / folder).exists() else []
        assert kept == [], folder


def second_node(app, tmp_path):
    """Another node: the same database and bucket, a data directory of its own."""
    node = make_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "node-b",
                    **{key: app.config[key] for key in ("SIGNING_P12", "SIGNING_P12_PASSWORD", "TRUST_ROOTS",
                                                        "STORAGE", "S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION",
                                                        "S3_PREFIX")})
    with node.app_context():
        search.search_index().create_empty()
    return node


def test_upload_preview_publish_download_and_a_copy_all_through_the_bucket(app, client, world, pdfs, s3_server,
                                                                           tmp_path):
    login(client, "staff_a")
    assert upload(client, pdfs[2], "giay-phep.pdf", paper_pages="2", valid_until=None).status_code == 302
    result = db.session.scalars(select(Result)).one()
    sha256 = result.document.sha256
    assert objects(s3_server, FILES) == [f"portal/files/{sha256[:2]}/{sha256[2:4]}/{sha256}"]

    page = client.get(f"/admin/results/{result.id}/pages/1.png")
    assert page.status_code == 200 and page.data.startswith(b"\x89PNG")
    assert [key for key in s3_server.keys() if key.startswith("portal/previews/")] == [
        f"portal/previews/{sha256[:2]}/{sha256}-1.png"]

    result_ops.publish(world["reviewer_a"], result, seen_version=result.version)
    search.sync()
    holder = app.test_client()
    login(holder, "holder_a")
    download = holder.get(f"/me/results/{result.code}/file")
    assert download.status_code == 200 and download.data == pdfs[2]
    assert download.headers["Content-Disposition"] == f"attachment; filename={result.code}.pdf"
    assert download.headers["ETag"].strip('"') == sha256
    assert holder.get(f"/me/results/{result.code}/pages/2.png").data.startswith(b"\x89PNG")

    copy = issue(holder, result)
    assert copy.sha256 in {key.rsplit("/", 1)[1] for key in objects(s3_server, FILES)}
    signed = copy_bytes(holder, copy)
    assert hashlib.sha256(signed).hexdigest() == copy.sha256 and len(signed) == copy.size
    token = csrf_token(holder, f"/verify/{copy.verification_code}")
    checked = holder.post(f"/verify/{copy.verification_code}", data={
        "csrf_token": token, "file": (io.BytesIO(signed), "ban-sao.pdf")}, content_type="multipart/form-data")
    assert "Đúng là bản sao đã cấp" in checked.get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert {"result.download", "result.preview", "copy.issue", "copy.download"} <= set(actions)
    no_local_files(app)

    # Another node, no directory shared: the same file, page image and copy, byte for byte.
    node_b = second_node(app, tmp_path).test_client()
    login(node_b, "holder_a")
    assert node_b.get(f"/me/results/{result.code}/file").data == pdfs[2]
    assert node_b.get(f"/me/results/{result.code}/pages/1.png").data == page.data
    assert node_b.get(f"/me/copies/{copy.verification_code}.pdf").data == signed


def test_a_scan_held_for_its_uploader_lives_in_the_bucket_and_goes_with_its_entry(app, client, world, pdfs,
                                                                                  s3_server):
    from portal.models import HeldUpload

    login(client, "staff_a")
    refused = upload(client, pdfs[0], "giay-phep.pdf", issue_date="32/01/2020")  # a field error: the scan is held
    assert refused.status_code == 200
    held = db.session.scalars(select(HeldUpload)).one()
    assert objects(s3_server, HELD) == [f"portal/held/{held.document_sha256[:2]}/{held.document_sha256[2:4]}/"
                                        f"{held.document_sha256}"]
    assert client.get(f"/admin/results/held/{held.token}/pages/1.png").data.startswith(b"\x89PNG")
    corrected = {**result_form(), "csrf_token": csrf_token(client, "/admin/results/new"), "held_token": held.token}
    assert client.post("/admin/results/new", data=corrected, content_type="multipart/form-data").status_code == 302
    assert objects(s3_server, HELD) == []
    assert [key for key in s3_server.keys() if key.startswith("portal/previews/")] == [
        f"portal/previews/{held.document_sha256[:2]}/{held.document_sha256}-1.png"]  # now the result's page
    assert db.session.scalars(select(Result)).one().document.sha256 == held.document_sha256
    no_local_files(app)


def test_hand_over_slips_are_in_the_bucket_served_by_any_node_and_deleted_when_due(app, client, world, pdfs,
                                                                                  s3_server, tmp_path, clock):
    from datetime import timedelta

    from .test_review_desk import _publish_ticked

    draft = make_result(world, pdfs[0], holder_id=CCCD_B, holder_name="Người Chưa Có Tài Khoản")
    login(client, "reviewer_a")
    _publish_ticked(client, [draft])
    slip = db.session.scalars(select(HandoverSlip)).one()
    assert objects(s3_server, SLIPS) == [f"portal/slips/{slip.sha256[:2]}/{slip.sha256[2:4]}/{slip.sha256}"]
    node_b = second_node(app, tmp_path).test_client()
    login(node_b, "reviewer_a")
    sent = node_b.get(f"/admin/slips/{slip.id}.pdf")
    assert sent.status_code == 200 and hashlib.sha256(sent.data).hexdigest() == slip.sha256
    no_local_files(app)
    clock.shift(timedelta(days=app.config["HANDOVER_SLIP_DAYS"], minutes=1))
    assert "1 hand-over slips deleted." in app.test_cli_runner().invoke(args=["purge-expired"]).output
    assert objects(s3_server, SLIPS) == []


@pytest.fixture
def results(world, pdfs):
    mine = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)
    theirs = make_result(world, pdfs[1], reviewer="reviewer_a", valid_until=None, holder_id=CCCD_B,
                         holder_name="Người Khác", document_number="2/GP-SKHCN")
    return mine, theirs


def their_copy(world, theirs) -> CertifiedCopy:
    from portal.operations import accounts, copies

    other = accounts.create_user(None, "holder_b", "holder", "Mat-khau-thu-nghiem", holder_id=CCCD_B)
    return copies.issue_copy(other, theirs)


@pytest.mark.parametrize("presigned", [False, True], ids=["streamed", "presigned"])
def test_a_holder_gets_only_their_own_files_from_the_bucket(app, client, world, results, presigned):
    mine, theirs = results
    copy = their_copy(world, theirs)
    app.config.update(S3_PRESIGNED_DOWNLOADS=presigned, S3_PRESIGN_SECONDS=45)
    login(client, "holder_a")
    for url in (f"/me/results/{theirs.code}/file", f"/me/results/{theirs.code}/pages/1.png",
                f"/me/copies/{copy.verification_code}.pdf", f"/admin/results/{theirs.id}/file"):
        refused = client.get(url)
        assert refused.status_code in (403, 404), url
        assert "Location" not in refused.headers and b"X-Amz" not in refused.data, url
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "result.download")).all()

    own = client.get(f"/me/results/{mine.code}/file")
    if not presigned:
        assert own.status_code == 200 and own.data == mine_bytes(mine)
        return
    assert own.status_code == 303 and "no-store" in own.headers["Cache-Control"]
    address = own.headers["Location"]
    query = parse_qs(urlsplit(address).query)
    assert query["X-Amz-Expires"] == ["45"] and mine.document.sha256 in urlsplit(address).path
    with urllib.request.urlopen(address) as answer:
        assert answer.read() == mine_bytes(mine)
        assert answer.headers["Content-Disposition"].startswith(f'attachment; filename="{mine.code}.pdf"')
    # The download is audited as a streamed one is.
    assert db.session.scalars(select(AuditEvent.target).where(AuditEvent.action == "result.download")).all()


def mine_bytes(result) -> bytes:
    with storage().open_verified(result.document.sha256) as fh:
        return fh.read()


@pytest.mark.parametrize("presigned", [False, True], ids=["streamed", "presigned"])
def test_a_damaged_object_is_never_sent_and_shows_in_fixity_and_healthz(app, client, world, results, s3_server,
                                                                        presigned):
    mine, _theirs = results
    app.config["S3_PRESIGNED_DOWNLOADS"] = presigned
    sha256 = mine.document.sha256
    key = f"portal/files/{sha256[:2]}/{sha256[2:4]}/{sha256}"
    s3_server.client().put_object(Bucket=s3_server.bucket, Key=key, Body=b"%PDF-1.7 not the original\n%%EOF\n")
    login(client, "holder_a")
    answer = client.get(f"/me/results/{mine.code}/file")
    assert answer.status_code == 503 and "Location" not in answer.headers
    health = client.get("/healthz").get_json()
    assert health["status"] == "warning" and health["files"]["altered"] == 1

    s3_server.client().delete_object(Bucket=s3_server.bucket, Key=key)
    ran = app.test_cli_runner().invoke(args=["fixity"])
    assert ran.exit_code == 1
    assert client.get("/healthz").get_json()["files"]["missing"] == 1


def test_healthz_says_whether_the_bucket_answers(app, client, db_url, tmp_path, s3_env, signing_keys):
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["file_store"] == {"backend": "s3", "status": "ok"}
    elsewhere = make_app(db_url, tmp_path / "node-c", **signing_keys, **{**s3_env, "S3_BUCKET": "no-such-bucket"})
    with elsewhere.app_context():
        search.search_index().create_empty()
        answer = elsewhere.test_client().get("/healthz")
        # A warning for the operators: every node shares the bucket, a load balancer taking them out mends nothing.
        assert answer.status_code == 200 and answer.get_json()["status"] == "warning"
        assert answer.get_json()["file_store"] == {"backend": "s3", "status": "unreachable"}


@pytest.mark.slow
def test_backup_of_a_bucket_restores_into_an_empty_one(app, backend, db_url, tmp_path, world, results, s3_env,
                                                       s3_server, signing_keys, schema_kept):  # noqa: F811

    mine, _theirs = results
    before = {sha256: mine_bytes_of(sha256) for sha256 in storage().stored()}
    assert mine.document.sha256 in before
    archive = tmp_path / "portal.tar"
    made = app.test_cli_runner().invoke(args=["backup", "--out", str(archive)])
    assert made.exit_code == 0, made.output

    target = make_app(empty_target(backend, db_url, tmp_path), tmp_path / "restored-data",
                      **{**s3_env, "S3_PREFIX": "restored"}, SIGNING_P12=str(tmp_path / "keys" / "d.p12"),
                      TRUST_ROOTS=str(tmp_path / "keys" / "roots.pem"),
                      SIGNING_P12_PASSWORD=signing_keys["SIGNING_P12_PASSWORD"],
                      SECRET_KEY_FILE=str(tmp_path / "restored-secret-key"))
    with target.app_context():
        restored = target.test_cli_runner().invoke(args=["restore", str(archive)])
        assert restored.exit_code == 0, restored.output
        assert {sha256: mine_bytes_of(sha256) for sha256 in storage().stored()} == before
        assert all(key.startswith(("restored/files/", "portal/")) for key in s3_server.keys())
        again = target.test_cli_runner().invoke(args=["restore", str(archive)])
        assert again.exit_code != 0 and "không trống" in again.output
        db.session.remove()
        db.engine.dispose()


def mine_bytes_of(sha256: str) -> bytes:
    with storage().open_verified(sha256) as fh:
        return fh.read()


def test_a_bucket_out_of_reach_answers_try_again_later_not_a_system_error(app, world, results, pdfs, tmp_path):
    """A node whose bucket does not answer: the download and the upload say so (503, in
    Vietnamese), nothing is written, and the portal's other pages go on."""
    from .redis_service import free_port

    mine, _theirs = results
    node = make_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "cut-off",
                    **{**{key: app.config[key] for key in ("STORAGE", "S3_BUCKET", "S3_REGION", "S3_PREFIX")},
                       "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"})  # nothing listens there
    with node.app_context():
        search.search_index().create_empty()
        holder = node.test_client()
        login(holder, "holder_a")
        download = holder.get(f"/me/results/{mine.code}/file")
        assert download.status_code == 503 and download.headers["Retry-After"] == "60"
        assert "Kho lưu trữ tệp của Sở tạm thời không trả lời" in download.get_data(as_text=True)
        staff = node.test_client()
        login(staff, "staff_a")
        before = db.session.scalar(select(func.count(Result.id)))
        sent = upload(staff, pdfs[2], document_number="77/gp-skhcn")
        assert sent.status_code == 503 and "thử lại sau" in sent.get_data(as_text=True)
        assert db.session.scalar(select(func.count(Result.id))) == before
        assert holder.get("/me/results").status_code == 200
