"""A province on two nodes (issue 16): two gunicorn instances on two ports, each with its own data
directory, sharing only PostgreSQL (search included), the S3-protocol server and Redis, and
`flask worker` processes on nodes of their own.

- a result uploaded on node A is found by a search on node B at once;
- a copy issued on A verifies on B and downloads from B byte for byte;
- 11 logins spread over both nodes trip the limit of 10 a minute;
- a worker killed with `kill -9` in an import leaves the job to another worker, which finishes it
  with every row exactly once.
"""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import ImportBatch, Result

from .conftest import result_form
from .nodes import Node
from .test_job_workers import ROWS, kill_one_mid_import, workers  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]


@pytest.fixture
def province(db_url, tmp_path, world, signing_keys, s3_server, redis_url):
    """Two web nodes and the environment every node and worker of the province shares."""
    s3_server.empty()
    shared = {"DATABASE_URL": db_url, "RATELIMIT_STORAGE_URI": redis_url, "PORTAL_SEARCH_BACKEND": "postgresql",
              "PORTAL_INPROCESS_JOBS": "0", "PORTAL_SIGNING_P12": signing_keys["SIGNING_P12"],
              "PORTAL_SIGNING_P12_PASSWORD": signing_keys["SIGNING_P12_PASSWORD"],
              "PORTAL_TRUST_ROOTS": signing_keys["TRUST_ROOTS"], **s3_server.environ(prefix="province")}
    a = Node(tmp_path / "node-a", shared)
    try:
        b = Node(tmp_path / "node-b", shared)
    except BaseException:
        a.stop()
        raise
    yield a, b, shared
    a.stop()
    b.stop()


def test_what_one_node_does_the_other_sees(province, pdfs):
    a, b, _shared = province
    staff = a.user("staff_a")
    sent = staff.post_form("/admin/results/new", result_form(valid_until=None), form_page="/admin/results/new",
                           files={"file": ("scan.pdf", pdfs[0], "application/pdf")})
    assert sent.status_code == 302, sent.text[:2000]
    db.session.rollback()
    result = db.session.scalars(select(Result)).one()

    # Found on B at once: no queue, no index of B's own to wait for.
    found = staff.on(b).get("/admin/results?q=125/GP-SKHCN")
    assert found.status_code == 200 and result.code in found.text
    assert result.code not in b.user("staff_b").get("/admin/results?q=125/GP-SKHCN").text  # not unit B's

    published = a.user("reviewer_a").post_form(f"/admin/results/{result.id}/publish", {"version": result.version},
                                               form_page=f"/admin/results/{result.id}")
    assert published.status_code == 302
    holder = b.user("holder_a")
    assert result.code in holder.get("/me/results?q=buc xa").text

    # A copy issued on A: the same bytes from B, and B's verification says it is the one in the register.
    on_a = holder.on(a)
    issued = on_a.http.post(on_a.url(f"/api/v1/me/results/{result.code}/copies"), timeout=120,
                            headers={"X-CSRFToken": on_a.token("/me/results")})
    assert issued.status_code == 201, issued.text
    code = issued.json()["verification_code"].replace("-", "")
    from_a = on_a.get(f"/me/copies/{code}.pdf")
    from_b = holder.get(f"/me/copies/{code}.pdf")
    assert from_a.status_code == from_b.status_code == 200
    assert from_b.content == from_a.content
    assert hashlib.sha256(from_b.content).hexdigest() == issued.json()["sha256"]
    facts = b.user().get(f"/api/v1/verify/{code}").json()
    assert facts["sha256"] == issued.json()["sha256"] and facts["result"]["valid_today"] is True
    checked = b.user().post_form(f"/verify/{code}", {}, files={"file": ("ban-sao.pdf", from_a.content)})
    assert "Đúng là bản sao đã cấp" in checked.text

    # Neither node kept a file of its own: everything is in the bucket.
    for node in (a, b):
        stored = [p for p in (node.log.parent / "files").rglob("*") if p.is_file()] \
            if (node.log.parent / "files").exists() else []
        assert stored == [], stored


def test_logins_over_both_nodes_share_one_limit(province):
    a, b, _shared = province
    answers = [(a if n % 2 == 0 else b).user().login("holder_a", "đoán-thử").status_code for n in range(11)]
    assert answers == [200] * 10 + [429], answers


def test_a_worker_killed_in_an_import_leaves_it_to_the_other(province, workers, tmp_path):  # noqa: F811
    a, _b, shared = province

    def on_a_node_of_its_own(name: str):
        return workers(name, own_data_dir=tmp_path / f"worker-{name}", env=shared)

    def through_node_a(archive: bytes, name: str) -> None:
        sent = a.user("staff_a").post_form("/admin/imports", {}, files={"upload": (name, archive)})
        assert sent.status_code == 302, sent.text[:2000]

    batch_id = kill_one_mid_import(None, workers, start_worker=on_a_node_of_its_own, send=through_node_a)
    job = db.session.get(ImportBatch, batch_id)
    assert job.status == "done" and job.imported == ROWS
