"""Staff upload one scanned result: the happy paths and every kind of bad input."""

import io

import pikepdf
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Result, StoredFile
from portal.storage import storage

from .conftest import CCCD_A, image_bytes, login, make_result, upload


def _page(response) -> str:
    return response.get_data(as_text=True)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_pdf_upload_makes_a_draft_with_its_text(client, world, pdfs):
    login(client, "staff_a")
    response = upload(client, pdfs[0], "giay-phep.pdf")
    assert response.status_code == 302
    result = db.session.scalars(select(Result)).one()
    assert result.status == "draft"
    assert result.unit.code == world["staff_a"].unit.code
    assert result.document_number == "125/GP-SKHCN"
    assert result.holder_kind == "person" and result.holder_id == CCCD_A
    assert result.code_generated and result.code.endswith("-KQ1")
    assert result.code.startswith(result.unit.code + "-190315-9001")
    assert result.retention_years is None and result.formed_year == 2019 and result.phase == 2
    document = result.document
    assert document.page_count == 1 and "GIẤY PHÉP TIẾN HÀNH CÔNG VIỆC BỨC XẠ" in document.text
    stored = storage().path_for(document.sha256)
    assert stored.read_bytes() == pdfs[0]
    assert [h.to_status for h in result.history] == ["draft"]
    assert db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()[-1] == "result.create"
    page = _page(client.get(response.headers["Location"]))
    assert "Chờ kiểm tra" in page and result.code in page


def test_dossier_code_gives_the_result_code(client, world, pdfs):
    login(client, "staff_a")
    upload(client, pdfs[0], dossier_code="000.00.21.H48-190315-0012")
    upload(client, pdfs[1], dossier_code="000.00.21.H48-190315-0012", document_number="126/GP-SKHCN")
    codes = db.session.scalars(select(Result.code).order_by(Result.id)).all()
    assert codes == ["000.00.21.H48-190315-0012-KQ1", "000.00.21.H48-190315-0012-KQ2"]


def test_image_scans_become_pdfs_and_the_image_is_kept(client, world):
    login(client, "staff_a")
    for n, (fmt, name) in enumerate([("JPEG", "scan.jpg"), ("PNG", "scan.png"), ("TIFF", "scan.tiff")]):
        content = image_bytes(fmt, color=(10 * n, 80, 120))
        response = upload(client, content, name, document_number=f"{n + 1}/GP-SKHCN")
        assert response.status_code == 302, _page(response)
    for result in db.session.scalars(select(Result)):
        roles = {rf.role: rf.file for rf in result.files}
        assert roles["document"].media_type == "application/pdf" and roles["document"].page_count == 1
        assert roles["source_image"].media_type.startswith("image/")
        pdf = pikepdf.open(storage().path_for(roles["document"].sha256))
        assert len(pdf.pages) == 1


def test_low_resolution_scan_is_refused(client, world):
    login(client, "staff_a")
    response = upload(client, image_bytes("PNG", dpi=96), "scan.png")
    assert response.status_code == 200
    assert "96 dpi; cần tối thiểu 200 dpi" in _page(response)
    assert _count(Result) == 0


def _encrypted(pdf: bytes, user: str = "nguoi-dung") -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.save(out, encryption=pikepdf.Encryption(owner="chu", user=user))
    return out.getvalue()


