"""The reviewer's desk: reading the scan beside its metadata, warnings from its text, sending back
from the queue without leaving it, and the hand-over slips a batch publish makes."""

import io
import re
from datetime import timedelta

import pypdfium2
from PIL import Image
from pypdf import PdfReader
from pyzbar.pyzbar import decode
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, ClaimCode, HandoverSlip, Result
from portal.operations import accounts, claims
from portal.storage import SLIPS, storage

from .conftest import CCCD_A, CCCD_B, MST_C, PASSWORD, UNIT_A, csrf_token, login, make_result


def _text(response) -> str:
    return response.get_data(as_text=True)


# --- reading the scan ------------------------------------------------------------------------------

def test_the_review_page_shows_each_page_large_with_its_number_in_the_url(client, world, pdfs):
    draft = make_result(world, pdfs[2], document_number="3/GP-SKHCN", issue_date="04/05/2019")  # two pages
    login(client, "reviewer_a")
    first = _text(client.get(f"/admin/results/{draft.id}"))
    assert "Bản quét — trang 1/2" in first and f"/admin/results/{draft.id}?page=2&amp;zoom=100#xem" in first
    assert 'id="viewer-keys"' in first and "PageDown" in first
    second = _text(client.get(f"/admin/results/{draft.id}?page=2&zoom=200"))
    assert "Bản quét — trang 2/2" in second and 'class="zoom-200"' in second
    assert f"/admin/results/{draft.id}/pages/2.png?size=large" in second  # zoomed: the reading rendering
    assert f"/admin/results/{draft.id}?page=2&amp;zoom=150#xem" in second  # zoom out, same page
    assert "Bản quét — trang 2/2" in _text(client.get(f"/admin/results/{draft.id}?page=99"))
    large = client.get(f"/admin/results/{draft.id}/pages/1.png?size=large")
    assert large.status_code == 200 and Image.open(io.BytesIO(large.data)).width == 1800
    for width in ("1234", "900000", "-1", "abc", ""):  # only the fixed renderings, never a free number
        assert client.get(f"/admin/results/{draft.id}/pages/1.png?size={width}").status_code == 404


def test_a_number_and_date_not_on_the_scan_warn_before_publishing(client, world, pdfs):
    # The scan says 1/GP-SKHCN, dated 02/05/2019; the clerk typed something else for both.
    draft = make_result(world, pdfs[0], document_number="125/GP-SKHCN", issue_date="05/06/2012", valid_until=None)
    login(client, "reviewer_a")
    page = _text(client.get(f"/admin/results/{draft.id}"))
    assert "Không tìm thấy số, ký hiệu 125/GP-SKHCN trên bản quét" in page
    assert "Không tìm thấy ngày ban hành 05/06/2012 trên bản quét" in page
    assert 'id="scan-warnings" role="alert"' in page and 'aria-describedby="scan-warnings">Phát hành' in page
    queue = _text(client.get("/admin/review"))
    assert "Không tìm thấy ngày ban hành 05/06/2012 trên bản quét" in queue


def test_a_number_and_date_found_are_highlighted_on_the_page_text(client, world, pdfs):
    draft = make_result(world, pdfs[0], document_number="1/gp-skhcn", issue_date="2/5/2019", valid_until=None)
    login(client, "reviewer_a")
    page = _text(client.get(f"/admin/results/{draft.id}"))
    assert "Không tìm thấy" not in page and 'id="scan-warnings"' not in page
    assert re.search(r"thấy trên trang <a[^>]*>1</a>", page)
    assert '<mark class="found-number">1/GP-SKHCN</mark>' in page
    assert '<mark class="found-date">ngày 02 tháng 05 năm 2019</mark>' in page


# --- sending back from the queue -------------------------------------------------------------------

def _queue_form(client, url="/admin/review"):
    return {"csrf_token": csrf_token(client, url), "next": url}


def test_an_empty_reason_keeps_the_reviewer_on_the_queue_with_what_they_ticked(client, world, pdfs):
    first, second = (make_result(world, pdfs[n], document_number=f"{n + 1}/GP-SKHCN") for n in (0, 1))
    login(client, "reviewer_a")
    data = {**_queue_form(client), "result_id": [f"{second.id}:{second.version}"],
            f"reason-{first.id}": "  ", f"reason-{second.id}": "Thiếu trang 2", "return": str(first.id)}
    response = client.post("/admin/review/return?page=1", data=data)
    assert response.status_code == 422  # the same page, not a redirect away
    page = _text(response)
    assert "<h1>Kết quả chờ kiểm tra</h1>" in page
    assert (f'id="reason-{first.id}" name="reason-{first.id}" maxlength="2000" value="  " aria-invalid="true" '
            f'aria-describedby="reason-{first.id}-error"') in page
    assert f'<p class="field-error" id="reason-{first.id}-error">Hãy ghi lý do trả lại' in page
    assert f'value="{second.id}:{second.version}" checked' in page and 'value="Thiếu trang 2"' in page
    db.session.refresh(first)
    assert first.status == "draft"
    # With a reason it goes back, and the reviewer stays on the queue.
    data[f"reason-{first.id}"] = "Sai số ký hiệu"
    done = client.post("/admin/review/return", data=data)
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/review")
    db.session.refresh(first)
    assert first.status == "returned" and first.status_reason == "Sai số ký hiệu"


def test_another_units_reviewer_cannot_send_back_from_the_queue(client, world, pdfs):
    draft = make_result(world, pdfs[0])
    login(client, "reviewer_b")
    data = {**_queue_form(client), f"reason-{draft.id}": "Không phải việc của tôi", "return": str(draft.id)}
    assert client.post("/admin/review/return", data=data).status_code == 404
    db.session.refresh(draft)
    assert draft.status == "draft"


