"""Fixity (issue 12): `fixity` checks every stored file, certified copies included; a missing or
altered file is never sent as the original, answers a clear page (JSON to an API caller), is an
audit event and shows on /healthz."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, CertifiedCopy
from portal.operations import copies as copy_ops
from portal.storage import storage
from portal.views.documents import UNAVAILABLE_TITLE

from .conftest import csrf_token, login, make_result


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


@pytest.fixture
def published(world, pdfs):
    return make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)


@pytest.fixture
def copy(world, published) -> CertifiedCopy:
    return copy_ops.issue_copy(world["holder_a"], published)


def delete(sha256: str) -> bytes:
    path = storage().path_for(sha256)
    content = path.read_bytes()
    path.unlink()
    return content


def alter(sha256: str) -> None:
    path = storage().path_for(sha256)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"\n%tampered")


def events(action: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_fixity_checks_certified_copies_too(cli, published, copy):
    ok = cli("fixity")
    assert ok.exit_code == 0 and "2 files checked: 0 missing, 0 altered." in ok.output

    delete(copy.sha256)
    bad = cli("fixity")
    assert bad.exit_code == 1
    assert f"MISSING  {copy.sha256}  certified copy {copy.register_number} of {published.code}" in bad.output
    assert "2 files checked: 1 missing, 0 altered." in bad.output
    assert events("fixity.check")[-1].details == {"files": 2, "missing": 1, "altered": 0,
                                                  "missing_files": [copy.sha256], "altered_files": []}


def test_a_missing_copy_answers_a_clear_page_or_json_and_is_audited(client, world, copy):
    delete(copy.sha256)
    login(client, "holder_a")
    url = f"/me/copies/{copy.verification_code}.pdf"
    page = client.get(url)
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert UNAVAILABLE_TITLE in page.get_data(as_text=True)
    answer = client.get(url, headers={"Accept": "application/json"})  # as the API's download_url is fetched
    assert answer.status_code == 503 and answer.get_json()["error"] == "file_unavailable"
    assert "khôi phục" in answer.get_json()["message"]

    met = events("file.missing")
    assert len(met) == 2 and {e.target for e in met} == {copy.sha256}
    assert met[0].result_id == copy.result_id and met[0].actor_id == world["holder_a"].id
    assert met[0].details["kind"] == "copy" and met[0].details["register_number"] == copy.register_number
    assert events("copy.download") == []  # nothing was downloaded

    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["status"] == "warning"
    assert health.get_json()["files"] == {"status": "damaged", "missing": 1, "altered": 0, "checked_at": None}


def test_an_altered_scan_is_neither_served_nor_copied(client, world, published):
    alter(published.document.sha256)
    login(client, "staff_a")
    for url in (f"/admin/results/{published.id}/file", f"/admin/results/{published.id}/pages/1.png"):
        response = client.get(url)
        assert response.status_code == 503 and b"%PDF" not in response.data, url
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/results")})

    login(client, "holder_a")
    assert client.get(f"/me/results/{published.code}/file").status_code == 503
    token = csrf_token(client, "/me/results")
    refused = client.post(f"/api/v1/me/results/{published.code}/copies", headers={"X-CSRFToken": token})
    assert refused.status_code == 422 and "không đọc được nguyên vẹn" in refused.get_json()["message"]
    assert db.session.scalars(select(CertifiedCopy)).all() == []

    met = events("file.altered")
    assert [e.details["kind"] for e in met] == ["document", "page", "document", "copy original"]
    assert {e.target for e in met} == {published.document.sha256}
    assert client.get("/healthz").get_json()["files"]["altered"] == 1


def test_an_intact_file_goes_out_whole_with_its_hash_as_etag(client, published):
    login(client, "holder_a")
    response = client.get(f"/me/results/{published.code}/file")
    sha256 = published.document.sha256
    assert response.status_code == 200 and hashlib.sha256(response.data).hexdigest() == sha256
    assert response.content_length == len(response.data) and response.get_etag() == (sha256, False)
    assert client.get(f"/me/results/{published.code}/file", headers={"If-None-Match": f'"{sha256}"'}).status_code == 304


def test_healthz_knows_the_last_fixity_run_and_what_was_met_since(cli, client, clock, published, copy):
    assert client.get("/healthz").get_json()["files"] == {"status": "ok", "missing": 0, "altered": 0,
                                                          "checked_at": None}
    content = delete(copy.sha256)
    assert cli("fixity").exit_code == 1
    files = client.get("/healthz").get_json()["files"]
    assert files["missing"] == 1 and files["checked_at"].startswith("2026-06-15T10:")

    storage().put_bytes(content)  # put back, from a backup
    assert cli("fixity").exit_code == 0
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["files"]["status"] == "ok"

    alter(published.document.sha256)  # damaged after the last run, met by a download
    login(client, "holder_a")
    assert client.get(f"/me/results/{published.code}/file").status_code == 503
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["status"] == "warning"
    assert health.get_json()["files"]["altered"] == 1 and health.get_json()["files"]["missing"] == 0
