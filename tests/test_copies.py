"""Certified copies: the PDF read back (text, QR, PDF/A, signature), the register, refusals,
verification by anyone, and who may download what.

Everything here happens at the clock's time (the `published` fixture starts it); the tests whose
answer is a date run at an ordinary instant and on both sides of a Vietnamese new year."""

from __future__ import annotations

import io
import re
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, CertifiedCopy

from .conftest import (
    CCCD_A,
    CCCD_B,
    CLOCK_START,
    MST_C,
    PASSWORD,
    VIETNAM,
    at_every_instant,
    csrf_token,
    login,
    make_app,
    make_result,
    vietnam_now,
)

CODE_RE = re.compile(r"mã xác thực ([2-9A-HJ-NP-Z]{4}(?:-[2-9A-HJ-NP-Z]{4}){3})")


@pytest.fixture
def published(clock, world, pdfs):
    """A two-page result of holder A, published and valid, at the clock's time."""
    return make_result(world, pdfs[2], reviewer="reviewer_a", valid_until=None, document_number="3/GP-SKHCN")


def issue(client, result) -> CertifiedCopy:
    """Ask for a copy from the result's page, as the holder's browser does."""
    token = csrf_token(client, f"/me/results/{result.code}")
    response = client.post(f"/me/results/{result.code}/copies", data={"csrf_token": token})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    match = CODE_RE.search(page)
    assert match, page[:2000]
    return db.session.scalars(select(CertifiedCopy).where(
        CertifiedCopy.verification_code == match.group(1).replace("-", ""))).one()


