"""'Dữ liệu của tôi' (issue 18 item 1): GET /me/data is a ZIP of everything held about the caller,
read back here and compared with the database and the stored bytes."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from urllib.parse import urlsplit

from sqlalchemy import select

from portal import audit
from portal.extensions import db
from portal.models import AuditEvent, CertifiedCopy, CopyShare, Result
from portal.operations import corrections, shares
from portal.operations.accounts import create_user
from portal.operations.copies import issue_copy
from portal.storage import storage

from .conftest import CCCD_B, MST_C, PASSWORD, login, make_result


def export_of(client) -> tuple[zipfile.ZipFile, dict]:
    response = client.get("/me/data")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None
    return archive, json.loads(archive.read("index.json"))


def stored_hash(sha256: str) -> str:
    with storage().open_verified(sha256) as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def test_a_holders_export_holds_their_results_files_copies_shares_and_log(app, world, pdfs, clock):
    mine = [make_result(world, pdfs[i], reviewer="reviewer_a", valid_until=None, document_number=f"80{i}/GP-SKHCN")
            for i in range(2)]
    theirs = make_result(world, pdfs[2], reviewer="reviewer_a", holder_id=CCCD_B, holder_name="Trần Thị Lan",
                         valid_until=None, document_number="899/GP-SKHCN")
    copy = issue_copy(world["holder_a"], mine[0])
    made = shares.create(world["holder_a"], copy, "Ngân hàng Công Thương", 3)
    asked = corrections.submit(world["holder_a"], mine[1], "holder_name", "Phạm Minh Khánh (đúng)")
    client = app.test_client()
    login(client, "holder_a")
    assert client.get(f"/me/results/{mine[1].code}").status_code == 200  # a "who looked" entry
    assert app.test_client().get(urlsplit(made.url).path).status_code == 200  # a use of the share

    archive, index = export_of(client)
    assert index["schema"] == "portal.mydata" and index["version"] == 1
    assert index["account"]["username"] == "holder_a" and index["account"]["holder_id"] == mine[0].holder_id
    assert index["account"]["login_methods"] == ["password"]
    assert index["identifiers"] == [{"kind": "cccd", "value": mine[0].holder_id}]
    assert index["business"] is None
    assert index["sessions"] and "token" not in json.dumps(index["sessions"])

    # Results: exactly the holder's visible ones, each file's bytes the stored ones, hashes as in the database.
    in_db = db.session.scalars(select(Result).where(Result.holder_id == mine[0].holder_id)).all()
    assert sorted(r["code"] for r in index["results"]) == sorted(r.code for r in in_db) == sorted(r.code for r in mine)
    for entry in index["results"]:
        result = next(r for r in in_db if r.code == entry["code"])
        assert [f["sha256"] for f in entry["files"]] == [rf.file.sha256 for rf in result.files]
        assert entry["document_number"] == result.document_number and entry["issue_date"] == str(result.issue_date)
        for f in entry["files"]:
            data = archive.read(f["path"])
            assert hashlib.sha256(data).hexdigest() == f["sha256"] == stored_hash(f["sha256"])

    # Copies, their PDFs, the share (never its token) and its use.
    [c] = index["copies"]
    assert c["verification_code"] == copy.verification_code and c["file"]["sha256"] == copy.sha256
    assert hashlib.sha256(archive.read(c["file"]["path"])).hexdigest() == copy.sha256 == stored_hash(copy.sha256)
    [s] = index["shares"]
    share = db.session.get(CopyShare, made.share.id)
    assert s["id"] == share.id and s["recipient"] == "Ngân hàng Công Thương" and s["copy"] == copy.verification_code
    assert [u["outcome"] for u in s["uses"]] == ["downloaded"]
    token = urlsplit(made.url).path.rsplit("/", 1)[1]
    everything = b"".join(archive.read(n) for n in archive.namelist())
    assert token.encode() not in everything and share.token_sha256.encode() not in everything

    # The access log: the holder's "who looked" entries.
    actions = [e["action"] for e in index["access_log"]]
    assert "result.view" in actions and "share.use" in actions and "copy.issue" in actions

    # The requests to correct, with their due dates.
    [r] = index["corrections"]
    assert (r["id"], r["result_code"], r["field"], r["requested_value"], r["status"]) == (
        asked.id, mine[1].code, "holder_name", "Phạm Minh Khánh (đúng)", "received")
    assert r["answer_due"] == asked.answer_due.isoformat() and r["attachment"] is None

    # Nothing of another holder's.
    assert theirs.code.encode() not in everything and CCCD_B.encode() not in everything
    assert "899/GP-SKHCN" not in everything.decode("utf-8", "replace")

    # The readable summary, in Vietnamese, naming each result and file.
    summary = archive.read("index.html").decode()
    assert "Dữ liệu Cổng lưu giữ về bạn" in summary and all(r.code in summary for r in mine)
    assert c["file"]["path"] in summary
    # Its words are Vietnamese, never the codes index.json carries for programs.
    assert s["status_label"] == "Đang mở" and s["uses"][0]["outcome_label"] == "Đã tải bản sao"
    assert "Đang mở" in summary and "Đã tải bản sao" in summary and "mật khẩu" in summary
    assert not re.search(r">(active|downloaded|password)<|: downloaded", summary)
    assert f"<td>{copy.verification_code}</td>" in summary and "built-in method" not in summary

    # The export is an audit event the holder sees on their "who looked" page and in the next export.
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "data.export")).all()
    assert event.actor_id == world["holder_a"].id and event.target == mine[0].holder_id
    assert event.details["files"] == sum(len(r["files"]) for r in index["results"]) + 1
    assert "Tải dữ liệu của tôi" in client.get("/me/access").get_data(as_text=True)
    _, again = export_of(client)
    assert "data.export" in [e["action"] for e in again["access_log"]]
    # Another holder does not see it.
    create_user(None, "holder_b", "holder", PASSWORD, holder_id=CCCD_B)
    other = app.test_client()
    login(other, "holder_b")
    assert "data.export" not in [e.action for e in db.session.scalars(audit.events_about(db.session.get(
        type(world["holder_a"]), other_id(world))))]
    _, theirs_index = export_of(other)
    assert [r["code"] for r in theirs_index["results"]] == [theirs.code]
    assert theirs_index["access_log"] == [] or all(e["action"] != "data.export" for e in theirs_index["access_log"])


def other_id(world) -> int:
    from portal.models import User

    return db.session.scalars(select(User.id).where(User.username == "holder_b")).one()


def test_a_business_members_export_holds_the_business_results_not_a_colleagues_account(app, world, pdfs, clock):
    result = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None, holder_id=MST_C,
                         holder_name="Công ty TNHH Thiết bị Y tế Minh Phát", document_number="903/GP-SKHCN")
    first = create_user(None, "member_1", "holder", PASSWORD, holder_id=MST_C, full_name="Nguyễn Văn Một")
    create_user(None, "member_2", "holder", PASSWORD, holder_id=MST_C, full_name="Lê Thị Hai")
    copy = issue_copy(first, result)  # issued by a colleague: the business's copy all the same
    client = app.test_client()
    login(client, "member_2")
    archive, index = export_of(client)
    assert [r["code"] for r in index["results"]] == [result.code]
    assert [c["verification_code"] for c in index["copies"]] == [copy.verification_code]
    assert index["account"]["username"] == "member_2" and index["identifiers"] == [{"kind": "mst", "value": MST_C}]
    assert index["business"]["tax_code"] == MST_C and index["business"]["active_members"] == 2
    assert index["business"]["name"] == "Công ty TNHH Thiết bị Y tế Minh Phát"
    everything = b"".join(archive.read(n) for n in archive.namelist()).decode("utf-8", "replace")
    assert "member_1" not in everything  # not a colleague's account, nor their sessions
    assert {s["method"] for s in index["sessions"]} == {"password"} and len(index["sessions"]) == 1

    # A colleague's background export (it holds their account) is theirs alone to download.
    from portal.models import DataExport
    from portal.operations import mydata

    mydata.request_export(first)
    mydata.run_export(mydata.claim_next_export())
    job = db.session.scalars(select(DataExport)).one()
    assert job.status == "done" and client.get(f"/me/data/exports/{job.id}.zip").status_code == 404
    colleague = app.test_client()
    login(colleague, "member_1")
    assert colleague.get(f"/me/data/exports/{job.id}.zip").status_code == 200


def test_staff_and_admin_get_404_and_anonymous_is_sent_to_log_in(app, world):
    for who in ("staff_a", "reviewer_a", "admin"):
        client = app.test_client()
        login(client, who)
        assert client.get("/me/data").status_code == 404
    anonymous = app.test_client().get("/me/data")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "data.export")).all()


def test_a_store_over_the_limit_gets_a_page_instead_of_a_zip(app, world, pdfs, clock):
    make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)
    make_result(world, pdfs[1], reviewer="reviewer_a", valid_until=None)
    app.config["MYDATA_MAX_RESULTS"] = 1
    client = app.test_client()
    login(client, "holder_a")
    page = client.get("/me/data")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Kho của bạn có 2 kết quả" in page.get_data(as_text=True)
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "data.export")).all()
    assert db.session.scalars(select(CertifiedCopy)).all() == []


def test_a_large_store_is_built_in_the_background_and_its_download_expires(app, world, pdfs, clock):
    from datetime import timedelta

    from portal import jobs
    from portal.models import DataExport
    from portal.operations import mydata
    from portal.storage import JOBS

    from .conftest import csrf_token

    results = [make_result(world, pdfs[i], reviewer="reviewer_a", valid_until=None) for i in range(2)]
    app.config["MYDATA_MAX_RESULTS"] = 1
    client = app.test_client()
    login(client, "holder_a")
    assert client.post("/me/data/exports").status_code == 400  # no CSRF token
    token = csrf_token(client, "/me/data")
    for _ in range(2):  # asking twice queues one build
        assert client.post("/me/data/exports", data={"csrf_token": token}).status_code == 302
    [job] = db.session.scalars(select(DataExport)).all()
    assert job.status == "queued" and job.total_items == 2
    page = client.get("/me/data").get_data(as_text=True)
    assert "Đang chờ" in page and "data-mydata-busy" in page and "Đóng gói dữ liệu của tôi" not in page

    assert jobs.run_once()
    db.session.expire_all()
    job = db.session.get(DataExport, job.id)
    assert job.status == "done" and job.done_items == 2 and job.percent == 100
    assert job.expires_at - job.finished_at == timedelta(hours=24)
    sha256 = job.sha256
    assert storage(JOBS).exists(sha256)
    page = client.get("/me/data").get_data(as_text=True)
    url = f"/me/data/exports/{job.id}.zip"
    assert url in page and "Sẵn sàng tải về" in page
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert hashlib.sha256(response.data).hexdigest() == job.sha256
    index = json.loads(zipfile.ZipFile(io.BytesIO(response.data)).read("index.json"))
    assert sorted(r["code"] for r in index["results"]) == sorted(r.code for r in results)
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "data.export")).all()
    assert event.actor_id == world["holder_a"].id

    # Only its requester downloads it.
    create_user(None, "holder_b", "holder", PASSWORD, holder_id=CCCD_B)
    for who in ("holder_b", "staff_a", "admin"):
        other = app.test_client()
        login(other, who)
        assert other.get(url).status_code == 404

    # A day later it is gone.
    clock.shift(timedelta(hours=24, minutes=1))
    login(client, "holder_a")  # the idle session ended meanwhile
    assert client.get(url).status_code == 404
    assert mydata.remove_expired_exports() == 1
    assert not storage(JOBS).exists(sha256)
    db.session.expire_all()
    assert db.session.get(DataExport, job.id).status == "expired"
    assert "Đã hết hạn tải" in client.get("/me/data").get_data(as_text=True)


def test_asking_for_a_background_build_of_a_small_store_builds_nothing(app, world, pdfs, clock):
    from portal.models import DataExport

    from .conftest import csrf_token

    make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)
    client = app.test_client()
    login(client, "holder_a")
    asked = client.post("/me/data/exports", data={"csrf_token": csrf_token(client, "/account/password")})
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/me/data")
    assert db.session.scalars(select(DataExport)).all() == []
    assert client.get("/me/data").mimetype == "application/zip"  # what it gives at once instead
