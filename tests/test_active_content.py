"""PDFs that a reader would run or open something from (scripts, programs, other files) are
refused at upload and at import, with a message that says what was found (issue 12, item 16)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import ImportRow, Result, StoredFile
from portal.scans import ScanError, refuse_active_content
from portal.storage import storage

from .active_pdfs import ACTIONS, HARMLESS, with_action
from .conftest import login, upload
from .test_import import row, write_csv

SCRIPT = "mã JavaScript"
EXPECTED = {
    "open-action-javascript": SCRIPT, "catalog-aa-javascript": SCRIPT, "names-javascript": SCRIPT,
    "page-aa-javascript": SCRIPT, "link-javascript": SCRIPT, "annotation-aa-javascript": SCRIPT,
    "form-field-javascript": SCRIPT, "bookmark-javascript": SCRIPT, "next-javascript": SCRIPT,
    "launch": "(Launch)", "submit-form": "(SubmitForm)", "import-data": "(ImportData)", "goto-remote": "(GoToR)",
    "uri-on-open": "tự mở địa chỉ web (không cần bấm)",
    "uri-shared-by-a-link-and-an-event": "tự mở địa chỉ web", "deep-chain-ending-in-javascript": SCRIPT,
    "rich-media": "đa phương tiện", "embedded-file": "tệp đính kèm",
    "file-attachment-annotation": "tệp đính kèm", "xfa": "biểu mẫu XFA",
}


@pytest.mark.parametrize("object_streams", [False, True], ids=["plain", "object-streams"])
@pytest.mark.parametrize("kind", sorted(ACTIONS))
def test_each_kind_of_action_is_found_wherever_it_is_written(tmp_path, pdfs, kind, object_streams):
    path = tmp_path / "scan.pdf"
    path.write_bytes(with_action(pdfs[0], kind, object_streams=object_streams))
    with pytest.raises(ScanError) as refused:
        refuse_active_content(path)
    message = str(refused.value)
    assert message.startswith("Tệp PDF có ") and EXPECTED[kind] in message.split(":")[0], message
    assert "không nhận tệp có nội dung mà trình đọc PDF tự chạy hoặc tự mở" in message


@pytest.mark.parametrize("kind", sorted(HARMLESS))
def test_moving_inside_the_document_and_a_link_to_click_are_kept(tmp_path, pdfs, kind):
    path = tmp_path / "scan.pdf"
    path.write_bytes(with_action(pdfs[0], kind))
    refuse_active_content(path)  # no error


def test_the_demo_scans_have_nothing_to_refuse(tmp_path, pdfs):
    for n, pdf in enumerate(pdfs):
        (tmp_path / f"{n}.pdf").write_bytes(pdf)
        refuse_active_content(tmp_path / f"{n}.pdf")


def test_an_upload_with_a_script_is_refused_and_nothing_is_stored(client, world, pdfs):
    login(client, "staff_a")
    response = upload(client, with_action(pdfs[0], "open-action-javascript"), "giay-phep.pdf")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Tệp PDF có mã JavaScript" in page
    assert db.session.scalar(select(func.count(StoredFile.id))) == 0
    assert not [p for p in (storage().root / "tmp").rglob("*") if p.is_file()]
    assert upload(client, with_action(pdfs[0], "link-to-a-website"), "giay-phep.pdf").status_code == 302


def test_an_import_reports_the_row_and_keeps_the_others(app, world, pdfs, tmp_path):
    folder = tmp_path / "batch"
    (folder / "scans").mkdir(parents=True)
    (folder / "scans" / "1.pdf").write_bytes(pdfs[0])
    (folder / "scans" / "2.pdf").write_bytes(with_action(pdfs[1], "launch", object_streams=True))
    (folder / "scans" / "3.pdf").write_bytes(with_action(pdfs[2], "embedded-file"))
    manifest = write_csv(folder / "lo.csv", [row(1), row(2), row(3)])
    done = app.test_cli_runner().invoke(args=["import-batch", str(manifest), "--files", str(folder)])
    assert done.exit_code == 3, done.output
    assert db.session.scalars(select(Result.document_number)).all() == ["1/GP-SKHCN"]
    failed = select(ImportRow.line, ImportRow.message).where(ImportRow.status == "failed")
    messages = dict(db.session.execute(failed).all())
    assert "lệnh mở chương trình hoặc tệp khác (Launch)" in messages[3]
    assert "tệp đính kèm bên trong" in messages[4]