def copy_bytes(client, copy: CertifiedCopy) -> bytes:
    response = client.get(f"/me/copies/{copy.verification_code}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


# --- the PDF, read back ------------------------------------------------------------------------

@at_every_instant
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_copy_pdf_has_the_certification_page_the_stamped_originals_and_a_trusted_signature(
        clock, client, world, published, pdfs, app):
    from pypdf import PdfReader

    login(client, "holder_a")
    copy = issue(client, published)
    data = copy_bytes(client, copy)
    reader = PdfReader(io.BytesIO(data))
    original = PdfReader(io.BytesIO(pdfs[2]))

    # One certification page, then every original page.
    assert len(reader.pages) == len(original.pages) + 1 == copy.page_count == 3
    first = reader.pages[0].extract_text()
    for words in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                  "BẢN SAO ĐIỆN TỬ ĐƯỢC CẤP TỪ SỔ GỐC",
                  "3/GP-SKHCN", copy.register_number, copy.display_code, "Phạm Minh Khánh", CCCD_A, "Trang 1/3",
                  "SỞ KHOA HỌC VÀ CÔNG NGHỆ"):
        assert words in first, words
    # When it was issued, in Vietnam (the register's year is that one too).
    issued = copy.issued_at.astimezone(VIETNAM)
    assert issued.strftime("%H:%M ngày %d/%m/%Y") in first and copy.year == issued.year
    # The originals are carried over as they were (their own text layer is still there), stamped.
    for n in (1, 2):
        text = reader.pages[n].extract_text()
        assert PAGE_STAMP.findall(text) == [(str(n + 1), "3")] and copy.display_code in text
        assert original.pages[n - 1].extract_text().split("\n")[0] in text
        assert reader.pages[n].mediabox == original.pages[n - 1].mediabox

    # Every font is embedded, including the one of the signature's appearance, with glyph widths
    # in thousandths of an em (pyHanko writes font units, hence the 1000-unit stamp font).
    def fonts(resources, seen, widths=None):
        for font in (resources or {}).get("/Font", {}).values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            seen.append(any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")))
            if widths is not None:
                widths += [w for item in descendant.get("/W", []) if isinstance(item, list) for w in item]
        for xobject in (resources or {}).get("/XObject", {}).values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form":
                fonts(xobject.get("/Resources"), seen, widths)
        return seen

    embedded = []
    for page in reader.pages:
        fonts(page.get("/Resources"), embedded)
    widget = next(a.get_object() for a in reader.pages[0]["/Annots"] if a.get_object().get("/FT") == "/Sig")
    stamp_widths = []
    fonts(widget["/AP"]["/N"].get_object().get("/Resources"), embedded, stamp_widths)
    assert embedded and all(embedded)
    assert stamp_widths and max(stamp_widths) <= 1000, stamp_widths

    # The signature's appearance sits at the top right of page one.
    x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert x0 > width / 2 and y1 > height * 0.9 and x1 <= width and y1 <= height

    # PDF/A-2b is declared, with an output intent, and the Info dictionary does not contradict it.
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="2"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    info = reader.metadata or {}
    assert f'pdf:Producer="{info["/Producer"]}"' in xmp if "/Producer" in info else True
    assert info["/Title"] in xmp and info["/Author"] in xmp

    # The QR code at the top left decodes to this copy's verification address.
    import pypdfium2
    from pyzbar.pyzbar import decode

    image = pypdfium2.PdfDocument(data)[0].render(scale=200 / 72).to_pil()
    codes = decode(image)
    assert [c.data.decode() for c in codes] == [f"{app.config['BASE_URL']}/verify/{copy.verification_code}"]
    rect = codes[0].rect
    assert rect.left < image.width / 4 and rect.top < image.height / 6

    # pyHanko: intact, covering the whole file, trusted with the demo CA, by the department.
    from portal.copies.validation import check_signature

    check = check_signature(data, app.config["TRUST_ROOTS"])
    assert check.signed and check.intact and check.whole_file and check.trusted
    assert check.signer_cert_sha256 == copy.signer_cert_sha256
    assert check.signer_name == app.config["DEPARTMENT_NAME"]

    # One changed byte inside the signed range breaks it.
    position = data.index(b"/Type /Page") + 1 if b"/Type /Page" in data else len(data) // 3
    broken = bytearray(data)
    broken[position] ^= 0x01
    assert not check_signature(bytes(broken), app.config["TRUST_ROOTS"]).intact

    # Signed by a key the verifier does not trust: intact, but not trusted.
    from pathlib import Path

    from portal.copies.keys import ensure_demo_keys

    other = Path(app.config["PORTAL_DATA_DIR"]) / "other-ca"
    ensure_demo_keys(other, "Sở giả mạo", "Quảng Ngãi")
    untrusted = check_signature(data, str(other / "demo-ca.pem"))
    assert untrusted.intact and not untrusted.trusted


@at_every_instant
def test_the_register_numbers_copies_per_year_and_keeps_the_exact_file(clock, client, world, published):
    from portal.storage import storage

    login(client, "holder_a")
    year = vietnam_now().year  # the register counts in Vietnam's years, whatever the machine's zone
    first, second = issue(client, published), issue(client, published)
    assert (first.year, first.number, second.year, second.number) == (year, 1, year, 2)
    assert first.register_number == f"000001/{year}/BSĐT"
    for copy in (first, second):
        assert re.fullmatch(r"[2-9A-HJ-NP-Z]{16}", copy.verification_code)
        assert copy.holder_id == CCCD_A and copy.result_id == published.id
        assert copy.requested_by_id == world["holder_a"].id
        data = copy_bytes(client, copy)
        assert data == copy_bytes(client, copy)  # again, byte for byte
        assert storage().hash_of_stored(copy.sha256) == copy.sha256 and len(data) == copy.size
    assert first.verification_code != second.verification_code and first.sha256 != second.sha256

    # Another year's numbers do not count...
    db.session.add(CertifiedCopy(year=year + 2, number=41, verification_code="Z" * 16, result_id=published.id,
                                 holder_id=CCCD_A, holder_name="x", sha256="0" * 64, size=1, page_count=1,
                                 signer_cert_sha256="0" * 64))
    db.session.commit()
    assert issue(client, published).number == 3
    # ...and a new year (from its first minute in Vietnam: 17:00 UTC the day before) starts again at 1.
    clock.move_to(datetime(year + 1, 1, 1, tzinfo=VIETNAM))
    later = client.application.test_client()  # maybe months later: the idle session has ended
    login(later, "holder_a")
    next_year = issue(later, published)
    assert (next_year.year, next_year.number, next_year.register_number) == (year + 1, 1, f"000001/{year + 1}/BSĐT")


def test_verification_codes_are_read_aloud_safely():
    from portal.identifiers import VERIFICATION_ALPHABET as ALPHABET
    from portal.identifiers import VERIFICATION_CODE_LENGTH as CODE_LENGTH
    from portal.identifiers import verification_code as normalize_code
    from portal.operations.copies import new_verification_code

    assert not set("01OI") & set(ALPHABET) and len(ALPHABET) ** CODE_LENGTH >= 2 ** 80
    code = new_verification_code()
    spaced = "-".join(code[i:i + 4] for i in range(0, 16, 4)).lower()
    assert normalize_code(spaced) == code and normalize_code(f" {code[:8]} {code[8:]} ") == code
    assert normalize_code("0" * 16) is None and normalize_code(code[:15]) is None and normalize_code(None) is None


def test_copies_issued_at_the_same_time_get_distinct_numbers(app, world, published):
    from portal.operations.copies import issue_copy

    holder_id, result_id = world["holder_a"].id, published.id
    numbers, errors = [], []

    def ask():
        with app.app_context():
            try:
                from portal.models import Result, User

                copy = issue_copy(db.session.get(User, holder_id), db.session.get(Result, result_id))
                numbers.append(copy.number)
            except Exception as err:  # noqa: BLE001 - reported below
                errors.append(err)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and sorted(numbers) == [1, 2, 3]


def _register() -> list[tuple[int, int]]:
    return sorted(db.session.execute(select(CertifiedCopy.year, CertifiedCopy.number)).tuples())


def _reservations() -> list[tuple[int, int, bool]]:
    from portal.models import CopyNumberReservation as Reserved

    return sorted((r.year, r.number, r.held_by is not None) for r in db.session.scalars(select(Reserved)))


def test_numbers_reserved_at_once_are_distinct_and_released_ones_go_first(app, world):
    from portal.copies import numbers

    year = CLOCK_START.year
    first = [numbers.reserve(year) for _ in range(6)]
    for reservation in first[1::2]:  # 2, 4 and 6 failed
        numbers.release(reservation)

    def at_once(of_year: int) -> list[int]:
        taken, errors = [], []

        def reserve():
            with app.app_context():
                try:
                    taken.append(numbers.reserve(of_year).number)
                except Exception as err:  # noqa: BLE001 - reported below
                    errors.append(err)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=reserve) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        return sorted(taken)

    assert at_once(year) == [2, 4, 6, 7, 8, 9, 10, 11]
    assert at_once(year + 1) == list(range(1, 9))  # a year's first numbers: its counter started once
    assert _reservations() == [(year, n, True) for n in range(1, 12)] + [(year + 1, n, True) for n in range(1, 9)]


