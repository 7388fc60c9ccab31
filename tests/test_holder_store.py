"""The holder's own store: detail, pages, download, who looked; and the public look-up."""

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent

from .conftest import CCCD_A, CCCD_B, csrf_token, login, make_app, make_result


@pytest.fixture
def results(world, pdfs):
    own = make_result(world, pdfs[0], reviewer="reviewer_a")
    draft = make_result(world, pdfs[1], document_number="2/GP-SKHCN")
    other = make_result(world, pdfs[2], reviewer="reviewer_a", holder_id=CCCD_B, document_number="3/GP-SKHCN")
    return own, draft, other


def _urls(code):
    return [f"/me/results/{code}", f"/me/results/{code}/file", f"/me/results/{code}/pages/1.png"]


def test_holder_opens_downloads_and_sees_pages_of_their_own(client, world, results):
    own, draft, other = results
    login(client, "holder_a")
    page = client.get(f"/me/results/{own.code}").get_data(as_text=True)
    assert own.document_number in page and "Tải bản điện tử" in page
    assert client.get(f"/me/results/{own.code}/pages/1.png").data.startswith(b"\x89PNG")
    download = client.get(f"/me/results/{own.code}/file")
    assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    for result in (draft, other):
        for url in _urls(result.code) + _urls(result.code.lower()) + _urls("../../etc/passwd"):
            assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("who", ["staff_a", "admin"])
def test_staff_have_no_holder_store(client, world, results, who):
    login(client, who)
    for url in _urls(results[0].code) + ["/me/access"]:
        assert client.get(url).status_code == 404, url


def test_anonymous_goes_to_login(client, results):
    for url in _urls(results[0].code) + ["/me/access"]:
        assert client.get(url).status_code == 302


def test_who_looked_at_my_results(client, world, results):
    own, _draft, other = results
    login(client, "staff_a")
    client.get(f"/admin/results/{own.id}")
    client.get(f"/admin/results/{other.id}")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/results")})
    login(client, "holder_a")
    client.get(f"/me/results/{own.code}/file")
    page = client.get("/me/access").get_data(as_text=True)
    assert "Cán bộ A (Phòng Quản lý chuyên ngành)" in page and "Xem kết quả" in page
    assert "Bạn" in page and "Tải tệp" in page
    assert other.code not in page


def _lookup(client, code, holder):
    return client.post("/lookup", data={"csrf_token": csrf_token(client, "/"), "result_code": code,
                                        "holder_id": holder})


def test_public_lookup_answers_only_validity_and_the_same_for_every_miss(client, world, results):
    own, draft, other = results
    found = _lookup(client, own.code.lower(), CCCD_A).get_data(as_text=True)
    assert "Tình trạng hôm nay" in found and own.document_number in found
    assert "Phạm Minh Khánh" not in found and ".pdf" not in found and "/file" not in found
    misses = [(own.code, CCCD_B), ("000.00.21.H48-240315-0012-KQ1", CCCD_A), (draft.code, CCCD_A),
              (other.code, CCCD_A), ("rac", "rac")]
    answers = set()
    for code, holder in misses:
        page = _lookup(client, code, holder).get_data(as_text=True)
        answers.add(page.split('<div class="answer" role="status">')[1].split("</div>")[0].strip())
    assert answers == {"<p>Không tìm thấy kết quả nào khớp với mã kết quả và số định danh đã nhập.</p>"}
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "lookup")).all()
    assert len(events) == 6 and events[0].result_id == own.id and events[0].ip == "127.0.0.1"


def test_public_lookup_is_rate_limited(db_url, tmp_path, world, results):
    limited = make_app(db_url, tmp_path / "limited", RATELIMIT_ENABLED=True)
    client = limited.test_client()
    codes = [_lookup(client, results[0].code, CCCD_A).status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429


def test_every_look_at_a_page_image_is_in_the_holders_access_log(app, client, world, pdfs):
    """Staff viewing a page of a holder's document, as an image, is a look at the document."""
    from portal.models import AuditEvent

    result = make_result(world, pdfs[0], reviewer="reviewer_a")
    login(client, "staff_a")
    assert client.get(f"/admin/results/{result.id}/pages/1.png").status_code == 200
    holder = app.test_client()
    login(holder, "holder_a")
    assert holder.get(f"/me/results/{result.code}/pages/1.png").status_code == 200
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "result.preview")).all()
    assert [(e.actor.username, e.details["page"]) for e in events] == [("staff_a", 1), ("holder_a", 1)]
    log = holder.get("/me/access").get_data(as_text=True)
    assert "Xem trang" in log and "Cán bộ A" in log
