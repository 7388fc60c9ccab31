"""Pushing results born digital through the API (issue 15): the batch row's checks and the
upload's, only in the client's unit, idempotent (201, then 200 for the same content, 409 for
other content), 422 with every field's error, revocation and replacement under staff's rules,
and a second unit's client refused on every route. A burst of 1,000 pushes, about a hundred at once
against a live server, half of them retried, stores each result exactly once."""

from __future__ import annotations

import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Result, ResultFile, StoredFile, Unit
from portal.models.results import BORN_DIGITAL, DRAFT, PUBLISHED, REPLACED, REVOKED
from portal.operations import api_clients
from portal.operations import results as result_ops

from .conftest import CCCD_A, UNIT_A, UNIT_B, image_bytes, login
from .test_api_clients import basic

CODE = f"{UNIT_A}-190502-0001-KQ1"


def metadata(**overrides) -> dict:
    """A one-stop-shop system's result, with the manifest's column names."""
    data = {"procedure_code": "1.010711", "document_number": "125/GP-SKHCN", "issue_date": "2019-05-02",
            "signer_name": "Trần Văn Hùng", "signer_title": "Giám đốc",
            "summary": "Giấy phép tiến hành công việc bức xạ", "holder_id": CCCD_A,
            "holder_name": "Phạm Minh Khánh", "valid_until": "2029-05-02"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def unique_pdf(pdf: bytes, n: int) -> bytes:
    """A distinct file with the same pages: bytes after %%EOF change the hash, not the document."""
    return pdf + f"\n% copy {n}\n".encode()


class Machine:
    """A unit's one-stop-shop system, through the Flask test client (or requests, with `base`)."""

    def __init__(self, http, unit: str, name: str):
        self.http = http
        self.client, secret = api_clients.create_client(None, name, unit)
        answer = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(self.client.client_id, secret))
        assert answer.status_code == 200, answer.get_data(as_text=True)
        self.headers = {"Authorization": f"Bearer {answer.get_json()['access_token']}"}

    def put(self, code: str, meta, pdf: bytes | None, filename: str = "ket-qua.pdf"):
        data = {"metadata": meta if isinstance(meta, str) else json.dumps(meta)}
        if pdf is not None:
            data["file"] = (io.BytesIO(pdf), filename)
        return self.http.put(f"/api/v1/results/{code}", data=data, headers=self.headers,
                             content_type="multipart/form-data")

    def revoke(self, code: str, reason="Kết quả cấp sai thông tin người được cấp"):
        return self.http.post(f"/api/v1/results/{code}/revocation", json={"reason": reason}, headers=self.headers)


@pytest.fixture
def one_stop(app, world):
    return Machine(app.test_client(), UNIT_A, "Một cửa A")


@pytest.fixture
def other_unit(app, world):
    return Machine(app.test_client(), UNIT_B, "Một cửa B")


def stored_results() -> int:
    return db.session.scalar(select(func.count()).select_from(Result))


def test_a_push_stores_a_published_born_digital_result_and_a_retry_is_harmless(one_stop, pdfs):
    created = one_stop.put(CODE, metadata(), pdfs[0])
    assert created.status_code == 201, created.get_json()
    assert created.get_json() == {"result_code": CODE, "status": PUBLISHED, "published": True,
                                  "origin": BORN_DIGITAL, "replaces": None}
    result = db.session.scalars(select(Result).where(Result.code == CODE)).one()
    assert result.origin == BORN_DIGITAL and result.status == PUBLISHED and result.unit.code == UNIT_A
    assert result.dossier_code == f"{UNIT_A}-190502-0001" and result.document_number == "125/GP-SKHCN"
    assert "Thiết bị X-quang" in result.document.text
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.result_id == result.id)).all()
    assert {e.action for e in events} == {"result.create", "result.publish"}
    assert {e.actor_name for e in events} == {"Một cửa A (API)"} and all(e.details["client"] == "Một cửa A"
                                                                          for e in events)
    again = one_stop.put(CODE, metadata(), pdfs[0])
    assert again.status_code == 200 and again.get_json()["result_code"] == CODE
    retry = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_client.call")).one()
    assert retry.actor_name == "Một cửa A (API)" and retry.details == {"method": "PUT", "status": 200,
                                                                       "client": "Một cửa A"}
    assert stored_results() == 1 and db.session.scalar(select(func.count()).select_from(StoredFile)) == 1