def test_a_copy_that_fails_gives_its_number_back_to_the_next_copy(world, published, pdfs):
    from portal.operations import OperationError
    from portal.operations.copies import issue_copy
    from portal.storage import storage

    holder = world["holder_a"]
    broken = make_result(world, pdfs[4], reviewer="reviewer_a", valid_until=None, document_number="4/GP-SKHCN")
    # A stored original that is whole (its hash matches) but no PDF a reader can open: rendering fails.
    broken.document.sha256 = storage().put_bytes(b"%PDF-1.7\n" + b"\x00hong" * 64 + b"\n%%EOF\n")
    db.session.commit()
    assert issue_copy(holder, published).number == 1
    with pytest.raises(OperationError, match="Không đọc được tệp gốc"):
        issue_copy(holder, broken)
    year = _register()[0][0]
    assert _reservations() == [(year, 2, False)]  # released, not lost
    assert [issue_copy(holder, published).number for _ in range(2)] == [2, 3]
    assert _register() == [(year, 1), (year, 2), (year, 3)] and _reservations() == []


def test_a_number_left_by_a_process_that_died_is_taken_over_after_its_lease(clock, world, published):
    from portal.copies import numbers
    from portal.operations.copies import issue_copy

    holder = world["holder_a"]
    year = CLOCK_START.year
    abandoned = numbers.reserve(year)  # reserved, then the process was killed before registering
    assert abandoned.number == 1
    assert issue_copy(holder, published).number == 2  # still held: it may yet be registered
    clock.shift(numbers.LEASE + timedelta(minutes=1))
    assert issue_copy(holder, published).number == 1  # taken over: the register has no gap
    assert issue_copy(holder, published).number == 3
    assert not numbers.take(abandoned)  # the process that held it, had it lived on, cannot use it
    assert _register() == [(year, 1), (year, 2), (year, 3)] and _reservations() == []


# --- refusals ------------------------------------------------------------------------------------

def _refusal(client, result) -> str:
    token = csrf_token(client, f"/me/results/{result.code}")
    page = client.post(f"/me/results/{result.code}/copies", data={"csrf_token": token}, follow_redirects=True)
    return page.get_data(as_text=True)