def test_bad_files_get_a_clear_message_and_nothing_is_stored(client, world, pdfs):
    login(client, "staff_a")
    cases = [
        (image_bytes("PNG"), "scan.pdf", "có đuôi .pdf nhưng nội dung là ảnh PNG"),
        (pdfs[0], "scan.jpg", "có đuôi .jpg nhưng nội dung là tệp PDF"),
        (b"%PDF-1.7\n" + b"\x00garbage" * 50, "scan.pdf", "Không đọc được tệp PDF"),
        (pdfs[0][: len(pdfs[0]) // 3], "cut.pdf", "Không đọc được tệp PDF"),
        # PDFium would rebuild this one
        (pdfs[0][: pdfs[0].rindex(b"\nxref")], "cut-before-xref.pdf", "Không đọc được tệp PDF"),
        (_encrypted(pdfs[0]), "locked.pdf", "mã hóa"),
        (_encrypted(pdfs[0], user=""), "owner-password.pdf", "mã hóa"),  # opens, but may not be copied
        (b"", "empty.pdf", "Tệp rỗng"),
        (b"hello", "notes.txt", "Chỉ nhận tệp PDF"),
        (b"\xff\xd8\xff\xe0broken", "scan.jpg", "Không đọc được ảnh quét"),
    ]
    for content, name, message in cases:
        response = upload(client, content, name)
        assert response.status_code == 200, name
        assert message in _page(response), (name, _page(response)[-3000:])
        # What was typed is still there to correct.
        assert 'value="125/GP-SKHCN"' in _page(response)
    assert _count(Result) == 0 and _count(StoredFile) == 0
    assert not any(storage().tmp.iterdir())


def test_oversized_upload_is_refused(app, client, world, pdfs):
    app.config["MAX_UPLOAD_BYTES"] = 10_000
    login(client, "staff_a")
    response = upload(client, pdfs[0] + b"\n%" + b"x" * 20_000)
    assert response.status_code == 200 and "vượt quá giới hạn" in _page(response)
    # Past the file limit and a form's besides, the body itself is refused before it is read.
    response = upload(client, pdfs[0] + b"\n%" + b"x" * (10_000 + app.config["MAX_FORM_BYTES"]))
    assert response.status_code == 413 and "Tệp quá lớn" in _page(response)
    assert _count(Result) == 0


def test_duplicate_file_names_the_result_that_holds_it(client, world, pdfs):
    login(client, "staff_a")
    upload(client, pdfs[0])
    first = db.session.scalars(select(Result)).one()
    response = upload(client, pdfs[0], document_number="999/GP-SKHCN")
    assert f"Tệp này đã được lưu cho kết quả {first.code}" in _page(response)
    assert _count(Result) == 1


def test_wrong_values_are_explained_in_vietnamese(client, world, pdfs):
    login(client, "staff_a")
    cases = [
        ({"holder_id": "051089004218"[:-1]}, "Số định danh phải là"),
        ({"holder_id": "0100112438"}, "sai chữ số kiểm tra"),
        ({"issue_date": "01/01/2999"}, "nằm ở tương lai"),
        ({"issue_date": "32/01/2020"}, "không hợp lệ"),
        ({"document_number": "GP-SKHCN"}, "không đúng dạng"),
        ({"result_code": "KQ-1"}, "không đúng định dạng"),
        ({"summary": ""}, "Trường này bắt buộc."),
        ({"procedure_code": "9.999999"}, "Lựa chọn không hợp lệ."),
        ({"valid_until": "01/01/2018"}, "Ngày hết hiệu lực phải sau"),
        ({"paper_pages": "3"}, "Bản quét có 1 trang nhưng bản giấy có 3 trang"),
    ]
    for fields, message in cases:
        response = upload(client, pdfs[0], **fields)
        assert response.status_code == 200, fields
        assert message in _page(response), (fields, _page(response)[-2500:])
    assert _count(Result) == 0


def test_result_code_already_taken(client, world, pdfs):
    login(client, "staff_a")
    code = "000.00.21.H48-190315-0012-KQ1"
    assert upload(client, pdfs[0], result_code=code).status_code == 302
    response = upload(client, pdfs[1], result_code=code, document_number="2/GP-SKHCN")
    assert f"Mã kết quả {code} đã được dùng" in _page(response)
    assert _count(Result) == 1


def test_forms_need_the_csrf_token(client, world, pdfs):
    login(client, "staff_a")
    response = client.post("/admin/results/new", data={"file": (io.BytesIO(pdfs[0]), "a.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "mã bảo mật" in _page(response)


def test_staff_cannot_upload_into_another_unit(client, world, pdfs):
    login(client, "staff_a")
    other_unit = world["staff_b"].unit_id
    upload(client, pdfs[0], unit_id=other_unit)
    result = db.session.scalars(select(Result)).one()
    assert result.unit_id == world["staff_a"].unit_id


def test_admin_chooses_the_unit(client, world, pdfs):
    login(client, "admin")
    response = upload(client, pdfs[0], unit_id=world["staff_b"].unit_id)
    assert response.status_code == 302
    assert db.session.scalars(select(Result)).one().unit_id == world["staff_b"].unit_id


def test_edit_a_draft(client, world, pdfs):
    result = make_result(world, pdfs[0])
    login(client, "staff_a")
    token = client.get(f"/admin/results/{result.id}/edit")
    assert token.status_code == 200 and "Trần Văn Hùng" in _page(token)
    from .conftest import csrf_token, result_form

    data = result_form(holder_name="Phạm Minh Khánh (sửa)",
                       csrf_token=csrf_token(client, f"/admin/results/{result.id}/edit"),
                       unit_id=str(result.unit_id), result_code=result.code, issue_date="15/03/2019")
    response = client.post(f"/admin/results/{result.id}/edit", data=data)
    assert response.status_code == 302, _page(response)[-2000:]
    db.session.refresh(result)
    assert result.holder_name == "Phạm Minh Khánh (sửa)"