def test_the_code_holding_something_else_is_a_conflict(one_stop, pdfs):
    assert one_stop.put(CODE, metadata(), pdfs[0]).status_code == 201
    other_file = one_stop.put(CODE, metadata(), pdfs[1])
    assert other_file.status_code == 409 and other_file.get_json()["error"] == "conflict"
    other_data = one_stop.put(CODE, metadata(summary="Nội dung khác hẳn"), pdfs[0])
    assert other_data.status_code == 409
    same_file_other_code = one_stop.put(f"{UNIT_A}-190502-0002-KQ1", metadata(), pdfs[0])
    assert same_file_other_code.status_code == 409 and CODE in same_file_other_code.get_json()["message"]
    assert stored_results() == 1


def test_every_field_error_is_listed_in_vietnamese(one_stop, pdfs):
    bad = one_stop.put(CODE, metadata(issue_date="31/02/2019", holder_id="12345", holder_name=None,
                                      document_number="không số", procedure_code="9.999999"), pdfs[0])
    assert bad.status_code == 422
    errors = bad.get_json()["errors"]
    assert set(errors) == {"issue_date", "holder_id", "holder_name", "document_number", "procedure_code"}
    assert "người được cấp" in errors["holder_name"] and "Ngày ban hành" in errors["issue_date"]
    assert "chưa có trong danh mục" in errors["procedure_code"]
    both = one_stop.put("ma-sai", "{not json", image_bytes("PNG"), filename="anh.png")
    assert both.status_code == 422 and {"metadata", "result_code"} <= set(both.get_json()["errors"])
    image = one_stop.put(CODE, metadata(), image_bytes("PNG"), filename="anh.png")
    assert image.status_code == 422 and set(image.get_json()["errors"]) == {"file"}
    missing = one_stop.put(CODE, metadata(), None)
    assert missing.status_code == 422 and set(missing.get_json()["errors"]) == {"file"}
    not_pdf = one_stop.put(CODE, metadata(holder_id="1"), b"%PDF-1.4 cut short", filename="x.pdf")
    assert not_pdf.status_code == 422 and set(not_pdf.get_json()["errors"]) == {"file", "holder_id"}
    mismatch = one_stop.put(CODE, metadata(result_code=f"{UNIT_A}-190502-0009-KQ1"), pdfs[0])
    assert mismatch.status_code == 422 and set(mismatch.get_json()["errors"]) == {"result_code"}
    assert stored_results() == 0
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "result.push_refused")).all()
    assert refused and all(e.actor_name == "Một cửa A (API)" for e in refused)


def test_parts_of_the_wrong_kind_are_refused_in_words(one_stop, pdfs):
    """A file sent as a text field, the metadata sent as a file, a reason that is not text: 422, never a 500."""
    text_file = one_stop.http.put(f"/api/v1/results/{CODE}", headers=one_stop.headers,
                                  content_type="multipart/form-data",
                                  data={"metadata": json.dumps(metadata()), "file": "không phải tệp"})
    assert text_file.status_code == 422 and "tệp gửi kèm" in text_file.get_json()["errors"]["file"]
    file_metadata = one_stop.http.put(f"/api/v1/results/{CODE}", headers=one_stop.headers,
                                      content_type="multipart/form-data",
                                      data={"metadata": (io.BytesIO(json.dumps(metadata()).encode()), "m.json"),
                                            "file": (io.BytesIO(pdfs[0]), "kq.pdf")})
    assert file_metadata.status_code == 422 and "không phải tệp" in file_metadata.get_json()["errors"]["metadata"]
    assert stored_results() == 0
    number = one_stop.http.post(f"/api/v1/results/{CODE}/revocation", json={"reason": 5}, headers=one_stop.headers)
    assert number.status_code == 422 and number.get_json()["errors"]["reason"] == "Lý do thu hồi phải là chữ."