@at_every_instant
def test_revoked_expired_and_replaced_results_are_not_copied_and_the_holder_is_told_why(clock, client, world,
                                                                                        pdfs):
    from portal.operations import results as ops

    today = vietnam_now().date()
    revoked = make_result(world, pdfs[3], reviewer="reviewer_a", document_number="4/GP-SKHCN", valid_until=None)
    ops.revoke(world["reviewer_a"], revoked, "Cơ sở đã chấm dứt hoạt động bức xạ")
    # Valid until yesterday in Vietnam: expired, though it may still be yesterday in UTC.
    yesterday = today - timedelta(days=1)
    expired = make_result(world, pdfs[4], reviewer="reviewer_a", document_number="5/GP-SKHCN",
                          valid_until=f"{yesterday:%d/%m/%Y}")
    # Valid until today in Vietnam: valid all of today, though it may be tomorrow in the machine's zone.
    last_day = make_result(world, pdfs[8], reviewer="reviewer_a", document_number="9/GP-SKHCN",
                           valid_until=f"{today:%d/%m/%Y}")
    old = make_result(world, pdfs[5], reviewer="reviewer_a", document_number="6/GP-SKHCN", valid_until=None)
    make_result(world, pdfs[6], reviewer="reviewer_a", document_number="7/GP-SKHCN", valid_until=None, replaces=old)

    login(client, "holder_a")
    for result, words in ((revoked, "đã bị thu hồi nên không được cấp bản sao. Lý do: Cơ sở đã chấm dứt"),
                          (expired, f"đã hết hiệu lực (hiệu lực đến hết ngày {yesterday:%d/%m/%Y})"),
                          (old, "đã được thay thế bằng một kết quả khác nên không được cấp bản sao. "
                                "Hãy xin bản sao của kết quả thay thế (7/GP-SKHCN)")):
        page = client.get(f"/me/results/{result.code}").get_data(as_text=True)
        assert words in page and "Xin cấp bản sao điện tử…</a>" not in page
        assert words in _refusal(client, result)
        token = csrf_token(client, "/me/results")
        answer = client.post(f"/api/v1/me/results/{result.code}/copies", headers={"X-CSRFToken": token})
        assert answer.status_code == 422 and words in answer.get_json()["message"]
    assert db.session.scalar(select(CertifiedCopy.id)) is None
    assert "Xin cấp bản sao điện tử…</a>" in client.get(f"/me/results/{last_day.code}").get_data(as_text=True)
    assert issue(client, last_day).result_id == last_day.id


