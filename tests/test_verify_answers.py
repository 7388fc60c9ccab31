"""Verification says three things apart (issue 17, item 2): the file is intact and its signature
valid; the register knows the code and the result is valid today; the signer is the department,
chained to the trust roots. Each answer is made to fail alone, on the page and in the API, and a
bank is told what it may rely on only when all three pass."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from portal.extensions import db

from .conftest import csrf_token, make_app, make_result, vietnam_now

ALL_PASS = "Có thể tin cậy:"
RELY = "có giá trị sử dụng thay cho bản chính"


@pytest.fixture
def copy(clock, world, pdfs):
    from portal.operations.copies import issue_copy

    result = make_result(world, pdfs[2], reviewer="reviewer_a", valid_until=None, document_number="3/GP-SKHCN")
    return issue_copy(world["holder_a"], result)


def stored(copy) -> bytes:
    from portal.storage import storage

    return storage().path_for(copy.sha256).read_bytes()


def upload(client, copy, content: bytes) -> str:
    token = csrf_token(client, f"/verify/{copy.verification_code}")
    response = client.post(f"/verify/{copy.verification_code}", data={
        "csrf_token": token, "file": (io.BytesIO(content), "ban-sao.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def answers(page: str) -> dict[str, str]:
    """Each answer's block of the page, by its key, and the verdict above them."""
    found = {key: page[page.index(f'id="answer-{key}"'):].split("</li>\n", 1)[0]
             for key in ("file", "register", "signer")}
    found["verdict"] = page[page.index('id="answer-title"'):page.index('class="verify-answers')]
    return found


def passed(block: str) -> bool:
    assert ("✓ Đạt." in block) != ("✗ Không đạt." in block), block
    return "✓ Đạt." in block


def in_signed_range(data: bytes) -> bytes:
    """The file with one byte changed inside the part the signature covers (an object's /Type
    key: the file still reads, its signature no longer matches)."""
    first = [int(n) for n in re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)", data).groups()]
    position = data.index(b"/Type /Page") + 1
    assert first[0] <= position < first[0] + first[1]
    changed = bytearray(data)
    changed[position] ^= 0x01
    return bytes(changed)


def test_all_three_pass_on_the_page_the_api_and_an_upload(client, copy):
    page = client.get(f"/verify/{copy.verification_code}").get_data(as_text=True)
    parts = answers(page)
    assert all(passed(parts[key]) for key in ("file", "register", "signer"))
    assert ALL_PASS in parts["verdict"] and RELY in parts["verdict"] and "flash success" in parts["verdict"]
    assert "Tệp bản sao Sở lưu giữ nguyên vẹn, chữ ký số hợp lệ." in parts["file"]
    # No timestamp in this copy: said so, and the signer's own clock is not taken for proof.
    assert "Không có thời điểm tin cậy" in parts["file"] and "do bên ký tự ghi" in parts["file"]
    assert "còn hiệu lực hôm nay" in parts["register"] and copy.register_number in parts["register"]
    assert "bằng đúng chứng thư số Sở đã dùng khi cấp bản sao này" in parts["signer"]

    api = client.get(f"/api/v1/verify/{copy.display_code}").get_json()
    assert api["register_number"] == copy.register_number and api["result"]["valid_today"] is True  # kept
    assert api["reliable"] is True and RELY in api["reliance"]
    checks = api["checks"]
    assert checks["source"] == "register"
    assert {key: checks[key]["ok"] for key in ("file", "register", "signer")} == {
        "file": True, "register": True, "signer": True}
    file = checks["file"]
    assert file["sha256"] == copy.sha256 and file["issued_file"] and file["intact"] and file["whole_file"]
    assert file["timestamped"] is False and file["timestamp_at"] is None and file["valid_when_signed"] is None
    assert file["says"].startswith("Tệp bản sao Sở lưu giữ nguyên vẹn")
    assert checks["register"]["status"] == "published" and checks["register"]["since"] is None
    signer = checks["signer"]
    assert signer["trusted"] and signer["recorded_certificate"] and signer["names_department"]
    assert signer["certificate_sha256"] == copy.signer_cert_sha256

    mine = answers(upload(client, copy, stored(copy)))
    assert all(passed(mine[key]) for key in ("file", "register", "signer"))
    assert "Đúng là bản sao đã cấp:" in mine["verdict"] and RELY in mine["verdict"]
    assert "giống từng byte với tệp Sở đã cấp" in mine["file"]


def test_a_file_changed_inside_the_signed_range_fails_the_file_answer_alone(client, copy):
    parts = answers(upload(client, copy, in_signed_range(stored(copy))))
    assert not passed(parts["file"]) and "đã bị sửa sau khi ký" in parts["file"]
    assert passed(parts["register"]) and passed(parts["signer"])
    assert "Không phải bản sao đã cấp:" in parts["verdict"] and "flash error" in parts["verdict"]
    assert "Không được dựa vào tệp này" in parts["verdict"] and RELY not in parts["verdict"]