def test_a_body_over_the_limit_is_refused_before_it_is_read(app, one_stop, pdfs):
    app.config["MAX_UPLOAD_BYTES"] = 1024
    answer = one_stop.put(CODE, metadata(), pdfs[0] + b"\0" * 200_000)
    assert answer.status_code == 413 and answer.get_json()["error"] == "too_large"
    assert stored_results() == 0


def test_a_unit_may_have_pushed_results_wait_for_review(app, one_stop, pdfs, world):
    from portal.operations.accounts import update_unit

    unit = db.session.scalars(select(Unit).where(Unit.code == UNIT_A)).one()
    update_unit(None, unit, unit.name, True, False)
    answer = one_stop.put(CODE, metadata(), pdfs[0])
    assert answer.status_code == 201 and answer.get_json()["status"] == DRAFT
    result = db.session.scalars(select(Result).where(Result.code == CODE)).one()
    result_ops.publish(world["reviewer_a"], result, seen_version=result.version)
    assert result.status == PUBLISHED


def test_the_unit_form_sets_whether_pushes_publish(app, world, client):
    from .conftest import csrf_token

    login(client, "admin")
    unit = db.session.scalars(select(Unit).where(Unit.code == UNIT_A)).one()
    url = f"/admin/units/{unit.id}"
    assert "phát hành ngay" in client.get(url).get_data(as_text=True)
    saved = client.post(url, data={"csrf_token": csrf_token(client, url), "code": UNIT_A, "name": unit.name,
                                   "active": "y"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert unit.push_publishes is False


def test_revocation_and_replacement_follow_staffs_rules(one_stop, pdfs):
    assert one_stop.put(CODE, metadata(), pdfs[0]).status_code == 201
    new_code = f"{UNIT_A}-190502-0001-KQ2"
    replaced = one_stop.put(new_code, metadata(replaces=CODE, document_number="126/GP-SKHCN"), pdfs[1])
    assert replaced.status_code == 201 and replaced.get_json()["replaces"] == CODE
    old = db.session.scalars(select(Result).where(Result.code == CODE)).one()
    assert old.status == REPLACED
    again = one_stop.put(f"{UNIT_A}-190502-0001-KQ3", metadata(replaces=CODE, document_number="127/GP-SKHCN"),
                         pdfs[2])
    assert again.status_code == 422 and "đang có hiệu lực" in again.get_json()["errors"]["replaces"]
    assert one_stop.revoke(CODE).status_code == 409  # replaced: only a result in force is revoked

    short = one_stop.revoke(new_code, reason="sai")
    assert short.status_code == 422 and set(short.get_json()["errors"]) == {"reason"}
    done = one_stop.revoke(new_code)
    assert done.status_code == 200 and done.get_json()["status"] == REVOKED and done.get_json()["revoked_now"]
    retry = one_stop.revoke(new_code)
    assert retry.status_code == 200 and not retry.get_json()["revoked_now"]
    revoked = db.session.scalars(select(Result).where(Result.code == new_code)).one()
    assert revoked.status == REVOKED and revoked.status_reason == "Kết quả cấp sai thông tin người được cấp"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "result.revoke")).one()
    assert event.actor_name == "Một cửa A (API)"
    assert one_stop.revoke(f"{UNIT_A}-190502-0077-KQ1").status_code == 404


