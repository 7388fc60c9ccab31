"""The import job page's status (polled by its script): the job's own unit and admins only."""

from __future__ import annotations

from portal.extensions import db
from portal.models import ImportBatch

from .conftest import login


def test_the_status_of_an_import_is_for_its_units_staff_only(app, world):
    batch = ImportBatch(source="web", name="lo-a.csv", manifest_sha256="d" * 64, files_dir="", status="running",
                        total_rows=4, imported=1, skipped=1, unit_id=world["staff_a"].unit_id,
                        created_by_id=world["staff_a"].id)
    db.session.add(batch)
    db.session.commit()
    url = f"/admin/imports/{batch.id}/status.json"
    for who in ("staff_a", "reviewer_a", "admin"):
        client = app.test_client()
        login(client, who)
        answer = client.get(url)
        assert answer.status_code == 200 and answer.is_json, who
        assert answer.get_json() == {"status": "running", "label": "Đang nhập", "running": True, "done_rows": 2,
                                     "total_rows": 4, "percent": 50, "imported": 1, "skipped": 1, "failed": 0}
    for who in ("staff_b", "reviewer_b", "holder_a"):
        client = app.test_client()
        login(client, who)
        assert client.get(url).status_code == 404, who
    anonymous = app.test_client().get(url)
    assert anonymous.status_code in (302, 401) and b"lo-a.csv" not in anonymous.data
    # The page itself reloads only without scripts.
    client = app.test_client()
    login(client, "staff_a")
    page = client.get(f"/admin/imports/{batch.id}").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert page.count('http-equiv="refresh"') == 1 and "import-progress.js" in page
