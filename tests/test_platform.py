"""What every page shares: health, headers, audit trail, file storage."""

import io

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent
from portal.storage import LocalStorage

from .conftest import csrf_token, login, make_result


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["database"] == "ok"
    assert response.json["file_store"] == {"backend": "local", "status": "ok"}


def test_security_headers_and_language(client):
    response = client.get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    page = response.get_data(as_text=True)
    assert '<html lang="vi">' in page and "<script>" not in page and " style=" not in page


def test_unknown_page_in_vietnamese(client):
    response = client.get("/khong-co")
    assert response.status_code == 404 and "Không tìm thấy" in response.get_data(as_text=True)


def test_views_and_downloads_are_audited_with_address(client, world, pdfs):
    result = make_result(world, pdfs[0], reviewer="reviewer_a")
    client.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    login(client, "staff_a")
    client.get(f"/admin/results/{result.id}")
    client.get(f"/admin/results/{result.id}/file")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.result_id == result.id)
                                .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["result.create", "result.publish", "result.view", "result.download"]
    view, download = events[-2:]
    assert view.actor.username == "staff_a" and view.ip == "10.1.2.3" and view.target == result.code
    assert download.details["sha256"] == result.document.sha256

    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/results")})
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"
    login(client, "admin")
    page = client.get("/admin/audit?action=result.download&ip=10.1.2.3").get_data(as_text=True)
    assert "Tải tệp" in page and result.code in page and "Cán bộ A" in page
    filtered = client.get("/admin/audit?action=result.revoke").get_data(as_text=True)
    assert result.code not in filtered


def test_storage_is_content_addressed_and_rejects_paths(tmp_path):
    store = LocalStorage(tmp_path)
    sha = store.put_bytes(b"same bytes")
    assert store.put_bytes(b"same bytes") == sha
    assert store.path_for(sha).read_bytes() == b"same bytes"
    assert len(list((tmp_path / "objects").rglob("*"))) == 3  # two directory levels and one file
    for bad in ["../../etc/passwd", sha.upper(), sha[:-1], sha + "0", "/" + sha[1:]]:
        with pytest.raises(ValueError):
            store.path_for(bad)
    assert not any(store.tmp.iterdir())


def test_storage_limit_leaves_nothing_behind(tmp_path):
    from portal.storage import TooLarge

    store = LocalStorage(tmp_path)
    with pytest.raises(TooLarge):
        store.spool(io.BytesIO(b"x" * 5000), limit=1000)
    assert not any(store.tmp.iterdir())


def test_rendering_processes_are_replaced_after_their_tasks_and_keep_answering(monkeypatch):
    """Every TASKS_PER_PROCESS tasks the rendering pool is retired and a fresh one answers (not
    ProcessPoolExecutor's max_tasks_per_child, under which a report once never rendered)."""
    import os

    from portal.copies import worker

    monkeypatch.setattr(worker, "TASKS_PER_PROCESS", 3)
    worker._reset()
    pids = [worker.run(os.getpid) for _ in range(9)]
    assert len(set(pids)) == 3 and pids[0] == pids[2] != pids[3]
    worker._reset()