def test_only_the_holder_can_ask_for_a_copy(client, world, published, pdfs):
    draft = make_result(world, pdfs[7], document_number="8/GP-SKHCN")
    others = make_result(world, pdfs[8], reviewer="reviewer_a", holder_id=CCCD_B, document_number="9/GP-SKHCN")
    login(client, "holder_a")
    token = csrf_token(client, "/me/results")
    for result in (draft, others):
        assert client.post(f"/me/results/{result.code}/copies", data={"csrf_token": token}).status_code == 404
        assert client.post(f"/api/v1/me/results/{result.code}/copies",
                           headers={"X-CSRFToken": token}).status_code == 404
    # The form needs its CSRF token; the API needs it as a header when it rides on the session.
    assert client.post(f"/me/results/{published.code}/copies").status_code == 400
    assert client.post(f"/api/v1/me/results/{published.code}/copies").status_code == 400
    client.post("/logout", data={"csrf_token": csrf_token(client, "/me/results")})

    login(client, "staff_a")
    token = csrf_token(client, "/admin/results")
    assert client.post(f"/me/results/{published.code}/copies", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/api/v1/me/results/{published.code}/copies").status_code == 403  # no store of their own
    assert db.session.scalar(select(CertifiedCopy.id)) is None


def test_the_api_issues_a_copy_and_lists_it(client, world, published):
    login(client, "holder_a")
    token = csrf_token(client, "/me/results")
    answer = client.post(f"/api/v1/me/results/{published.code}/copies", headers={"X-CSRFToken": token})
    assert answer.status_code == 201
    body = answer.get_json()
    assert re.fullmatch(r"([2-9A-HJ-NP-Z]{4}-){3}[2-9A-HJ-NP-Z]{4}", body["verification_code"])
    assert body["result_code"] == published.code and body["pages"] == 3
    pdf = client.get(body["download_url"].replace("http://localhost", ""))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    listed = client.get("/api/v1/me/copies").get_json()
    assert [c["verification_code"] for c in listed["copies"]] == [body["verification_code"]]
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/me/results/{code}/copies", "/api/v1/verify/{verification_code}"} <= set(spec["paths"])


# --- who sees copies -------------------------------------------------------------------------------

def test_copies_are_the_holders_own_on_every_route(app, client, world, published):
    from portal.operations import accounts

    login(client, "holder_a")
    copy = issue(client, published)
    urls = [f"/me/copies/{copy.verification_code}.pdf"]
    client.post("/logout", data={"csrf_token": csrf_token(client, "/me/results")})

    accounts.create_user(None, "holder_b", "holder", PASSWORD, holder_id=CCCD_B)
    accounts.create_user(None, "business", "holder", PASSWORD, holder_id=MST_C)
    for who in ("holder_b", "business", "staff_a", "admin"):
        other = app.test_client()
        login(other, who)
        for url in urls:
            assert other.get(url).status_code == 404, (who, url)
        if who in ("holder_b", "business"):
            listed = other.get("/me/copies").get_data(as_text=True)
            assert copy.display_code not in listed
            assert other.get("/api/v1/me/copies").get_json()["copies"] == []
    assert app.test_client().get(urls[0]).status_code == 302  # anonymous: to the login page


def test_a_business_member_sees_the_copies_a_colleague_asked_for(client, world, pdfs):
    from portal.operations import accounts

    accounts.create_user(None, "ketoan", "holder", PASSWORD, holder_id=MST_C)
    accounts.create_user(None, "giamdoc", "holder", PASSWORD, holder_id=MST_C)
    result = make_result(world, pdfs[9], reviewer="reviewer_a", holder_id=MST_C, holder_name="Công ty TNHH ABC",
                         document_number="10/GP-SKHCN", valid_until=None)
    login(client, "ketoan")
    copy = issue(client, result)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/me/results")})
    login(client, "giamdoc")
    assert copy.display_code in client.get("/me/copies").get_data(as_text=True)
    assert client.get(f"/me/copies/{copy.verification_code}.pdf").status_code == 200


# --- verification --------------------------------------------------------------------------------

@at_every_instant
def test_anyone_verifies_a_copy_and_sees_only_what_a_verifier_needs(clock, client, world, published):
    from portal.operations import results as ops

    login(client, "holder_a")
    copy = issue(client, published)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/me/results")})

    for code in (copy.verification_code, copy.display_code, copy.display_code.lower()):
        page = client.get(f"/verify/{code}")
        assert page.status_code == 200
    text = page.get_data(as_text=True)
    for words in (copy.register_number, "3/GP-SKHCN", "Phòng Quản lý chuyên ngành", "Còn hiệu lực",
                  "P*** M*** K****", copy.sha256, "còn hiệu lực hôm nay"):
        assert words in text, words
    assert "Phạm Minh Khánh" not in text and CCCD_A not in text and published.summary not in text

    api = client.get(f"/api/v1/verify/{copy.display_code}").get_json()
    assert api["register_number"] == copy.register_number and api["sha256"] == copy.sha256
    assert api["result"]["valid_today"] is True and api["result"]["status"] == "published"
    assert api["holder_name"] == "P*** M*** K****"

    # Revoked after the copy was issued: the copy shows the result as revoked, from that day.
    ops.revoke(world["reviewer_a"], published, "Cơ sở đã chấm dứt hoạt động bức xạ")
    api = client.get(f"/api/v1/verify/{copy.verification_code}").get_json()
    assert api["result"]["status"] == "revoked" and api["result"]["valid_today"] is False
    assert api["result"]["revoked_on"] == vietnam_now().date().isoformat()  # the day in Vietnam
    assert api["issued_at"] == copy.issued_at.astimezone(VIETNAM).isoformat(timespec="seconds")
    assert "đã bị thu hồi" in client.get(f"/verify/{copy.verification_code}").get_data(as_text=True)

    # Unknown codes: a plain "not found", the same for nonsense.
    for code in ("ABCDEFGHJKLMNPQR", "nonsense", "<script>"):
        page = client.get(f"/verify/{code}")
        assert page.status_code == 404 and "Không tìm thấy bản sao" in page.get_data(as_text=True)
        assert "<script>" not in page.get_data(as_text=True)
        assert client.get(f"/api/v1/verify/{code}").status_code == 404

    # Every look is in the audit trail, and the holder sees it in "who looked".
    looks = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "copy.verify",
                                                        AuditEvent.result_id == published.id)).all()
    assert len(looks) >= 5
    login(client, "holder_a")
    assert "Xác thực bản sao" in client.get("/me/access").get_data(as_text=True)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_uploaded_file_is_checked_against_the_register_and_its_signature(client, world, published, pdfs):
    login(client, "holder_a")
    copy = issue(client, published)
    data = copy_bytes(client, copy)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/me/results")})

    def check(content: bytes, name="ban-sao.pdf") -> str:
        token = csrf_token(client, f"/verify/{copy.verification_code}")
        page = client.post(f"/verify/{copy.verification_code}", data={"csrf_token": token,
                           "file": (io.BytesIO(content), name)}, content_type="multipart/form-data")
        assert page.status_code == 200
        return page.get_data(as_text=True)

    exact = check(data)
    assert "Đúng là bản sao đã cấp" in exact and "Chữ ký số còn nguyên vẹn." in exact
    assert "Chứng thư số được tin cậy." in exact and "Được ký bằng chứng thư số của Sở" in exact
    assert "Người ký: Sở Khoa học và Công nghệ tỉnh Quảng Ngãi, lúc" in exact

    altered = bytearray(data)
    altered[len(data) // 2] ^= 0x01
    page = check(bytes(altered))
    assert "Không phải bản sao đã cấp" in page and "Chữ ký số không còn nguyên vẹn" in page

    appended = check(data + b"\n% a comment added after signing\n")
    assert "Không phải bản sao đã cấp" in appended

    assert "Tệp không có chữ ký số." in check(pdfs[2])
    assert "Tệp không phải PDF đọc được." in check(b"this is not a pdf at all")
    assert "Chưa chọn tệp." in check(b"", name="")

    uploads = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "copy.verify")).all()
    assert [e.details.get("matches") for e in uploads if e.details.get("upload")] == [True, False, False, False,
                                                                                      False]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_answer_to_an_upload_comes_first_and_a_failed_one_under_no_green_banner(client, world, published, pdfs):
    login(client, "holder_a")
    copy = issue(client, published)
    data = copy_bytes(client, copy)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/me/results")})

    def upload(content: bytes, name="ban-sao.pdf") -> str:
        token = csrf_token(client, f"/verify/{copy.verification_code}")
        return client.post(f"/verify/{copy.verification_code}", data={"csrf_token": token, "file": (
            io.BytesIO(content), name)}, content_type="multipart/form-data").get_data(as_text=True)

    def main(page: str) -> str:
        return page[page.index('<main id="main">'):]

    facts = "<dt>Số vào sổ</dt>"
    for wrong in (upload(pdfs[2]), upload(data + b"\n% added after signing\n"), upload(b"", name="")):
        page = main(wrong)
        answer = min(page.index(words) for words in ("Không phải bản sao đã cấp", "Chưa chọn tệp.") if words in page)
        validity = page.find("còn hiệu lực hôm nay")  # absent under a refused upload: no answers then
        assert answer < page.index(facts) and (validity == -1 or answer < validity)
        assert "flash success" not in page  # nothing green on a page whose answer is no
    right = main(upload(data))
    assert right.index("Đúng là bản sao đã cấp") < right.index(facts)
    assert right.index("Đúng là bản sao đã cấp") < right.index("Bản sao này có trong sổ")

    # Revoked since: the right file is still the copy, and the answer says the document is revoked.
    from portal.operations import results as ops

    ops.revoke(world["reviewer_a"], published, "Cơ sở đã chấm dứt hoạt động bức xạ")
    revoked = main(upload(data))
    assert revoked.index("Đúng là bản sao đã cấp") < revoked.index("đã bị thu hồi") < revoked.index(facts)