def test_a_second_units_client_is_refused_on_every_route(app, one_stop, other_unit, pdfs, world):
    assert one_stop.put(CODE, metadata(), pdfs[0]).status_code == 201
    before = stored_results()
    # Its own unit's code in the metadata, or none: the code belongs to unit A.
    for meta in (metadata(), metadata(unit_code=UNIT_B)):
        answer = other_unit.put(CODE, meta, pdfs[0])
        assert answer.status_code == 403, answer.get_json()
        assert CCCD_A not in answer.get_data(as_text=True)
    # A new result for unit A.
    assert other_unit.put(f"{UNIT_A}-190502-0005-KQ1", metadata(unit_code=UNIT_A), pdfs[1]).status_code == 403
    # Replacing unit A's result, revoking it.
    replace = other_unit.put(f"{UNIT_B}-190502-0005-KQ1", metadata(replaces=CODE), pdfs[1])
    assert replace.status_code == 422 and "Không có kết quả" in replace.get_json()["errors"]["replaces"]
    assert other_unit.revoke(CODE).status_code == 403
    refusals = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_name == "Một cửa B (API)",
                                                           AuditEvent.action == "api_client.call")).all()
    assert sorted(e.details["status"] for e in refusals) == [403, 403, 403, 403, 422]
    assert stored_results() == before
    assert db.session.scalars(select(Result).where(Result.code == CODE)).one().status == PUBLISHED
    # The holders' store and every other route of the API take a session, not a client's token.
    for method, url in (("GET", "/api/v1/me/results"), ("GET", "/api/v1/me/copies"),
                        ("POST", f"/api/v1/me/results/{CODE}/copies")):
        assert other_unit.http.open(url, method=method, headers=other_unit.headers).status_code in (400, 401)
        assert one_stop.http.open(url, method=method, headers=one_stop.headers).status_code in (400, 401)
    # Nor does a client's token open any page of the department.
    for url in ("/admin/results", f"/admin/results/{before}", "/admin/api-clients"):
        assert other_unit.http.get(url, headers=other_unit.headers).status_code in (302, 401, 403, 404)


@pytest.mark.slow
def test_a_burst_of_pushes_with_retries_stores_each_result_once(live_server, world, pdfs):
    base = live_server
    http = requests.Session()
    client, secret = api_clients.create_client(None, "Một cửa A", UNIT_A)
    token = http.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                      auth=(client.client_id, secret)).json()["access_token"]
    count = 1000
    firsts = [(f"{UNIT_A}-190502-{n + 1:04d}-KQ1", unique_pdf(pdfs[n % 12], n),
               metadata(document_number=f"{n + 1}/GP-SKHCN")) for n in range(count)]
    # Half of them again, as a client does that lost the answers: a quarter at once (the retry
    # racing its first try), a quarter after everything else.
    jobs = [job for n, job in enumerate(firsts) for job in ([job, job] if n % 4 == 0 else [job])]
    jobs += firsts[2::4]
    local = threading.local()

    def send(job):
        code, pdf, meta = job
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        answer = session.put(f"{base}/api/v1/results/{code}", headers={"Authorization": f"Bearer {token}"},
                             data={"metadata": json.dumps(meta)}, files={"file": ("kq.pdf", pdf)}, timeout=60)
        return code, answer.status_code

    # About a hundred at once, as a one-stop-shop system catching up after an outage; bounded in
    # time, so that a request stuck on a lock fails the test instead of hanging it.
    with ThreadPoolExecutor(max_workers=100) as pool:
        answers = list(pool.map(send, jobs, timeout=600))
    statuses = {}
    for code, status in answers:
        statuses.setdefault(code, []).append(status)
    assert all(sorted(s) in ([201], [200, 201]) for s in statuses.values()), \
        {c: s for c, s in statuses.items() if sorted(s) not in ([201], [200, 201])}
    db.session.expire_all()
    codes = db.session.scalars(select(Result.code)).all()
    assert len(codes) == count and set(codes) == {job[0] for job in jobs}
    assert db.session.scalar(select(func.count()).select_from(ResultFile)) == count
    assert db.session.scalar(select(func.count()).select_from(Result).where(Result.status == PUBLISHED)) == count