def test_the_stored_copy_damaged_on_disk_fails_the_file_answer_alone(client, copy):
    from portal.storage import storage

    path = storage().path_for(copy.sha256)
    path.chmod(0o644)
    path.write_bytes(in_signed_range(path.read_bytes()))

    parts = answers(client.get(f"/verify/{copy.verification_code}").get_data(as_text=True))
    assert not passed(parts["file"]) and "không còn giống tệp đã ghi trong sổ" in parts["file"]
    assert passed(parts["register"]) and passed(parts["signer"])  # its signature still names the department
    assert ALL_PASS not in parts["verdict"] and "Không được dựa vào tệp bản sao lúc này" in parts["verdict"]
    checks = client.get(f"/api/v1/verify/{copy.verification_code}").get_json()["checks"]
    assert (checks["file"]["ok"], checks["register"]["ok"], checks["signer"]["ok"]) == (False, True, True)
    assert checks["file"]["damaged"] is True and checks["file"]["intact"] is False
    # The damage is the operators' to mend: it is in the audit trail like any damaged file met.
    from sqlalchemy import select

    from portal.models import AuditEvent

    assert db.session.scalars(select(AuditEvent).where(AuditEvent.target == copy.sha256,
                                                       AuditEvent.action.like("file.%"))).first()


def test_the_result_revoked_fails_the_register_answer_alone_with_its_date_and_reason(client, world, copy):
    from portal.operations import results as ops

    ops.revoke(world["reviewer_a"], copy.result, "Cơ sở đã chấm dứt hoạt động bức xạ")
    day = vietnam_now().date()

    parts = answers(client.get(f"/verify/{copy.verification_code}").get_data(as_text=True))
    assert passed(parts["file"]) and passed(parts["signer"]) and not passed(parts["register"])
    assert f"đã bị thu hồi ngày {day:%d/%m/%Y}" in parts["register"]
    assert "Lý do: Cơ sở đã chấm dứt hoạt động bức xạ." in parts["register"]
    assert "không dựa vào văn bản được sao như một văn bản còn hiệu lực hôm nay" in parts["verdict"].replace(
        "Không được dựa", "không dựa")
    # Nothing green above the failed answer: the verdict is red and the passed answers plain.
    verdict_and_answers = parts["verdict"] + parts["file"]
    assert "flash success" not in verdict_and_answers and "verify-answers reliable" not in verdict_and_answers

    mine = answers(upload(client, copy, stored(copy)))
    assert passed(mine["file"]) and passed(mine["signer"]) and not passed(mine["register"])
    assert "Đúng là bản sao đã cấp:" in mine["verdict"] and "flash error" in mine["verdict"]

    checks = client.get(f"/api/v1/verify/{copy.verification_code}").get_json()["checks"]
    assert (checks["file"]["ok"], checks["register"]["ok"], checks["signer"]["ok"]) == (True, False, True)
    assert checks["register"]["status"] == "revoked" and checks["register"]["since"] == day.isoformat()
    assert checks["register"]["reason"] == "Cơ sở đã chấm dứt hoạt động bức xạ"


def test_trust_roots_without_the_department_s_ca_fail_the_signer_answer_alone(db_url, tmp_path, app, copy,
                                                                            signing_keys):
    from portal.copies.keys import ensure_demo_keys

    other = tmp_path / "other-root"
    ensure_demo_keys(other, "Sở giả mạo", "Quảng Ngãi")
    elsewhere = make_app(db_url, Path(app.config["PORTAL_DATA_DIR"]),
                         **{**signing_keys, "TRUST_ROOTS": str(other / "demo-ca.pem")})
    code = copy.verification_code
    with elsewhere.app_context():
        client = elsewhere.test_client()
        parts = answers(client.get(f"/verify/{code}").get_data(as_text=True))
        assert passed(parts["file"]) and passed(parts["register"]) and not passed(parts["signer"])
        assert "không dẫn tới tổ chức chứng thực nào" in parts["signer"]
        assert "Không được dựa vào chữ ký số như chữ ký của" in parts["verdict"]
        checks = client.get(f"/api/v1/verify/{code}").get_json()["checks"]
        assert (checks["file"]["ok"], checks["register"]["ok"], checks["signer"]["ok"]) == (True, True, False)
        assert checks["signer"]["trusted"] is False and checks["signer"]["recorded_certificate"] is True
        db.session.remove()
        db.engine.dispose()


def test_another_genuine_copy_uploaded_under_this_code_is_not_this_copy(client, world, copy, pdfs):
    """Signed by the department, intact, but not a file this register line issued."""
    from portal.operations.copies import issue_copy

    second = issue_copy(world["holder_a"], copy.result)
    parts = answers(upload(client, copy, stored(second)))
    assert not passed(parts["file"]) and "khác với mọi tệp Sở đã cấp cho mã này" in parts["file"]
    assert passed(parts["register"]) and passed(parts["signer"])