def test_verification_is_rate_limited(db_url, tmp_path, world, published, signing_keys):
    limited = make_app(db_url, tmp_path / "limited", RATELIMIT_ENABLED=True, VERIFY_RATE_LIMIT="3 per minute",
                       **signing_keys)
    client = limited.test_client()
    codes = [client.get("/verify/ABCDEFGHJKLMNPQR").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    assert client.get("/api/v1/verify/ABCDEFGHJKLMNPQR").status_code == 429


def test_signing_key_command_makes_the_demo_pair_once(tmp_path, db_url):
    app = make_app(db_url, tmp_path / "data")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["signing-key"])
    assert first.exit_code == 0 and "Generated the DEMO signing key" in first.output
    again = runner.invoke(args=["signing-key"])
    assert again.exit_code == 0 and "Using the DEMO signing key" in again.output
    assert (tmp_path / "data" / "signing" / "demo-signer.p12").is_file()
    # The demo CA also made a time-stamping authority, and its certificates say where its CRL is.
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import pkcs12

    from portal.copies.keys import DEMO_PASSWORD

    for name in ("demo-signer.p12", "demo-tsa.p12"):
        cert = pkcs12.load_key_and_certificates((tmp_path / "data" / "signing" / name).read_bytes(),
                                                DEMO_PASSWORD.encode())[1]
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        assert points[0].full_name[0].value == f"{app.config['DEMO_PKI_URL']}/demo-ca.crl"
    missing = make_app(db_url, tmp_path / "data2", SIGNING_P12=str(tmp_path / "nope.p12")).test_cli_runner()
    result = missing.invoke(args=["signing-key"])
    assert result.exit_code != 0 and "missing file" in result.output


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_rotated_or_offset_original_page_is_carried_over_as_it_is_shown(client, world, pdfs, tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdfs[2])))
    writer.pages[0].rotate(90)
    writer.pages[1].mediabox.lower_left = (50, 50)  # an origin that is not (0, 0)
    writer.pages[1].mediabox.upper_right = (645, 892)
    scan = io.BytesIO()
    writer.write(scan)
    result = make_result(world, scan.getvalue(), reviewer="reviewer_a", valid_until=None,
                         document_number="11/GP-SKHCN")
    login(client, "holder_a")
    data = copy_bytes(client, issue(client, result))
    (tmp_path / "rotated.pdf").write_bytes(data)
    reader = PdfReader(io.BytesIO(data))
    first, second = reader.pages[1], reader.pages[2]
    assert (float(first.mediabox.width), float(first.mediabox.height)) == pytest.approx((841.89, 595.28), abs=0.1)
    assert (float(second.mediabox.width), float(second.mediabox.height)) == pytest.approx((595, 842), abs=0.1)
    original = PdfReader(io.BytesIO(pdfs[2]))
    for copied, source in ((first, original.pages[0]), (second, original.pages[1])):
        assert source.extract_text().split("\n")[0] in copied.extract_text()