# --- hand-over slips ---------------------------------------------------------------------------------

def _publish_ticked(client, results):
    data = {**_queue_form(client), "result_id": [f"{r.id}:{r.version}" for r in results]}
    return client.post("/admin/review/publish", data=data, follow_redirects=True)


def _slip_pages(data: bytes) -> list[tuple[str, list[str]]]:
    """Each page's text and the QR codes read off its image."""
    texts = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    document = pypdfium2.PdfDocument(data)
    qrs = [[code.data.decode() for code in decode(document[i].render(scale=3).to_pil())] for i in range(len(document))]
    return list(zip(texts, qrs, strict=True))


def test_a_batch_publish_makes_one_pdf_of_slips_for_holders_without_an_account(app, client, world, pdfs):
    lan = [make_result(world, pdfs[n], holder_id=CCCD_B, holder_name="Trần Thị Lan",
                       document_number=f"{n + 1}/GP-SKHCN") for n in (0, 1)]
    business = make_result(world, pdfs[2], holder_id=MST_C, holder_name="Công ty TNHH Minh Phát",
                           document_number="3/GP-SKHCN")
    has_account = make_result(world, pdfs[3], holder_id=CCCD_A, document_number="4/GP-SKHCN")
    login(client, "reviewer_a")
    page = _text(_publish_ticked(client, [*lan, business, has_account]))
    assert "Đã phát hành 4 kết quả" in page and "Đã tạo 2 phiếu trả kết quả" in page
    slip = db.session.scalars(select(HandoverSlip)).one()
    assert slip.slip_count == 2 and sorted(slip.result_codes) == sorted(r.code for r in [*lan, business])
    assert f'href="/admin/slips/{slip.id}.pdf"' in page

    response = client.get(f"/admin/slips/{slip.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    pages = _slip_pages(response.data)
    assert len(pages) == 2  # one slip per holder without an account, not per result
    claim_url = f"{app.config['BASE_URL']}/claim"
    codes = {}
    for text, qrs in pages:
        assert qrs == [claim_url]
        assert claim_url in text and "số định danh" in text
        code = re.search(r"\b([2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4})\b", text).group(1)
        codes["Trần Thị Lan" if "Trần Thị Lan" in text else "Minh Phát"] = code
        if "Trần Thị Lan" in text:
            assert all(r.document_number in text for r in lan), text
        else:
            assert "Công ty TNHH Minh Phát" in text and business.document_number in text
    assert "Phạm Minh Khánh" not in "".join(text for text, _ in pages)  # holder A has an account
    # The codes are real: Lan opens her account with hers.
    user = claims.claim_account(codes["Trần Thị Lan"], CCCD_B, "tran.lan", "mat-khau-rat-dai-12", "Trần Thị Lan")
    assert user.holder_id == CCCD_B
    assert db.session.scalar(select(ClaimCode.id).where(ClaimCode.holder_id == MST_C)) is not None
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"slip.issue", "slip.download", "claim.issue"} <= actions


def test_only_the_reviewer_who_published_downloads_the_slips_and_only_for_a_while(app, clock, client, world, pdfs):
    draft = make_result(world, pdfs[0], holder_id=CCCD_B, holder_name="Trần Thị Lan")
    accounts.create_user(None, "reviewer_a2", "reviewer", PASSWORD, unit_code=UNIT_A)
    login(client, "reviewer_a")
    _publish_ticked(client, [draft])
    slip = db.session.scalars(select(HandoverSlip)).one()
    url = f"/admin/slips/{slip.id}.pdf"
    assert client.get(url).status_code == 200
    for other in ("reviewer_a2", "staff_a", "reviewer_b", "staff_b", "admin", "holder_a"):
        stranger = app.test_client()
        login(stranger, other)
        assert stranger.get(url).status_code in (403, 404), other
        assert f"/admin/slips/{slip.id}.pdf" not in _text(stranger.get("/admin/slips"))
    assert app.test_client().get(url).status_code in (302, 401, 404)
    path = storage(SLIPS).path_for(slip.sha256)
    assert path.is_file() and (path.stat().st_mode & 0o077) == 0

    clock.shift(timedelta(days=app.config["HANDOVER_SLIP_DAYS"], minutes=-1))
    assert "0 hand-over slips deleted." in app.test_cli_runner().invoke(args=["purge-expired"]).output
    assert path.is_file()
    clock.shift(timedelta(minutes=2))
    assert "1 hand-over slips deleted." in app.test_cli_runner().invoke(args=["purge-expired"]).output
    assert not path.exists()  # the nightly purge, before anyone asks
    login(client, "reviewer_a")  # a week on, a new session
    gone = client.get(url)
    assert gone.status_code == 410 and "đã bị xóa" in _text(gone)
    assert not path.exists()
    db.session.refresh(slip)
    assert slip.removed_at is not None
    assert "Đã xóa sau 7 ngày lưu" in _text(client.get("/admin/slips"))


def test_publishing_for_holders_who_all_have_accounts_makes_no_slip(client, world, pdfs):
    draft = make_result(world, pdfs[0], holder_id=CCCD_A)
    login(client, "reviewer_a")
    page = _text(_publish_ticked(client, [draft]))
    assert "Mọi người được cấp đều đã có tài khoản" in page
    assert db.session.scalar(select(HandoverSlip.id)) is None
    assert db.session.get(Result, draft.id).status == "published"