def test_the_api_describes_the_three_answers(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    verification = schemas["Verification"]
    assert {"checks", "reliable", "reliance"} <= set(verification["required"])
    assert {"verification_code", "register_number", "result", "holder_name"} <= set(verification["properties"])
    assert {"file", "register", "signer"} <= set(schemas["Checks"]["properties"])
    for name in ("FileAnswer", "RegisterAnswer", "SignerAnswer"):
        assert {"ok", "says"} <= set(schemas[name]["required"]), name
    assert {"timestamp_at", "timestamp_authority", "valid_when_signed", "long_term"} <= set(
        schemas["FileAnswer"]["properties"])


def test_a_stored_copy_file_gone_answers_the_register_and_says_the_file_is_not_checked(client, copy):
    from portal.storage import storage

    storage().path_for(copy.sha256).unlink()
    response = client.get(f"/verify/{copy.verification_code}")
    assert response.status_code == 200
    parts = answers(response.get_data(as_text=True))
    assert not passed(parts["file"]) and "Không tìm thấy tệp bản sao Sở lưu giữ" in parts["file"]
    assert passed(parts["register"]) and not passed(parts["signer"])
    assert client.get(f"/api/v1/verify/{copy.verification_code}").get_json()["checks"]["file"]["damaged"] is True


def test_a_replaced_or_expired_result_says_since_when_and_by_what(clock, client, world, copy, pdfs):
    from datetime import date, timedelta

    make_result(world, pdfs[6], reviewer="reviewer_a", document_number="7/GP-SKHCN", valid_until=None,
                replaces=copy.result)
    day = vietnam_now().date()
    register = answers(client.get(f"/verify/{copy.verification_code}").get_data(as_text=True))["register"]
    assert not passed(register)
    assert f"đã được thay thế từ ngày {day:%d/%m/%Y} bằng văn bản số 7/GP-SKHCN" in register
    checks = client.get(f"/api/v1/verify/{copy.verification_code}").get_json()["checks"]
    assert checks["register"]["status"] == "replaced" and checks["register"]["replaced_by"] == "7/GP-SKHCN"
    assert checks["register"]["since"] == day.isoformat() and checks["file"]["ok"] and checks["signer"]["ok"]

    from portal.operations.copies import issue_copy

    ending = make_result(world, pdfs[3], reviewer="reviewer_a", document_number="9/GP-SKHCN",
                         valid_until=(day + timedelta(days=2)).strftime("%d/%m/%Y"))
    dated = issue_copy(world["holder_a"], ending)
    clock.shift(timedelta(days=3))
    checks = client.get(f"/api/v1/verify/{dated.verification_code}").get_json()["checks"]
    assert checks["register"]["ok"] is False and checks["register"]["status"] == "expired"
    assert date.fromisoformat(checks["register"]["since"]) == day + timedelta(days=3)
    assert f"hiệu lực đến hết ngày {day + timedelta(days=2):%d/%m/%Y}" in checks["register"]["says"]


def test_the_file_answer_gives_the_timestamp_and_judges_the_certificate_then(app, copy):
    """What validation.check_signature reports of a signature timestamp (filled where the file carries one)
    is said in the file's answer: the proven time and its authority, whether the certificate was
    valid then, and the long-term validation data."""
    from portal.copies.answers import REGISTER, file_answer
    from portal.copies.validation import SignatureCheck

    sealed = SignatureCheck(readable=True, signed=True, intact=True, whole_file=True, trusted=True,
                            signer_cert_sha256=copy.signer_cert_sha256, signed_at="2026-06-15T10:00:00+07:00",
                            timestamped=True, timestamp_at="2026-06-15T10:00:02+07:00",
                            timestamp_authority="TSA thử nghiệm", timestamp_trusted=True, long_term=True,
                            valid_when_signed=True)
    answer = file_answer(copy, sealed, REGISTER, copy.sha256)
    assert answer.ok and answer.details["timestamp_at"] == "2026-06-15T10:00:02+07:00"
    assert ("Dấu thời gian của TSA thử nghiệm xác nhận tệp được ký lúc 10:00:02 ngày 15/06/2026. "
            "Chứng thư số còn hiệu lực lúc đó.") in answer.says
    assert "kiểm tra lâu dài" in answer.says and "Không có thời điểm tin cậy" not in answer.says

    sealed.valid_when_signed, sealed.certificate_problem = False, "Chứng thư số đã bị thu hồi trước thời điểm ký."
    answer = file_answer(copy, sealed, REGISTER, copy.sha256)
    assert not answer.ok and "chứng thư số không còn hiệu lực lúc ký: Chứng thư số đã bị thu hồi" in answer.says
    # Along an untrusted chain the certificate's state then is not judged here: that is the signer's answer.
    sealed.trusted = False
    assert file_answer(copy, sealed, REGISTER, copy.sha256).ok