# Each page of a copy says "Trang i/n", read back by three readers, wholly on the page.
PAGE_STAMP = re.compile(r"Trang\s*(\d+)\s*/\s*(\d+)")
STAMP_START = "Bản sao điện tử từ sổ gốc"


def _originals_of_every_shape() -> bytes:
    """Seven pages of different sizes, turned and offset as scanners and editors leave them."""
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import RectangleObject

    from portal.demo.documents import FONTS

    drawn = FPDF(unit="pt")
    drawn.add_font("Sans", "", str(FONTS / "DejaVuSans.ttf"))
    drawn.set_font("Sans", size=11)
    shapes = [(595, 842), (595, 842), (1191, 842), (420, 595), (612, 792), (200, 400), (595, 842)]
    for n, (width, height) in enumerate(shapes, start=1):
        drawn.add_page(format=(width, height))
        drawn.text(20, 40, f"Bản chính, tờ số {n}")
        drawn.text(20, height - 20, f"Chân tờ số {n}")  # content down to the foot, as scans have
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(drawn.output()))))
    pages = writer.pages
    pages[1].rotate(90)
    pages[2].mediabox = RectangleObject((100, 50, 1291, 892))  # an origin that is not (0, 0)
    pages[3].rotate(270)
    pages[4].cropbox = RectangleObject((36, 36, 576, 756))  # shown smaller than its media box
    pages[6].cropbox = RectangleObject((50, 100, 545, 742))
    pages[6].rotate(180)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _shown_size(page) -> tuple[float, float]:
    """pypdf: a page's visible box (crop within media), turned by its /Rotate."""
    media, crop = page.mediabox, page.cropbox
    width = min(media.right, crop.right) - max(media.left, crop.left)
    height = min(media.top, crop.top) - max(media.bottom, crop.bottom)
    return (float(height), float(width)) if page.rotation % 180 else (float(width), float(height))


