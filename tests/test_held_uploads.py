"""The holding area of the upload form (issue 13, items 4-6): a scan that passed its checks is
kept for its uploader when another field is wrong, used by the next submit without a file, shown
(its first page) only to them; a token of someone else, expired or made up is refused in words."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import HeldUpload, Result, StoredFile
from portal.operations.held import held_store

from .conftest import csrf_token, image_bytes, login, result_form, upload

REFUSED = "Không tìm thấy tệp đã giữ"


def _page(response) -> str:
    return response.get_data(as_text=True)


def _token(page: str) -> str:
    tag = re.search(r'<input[^>]*name="held_token"[^>]*>', page).group(0)
    return re.search(r'value="([^"]*)"', tag).group(1)


def _submit(client, token: str, url: str = "/admin/results/new", **fields):
    data = {**result_form(**fields), "csrf_token": csrf_token(client, url), "held_token": token}
    return client.post(url, data=data, content_type="multipart/form-data")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_field_error_keeps_the_scan_and_the_next_submit_uses_it(app, client, world, pdfs):
    login(client, "staff_a")
    response = upload(client, pdfs[2], "giay-phep-2-trang.pdf", issue_date="32/01/2020")
    page = _page(response)
    assert response.status_code == 200 and _count(Result) == 0
    # The summary at the top links to the field; the field names its hint and its error.
    assert page.index('class="error-summary"') < page.index("<h1")
    assert 'Có lỗi cần sửa' in page and 'href="#issue_date">Ngày ban hành «32/01/2020» không hợp lệ' in page
    assert re.search(r'<input[^>]*aria-describedby="issue_date-hint issue_date-error"[^>]*id="issue_date"', page)
    # The file is held, said so, and its first page shown beside the form (no JavaScript needed).
    assert "Đã giữ tệp <strong>giay-phep-2-trang.pdf</strong>" in page and "không cần chọn lại" in page
    token = _token(page)
    assert len(token) >= 40
    held = db.session.scalars(select(HeldUpload)).one()
    assert held.user_id == world["staff_a"].id and held.page_count == 2
    preview = re.search(r'<img src="(/admin/results/held/[^"]+/pages/1\.png)"', page).group(1)
    image = client.get(preview)
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")
    # Corrected, and sent without choosing the file again.
    response = _submit(client, token, issue_date="15/03/2019", paper_pages="2")
    assert response.status_code == 302, _page(response)[-2000:]
    result = db.session.scalars(select(Result)).one()
    assert result.page_count == 2 and result.issue_date.year == 2019
    assert _count(StoredFile) == 1 and _count(HeldUpload) == 0
    assert not held_store().path_for(held.document_sha256).exists()  # released with its entry
    assert client.get(preview).status_code == 404


def test_an_error_from_the_draft_itself_keeps_the_scan_too(client, world, pdfs):
    login(client, "staff_a")
    response = upload(client, pdfs[0], paper_pages="3")  # every field valid, the page count wrong
    assert "Bản quét có 1 trang nhưng bản giấy có 3 trang" in _page(response)
    assert "Đã giữ tệp" in _page(response)
    assert _submit(client, _token(_page(response)), paper_pages="1").status_code == 302
    assert _count(Result) == 1


def test_an_image_scan_is_held_with_its_source_and_both_are_kept(client, world):
    login(client, "staff_a")
    response = upload(client, image_bytes("PNG"), "scan.png", summary="")
    assert "Đã giữ tệp <strong>scan.png</strong>" in _page(response)
    assert _submit(client, _token(_page(response))).status_code == 302
    result = db.session.scalars(select(Result)).one()
    assert {f.role for f in result.files} == {"document", "source_image"}


def test_no_file_and_no_token_says_to_choose_one(client, world):
    login(client, "staff_a")
    response = _submit(client, "")
    assert "Chưa chọn tệp bản quét." in _page(response) and 'href="#file"' in _page(response)


def test_another_users_token_is_refused_and_their_preview_is_not_found(app, client, world, pdfs):
    login(client, "staff_a")
    token = _token(_page(upload(client, pdfs[0], issue_date="")))
    preview = f"/admin/results/held/{token}/pages/1.png"
    assert client.get(preview).status_code == 200
    for other in ("reviewer_a", "staff_b", "admin"):  # the same unit's reviewer, another unit, the admin
        stranger = app.test_client()
        login(stranger, other)
        response = _submit(stranger, token)
        assert response.status_code == 200 and REFUSED in _page(response), other
        assert stranger.get(preview).status_code == 404, other
    holder = app.test_client()
    login(holder, "holder_a")
    assert holder.get(preview).status_code in (403, 404)
    assert _count(Result) == 0 and _count(HeldUpload) == 1  # still there for its owner
    assert _submit(client, token).status_code == 302


def test_a_forged_or_garbage_token_gets_a_clear_message_not_an_error(client, world):
    login(client, "staff_a")
    for token in ("../../etc/passwd", "x" * 43, "x" * 500, "' OR 1=1 --", "Ünïcødé-tøken-ñ-1234567890", "%00"):
        response = _submit(client, token)
        assert response.status_code == 200, token
        assert REFUSED in _page(response), token
        assert client.get(f"/admin/results/held/{token}/pages/1.png").status_code in (400, 404), token
    assert _count(Result) == 0


def test_held_scans_expire_after_a_day_and_purge_removes_them(app, client, world, pdfs, clock):
    login(client, "staff_a")
    token = _token(_page(upload(client, pdfs[0], issue_date="")))
    sha256 = db.session.scalars(select(HeldUpload.document_sha256)).one()
    path = held_store().path_for(sha256)
    assert path.is_file() and client.get(f"/admin/results/held/{token}/pages/1.png").status_code == 200
    clock.shift(timedelta(hours=25))
    login(client, "staff_a")
    assert REFUSED in _page(_submit(client, token))
    done = app.test_cli_runner().invoke(args=["purge-expired"])
    assert "1 held scans removed," in done.output
    assert _count(HeldUpload) == 0 and not path.exists()
    assert not list((Path(app.config["PORTAL_DATA_DIR"]) / "previews").rglob(f"{sha256}-*.png"))


def test_the_hold_endpoint_checks_the_file_and_answers_json(app, client, world, pdfs):
    login(client, "staff_a")
    token = csrf_token(client, "/admin/results/new")
    headers = {"X-CSRFToken": token, "Accept": "application/json"}
    answer = client.post("/admin/results/held", data={"file": (io.BytesIO(pdfs[2]), "hai-trang.pdf")},
                         headers=headers, content_type="multipart/form-data")
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["name"] == "hai-trang.pdf" and data["pages"] == 2 and data["size"].endswith(("KB", "MB"))
    assert client.get(data["preview_url"]).status_code == 200
    # The token then stands for the file on the form.
    assert _submit(client, data["token"], paper_pages="2").status_code == 302
    bad = client.post("/admin/results/held", data={"file": (io.BytesIO(b"hello"), "scan.pdf")},
                      headers=headers, content_type="multipart/form-data")
    assert bad.status_code == 400 and "nội dung là" in bad.get_json()["message"]
    holder = app.test_client()
    login(holder, "holder_a")
    refused = holder.post("/admin/results/held", data={"file": (io.BytesIO(pdfs[3]), "a.pdf"),
                                                        "csrf_token": csrf_token(holder, "/account/password")},
                          content_type="multipart/form-data")
    assert refused.status_code in (403, 404) and _count(HeldUpload) == 0


def test_hints_and_errors_are_tied_to_their_inputs_on_every_form(client, world):
    page = _page(client.get("/claim"))
    assert re.search(r'aria-describedby="code-hint"[^>]*id="code"', page)
    response = client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "username": "",
                                           "password": ""})
    page = _page(response)
    assert 'class="error-summary"' in page and 'href="#username"' in page and 'href="#password"' in page
    assert 'aria-describedby="username-error"' in page and "error_summary.js" in page