def assert_every_page_says_its_number(data: bytes, tmp_path) -> int:
    """Page i of n says "Trang i/n" and no other, for pypdf, PDFium and poppler, and PDFium puts
    every glyph of the stamp inside the page's visible box. Answers n."""
    import subprocess

    import pypdfium2
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(data)).pages
    document = pypdfium2.PdfDocument(data)
    path = tmp_path / "copy-read-back.pdf"
    path.write_bytes(data)
    total = len(pages)
    assert len(document) == total
    for i in range(1, total + 1):
        expected = [(str(i), str(total))]
        assert PAGE_STAMP.findall(pages[i - 1].extract_text()) == expected, ("pypdf", i)
        poppler = subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), "-enc", "UTF-8", str(path), "-"],
                                 capture_output=True, text=True, check=True).stdout
        assert PAGE_STAMP.findall(poppler) == expected, ("poppler", i)
        page = document[i - 1]
        textpage = page.get_textpage()
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count, force_this=True)  # all of it, not only what is on the page
        assert PAGE_STAMP.findall(text) == expected, ("PDFium", i)
        start = text.rfind(STAMP_START)
        end = PAGE_STAMP.search(text, start).end()
        left, bottom, right, top = page.get_bbox()  # the media box within the crop box
        for index in range(start, end):
            if not text[index].isspace():
                x0, y0, x1, y1 = textpage.get_charbox(index)
                assert left <= x0 < x1 <= right and bottom <= y0 < y1 <= top, (i, text[index], (x0, y0, x1, y1))
    return total


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_page_of_a_copy_says_trang_i_of_n_wholly_inside_the_page(client, world, published, tmp_path):
    from pypdf import PdfReader

    original = _originals_of_every_shape()
    shaped = make_result(world, original, reviewer="reviewer_a", valid_until=None, document_number="13/GP-SKHCN")
    login(client, "holder_a")
    # The issue's case: a three-page copy; then pages of every shape.
    assert assert_every_page_says_its_number(copy_bytes(client, issue(client, published)), tmp_path) == 3
    data = copy_bytes(client, issue(client, shaped))
    assert assert_every_page_says_its_number(data, tmp_path) == 8
    copied, source = PdfReader(io.BytesIO(data)).pages, PdfReader(io.BytesIO(original)).pages
    for n, page in enumerate(source, start=1):
        # Each page keeps the size it was shown at, and what was shown of it.
        assert _shown_size(copied[n]) == pytest.approx(_shown_size(page), abs=0.05), n
        assert f"Bản chính, tờ số {n}" in copied[n].extract_text()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_certification_running_over_two_pages_is_counted_in_every_stamp(client, world, pdfs, tmp_path):
    from pypdf import PdfReader

    long_summary = "Giấy phép tiến hành công việc bức xạ cho các thiết bị sau: " + "; ".join(
        f"thiết bị X-quang chẩn đoán số {n} đặt tại phòng khám số {n}, phường Trần Phú" for n in range(1, 60))
    result = make_result(world, pdfs[2], reviewer="reviewer_a", valid_until=None, document_number="14/GP-SKHCN",
                         summary=long_summary)
    login(client, "holder_a")
    copy = issue(client, result)
    data = copy_bytes(client, copy)
    total = assert_every_page_says_its_number(data, tmp_path)
    certification = total - 2
    assert certification >= 2 and copy.page_count == total
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages[:certification])
    assert f"{total} trang ({certification} trang chứng nhận này và 2 trang của bản chính)" in " ".join(text.split())
    original = PdfReader(io.BytesIO(pdfs[2])).pages
    for n in (1, 2):  # the original's pages come after the whole certification
        assert original[n - 1].extract_text().split("\n")[0] in PdfReader(io.BytesIO(data)).pages[
            certification + n - 1].extract_text()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_copy_claims_pdfa_only_when_its_original_embeds_its_fonts(client, world, pdfs):
    from fpdf import FPDF
    from pypdf import PdfReader

    plain = FPDF()
    plain.add_page()
    plain.set_font("Helvetica", size=12)  # one of the reader's base fonts: not embedded
    plain.cell(text="Giay phep 12/GP-SKHCN")
    result = make_result(world, bytes(plain.output()), reviewer="reviewer_a", valid_until=None,
                         document_number="12/GP-SKHCN")
    login(client, "holder_a")
    reader = PdfReader(io.BytesIO(copy_bytes(client, issue(client, result))))
    root = reader.trailer["/Root"]
    assert "/OutputIntents" not in root
    assert "pdfaid" not in (root["/Metadata"].get_object().get_data().decode() if "/Metadata" in root else "")
    assert "Giay phep 12/GP-SKHCN" in reader.pages[1].extract_text()


def test_staff_see_their_units_register_of_copies(app, client, world, published):
    login(client, "holder_a")
    copy = issue(client, published)
    for who, sees in (("staff_a", True), ("reviewer_a", True), ("admin", True), ("staff_b", False)):
        other = app.test_client()
        login(other, who)
        page = other.get("/admin/copies").get_data(as_text=True)
        assert (copy.register_number in page) is sees, who
    assert client.get("/admin/copies").status_code == 404  # holders have no admin pages


def test_a_failure_in_the_rendering_process_is_a_clear_message_not_a_crash():
    from portal.copies import worker
    from portal.copies.pdf import CopyFailed

    with pytest.raises(CopyFailed, match="chưa tạo được tệp PDF"):
        worker.run(int, "not a number")  # raises ValueError over there
    assert worker.run(int, "42") == 42  # and the process is still there for the next one
