"""Retention periods and the archive package (issue 18 item 4): `archive-export` writes a BagIt bag
of a unit's results of a year that bagit validates, with a metadata record per result matching the
database, a PDF/A report, and an entry in the transfer register."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from xml.etree import ElementTree

import bagit
import pytest
from sqlalchemy import select

from portal.archive.package import ACCESS_LEVEL, METADATA_FIELDS
from portal.extensions import db
from portal.models import ArchiveTransfer, AuditEvent, Procedure, Result
from portal.operations import results as result_ops
from portal.storage import storage
from portal.timeutil import to_local

from .conftest import UNIT_A, UNIT_B, csrf_token, login, make_result

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args):
        outcome = runner.invoke(args=[str(a) for a in args])
        db.session.expire_all()  # the command ran in an app context (and a session) of its own
        return outcome

    return run


@pytest.fixture
def pdfa_original(app):
    """A born-digital original that declares PDF/A-2b (WeasyPrint: XMP, output intent, embedded fonts),
    rendered in the rendering process as the portal's own documents are."""
    from portal.copies import worker
    from portal.copies.pdf import render_document

    return worker.run(render_document,
                      "<h1>GIẤY PHÉP TIẾN HÀNH CÔNG VIỆC BỨC XẠ</h1><p>Cấp cho Phòng khám Thiện Nhân.</p>")


@pytest.fixture
def unit_year(world, pdfs, pdfa_original):
    """Unit A's results of 2019: expired, still valid (a PDF/A original), revoked; and what must stay
    out of its package: a draft, a result of 2020, unit B's result of 2019."""
    expired = make_result(world, pdfs[0], reviewer="reviewer_a", document_number="1/GP-SKHCN")
    valid = make_result(world, pdfa_original, reviewer="reviewer_a", document_number="2/GP-SKHCN",
                        issue_date="20/04/2019", valid_until=None)
    revoked = make_result(world, pdfs[2], reviewer="reviewer_a", document_number="3/GP-SKHCN",
                          issue_date="02/12/2019", valid_until=None)
    result_ops.revoke(world["reviewer_a"], revoked, "Cơ sở ngừng sử dụng thiết bị")
    outside = [
        make_result(world, pdfs[3], document_number="4/GP-SKHCN"),  # a draft
        make_result(world, pdfs[4], reviewer="reviewer_a", document_number="5/GP-SKHCN", issue_date="10/01/2020",
                    valid_until=None),
        make_result(world, pdfs[5], staff="staff_b", reviewer="reviewer_b", document_number="6/GP-TĐC"),
    ]
    return [expired, valid, revoked], outside


def _records(out: Path) -> dict[str, dict]:
    return {json.loads(p.read_text(encoding="utf-8"))["result_code"]: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted((out / "data" / "results").glob("*/metadata.json"))}


def test_package_validates_and_holds_the_records_of_the_unit_year(cli, unit_year, tmp_path):
    inside, outside = unit_year
    out = tmp_path / "nop-luu-2019"
    done = cli("archive-export", "--unit", UNIT_A, "--year", 2019, "--out", out)
    assert done.exit_code == 0, done.output
    assert "3 results" in done.output and "not PDF/A" in done.output

    bag = bagit.Bag(str(out))
    bag.validate()  # raises BagValidationError otherwise
    assert set(bag.algorithms) == {"sha256"}
    assert (out / "manifest-sha256.txt").exists() and not (out / "manifest-md5.txt").exists()
    assert bag.info["Unit-Code"] == UNIT_A and bag.info["Year"] == "2019" and bag.info["Result-Count"] == "3"
    assert bag.info["Export-Time"].startswith("2026-06-15T10:") and bag.info["Export-Time"].endswith("+07:00")

    records = _records(out)
    assert set(records) == {r.code for r in inside}
    assert not set(records) & {r.code for r in outside}
    for result in inside:
        db.session.refresh(result)
        record = records[result.code]
        assert all(name in record for name in METADATA_FIELDS)
        assert record["file_code"] == (result.dossier_code or result.code)
        assert record["title"] == result.summary
        assert record["retention"] == "Vĩnh viễn" and record["retention_years"] is None
        assert record["access_level"] == ACCESS_LEVEL
        assert record["page_count"] == result.page_count and record["page_count"] >= 1
        assert record["paper_original_code"] == result.code  # digitized from paper
        assert record["issue_date"] == result.issue_date.isoformat()
        assert record["valid_until"] == (result.valid_until.isoformat() if result.valid_until else None)
        assert record["digitized_at"] == to_local(result.digitized_at).isoformat(timespec="seconds")
        assert record["published_at"] == to_local(result.published_at).isoformat(timespec="seconds")
        assert record["signer"] == {"name": result.signer_name, "title": result.signer_title}
        assert (record["digitizer"], record["checker"]) == ("Cán bộ A", "Kiểm tra A")
        assert record["status"] == result.effective_status()
        assert record["keywords"][0] == result.procedure.field
        (document,) = record["files"]
        assert document["sha256"] == result.document.sha256
        stored = out / document["path"]
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == result.document.sha256
        xml = ElementTree.parse(stored.parent / "metadata.xml").getroot()
        assert xml.findtext("file_code") == record["file_code"] and xml.findtext("title") == result.summary
    expired, valid, revoked = inside
    assert [records[r.code]["status"] for r in inside] == ["expired", "published", "revoked"]

    # The PDF/A report, in the bag: the demo scan is not PDF/A (it declares nothing), the WeasyPrint
    # original is, and says which level.
    report = json.loads((out / "data" / "pdfa-report.json").read_text(encoding="utf-8"))
    named = {item["result_code"]: item for item in report["files"]}
    assert named[valid.code]["conforms"] and named[valid.code]["pdfa"] == "2B"
    assert not named[expired.code]["conforms"]
    assert any("XMP" in problem for problem in named[expired.code]["problems"])
    assert {item["result_code"] for item in report["files"] if not item["conforms"]} == {expired.code, revoked.code}
    text = (out / "data" / "pdfa-report.txt").read_text(encoding="utf-8")
    assert expired.code in text and valid.code not in text
    assert "data/pdfa-report.txt" in bag.entries

    # The transfer register.
    (transfer,) = db.session.scalars(select(ArchiveTransfer)).all()
    assert (transfer.unit.code, transfer.year, transfer.package_name) == (UNIT_A, 2019, "nop-luu-2019")
    assert (transfer.result_count, transfer.file_count, transfer.not_pdfa_count) == (3, 3, 2)
    assert transfer.payload_oxum == bag.info["Payload-Oxum"]
    assert transfer.manifest_sha256 == hashlib.sha256((out / "manifest-sha256.txt").read_bytes()).hexdigest()
    assert transfer.made_by
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "archive.export")).one()
    assert event.target == UNIT_A and event.details["results"] == 3

    # Again, into a new folder: a second package, a second entry.
    again = cli("archive-export", "--unit", UNIT_A, "--year", 2019, "--out", tmp_path / "lan-2")
    assert again.exit_code == 0, again.output
    bagit.Bag(str(tmp_path / "lan-2")).validate()
    assert len(db.session.scalars(select(ArchiveTransfer)).all()) == 2


def test_a_changed_byte_or_an_added_file_fails_validation(cli, unit_year, tmp_path):
    out = tmp_path / "goi"
    assert cli("archive-export", "--unit", UNIT_A, "--year", 2019, "--out", out).exit_code == 0
    bagit.Bag(str(out)).validate()

    # A file added to the payload: bagit counts the payload against bag-info's Payload-Oxum first,
    # so the bag fails (and a full validation without that fast check names it as not in the manifest).
    extra = out / "data" / "results" / "them.txt"
    extra.write_text("không có trong danh mục", encoding="utf-8")
    with pytest.raises(bagit.BagValidationError, match="Payload-Oxum"):
        bagit.Bag(str(out)).validate()
    del_oxum = out / "bag-info.txt"
    info = del_oxum.read_text(encoding="utf-8")
    del_oxum.write_text("".join(line + "\n" for line in info.splitlines() if not line.startswith("Payload-Oxum")),
                        encoding="utf-8")
    with pytest.raises(bagit.BagValidationError) as caught:
        bagit.Bag(str(out)).validate()
    assert any(isinstance(d, bagit.UnexpectedFile) and d.path.endswith("them.txt") for d in caught.value.details)
    extra.unlink()
    del_oxum.write_text(info, encoding="utf-8")
    bagit.Bag(str(out)).validate()

    # A file added beside the bag's tag files (a note of the archive's own) is allowed by BagIt.
    (out / "ghi-chu.txt").write_text("Đã nhận.", encoding="utf-8")
    bagit.Bag(str(out)).validate()

    # One byte changed in a payload file: the same size, so the Oxum passes; the SHA-256 does not.
    document = next((out / "data" / "results").glob("*/document.pdf"))
    content = bytearray(document.read_bytes())
    content[len(content) // 2] ^= 0x01
    document.write_bytes(bytes(content))
    with pytest.raises(bagit.BagValidationError) as caught:
        bagit.Bag(str(out)).validate()
    assert any(isinstance(d, bagit.ChecksumMismatch) and d.path.endswith("document.pdf")
               for d in caught.value.details)


def test_clear_refusals(cli, world, pdfs, tmp_path):
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    make_result(world, pdfs[0], reviewer="reviewer_a")
    unknown = cli("archive-export", "--unit", "000.09.21.H48", "--year", 2019, "--out", tmp_path / "a")
    assert unknown.exit_code != 0 and "Không có đơn vị mã 000.09.21.H48" in unknown.output
    malformed = cli("archive-export", "--unit", "H48", "--year", 2019, "--out", tmp_path / "a")
    assert malformed.exit_code != 0
    for year in (1800, 2027):  # the clock stands in 2026
        bad = cli("archive-export", "--unit", UNIT_A, "--year", year, "--out", tmp_path / "a")
        assert bad.exit_code != 0 and f"Năm {year} không hợp lệ" in bad.output
    not_a_year = cli("archive-export", "--unit", UNIT_A, "--year", "hai", "--out", tmp_path / "a")
    assert not_a_year.exit_code != 0
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    busy = cli("archive-export", "--unit", UNIT_A, "--year", 2019, "--out", full)
    assert busy.exit_code != 0 and "đã có nội dung" in busy.output
    empty = cli("archive-export", "--unit", UNIT_B, "--year", 2019, "--out", tmp_path / "b")
    assert empty.exit_code != 0 and "không có kết quả nào" in empty.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    assert db.session.scalars(select(ArchiveTransfer)).all() == []

    # A stored file altered since it was kept: no package, and nothing that looks like one.
    (result,) = db.session.scalars(select(Result)).all()
    path = storage().path_for(result.document.sha256)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"\n%tampered")
    damaged = cli("archive-export", "--unit", UNIT_A, "--year", 2019, "--out", tmp_path / "c")
    assert damaged.exit_code != 0 and "bị thay đổi" in damaged.output and result.code in damaged.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]
    assert db.session.scalars(select(ArchiveTransfer)).all() == []


def test_more_refusals_leave_nothing_half_written(cli, world, pdfs, tmp_path, monkeypatch):
    """An --out that is a file or whose parent is missing, a stored file gone, a store that does not
    answer, a disk that fills: each a clear answer, no folder (not even a hidden partial one), no entry."""
    import errno

    import bagit as bagit_module

    from portal.storage import StorageUnavailable

    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "a-file").write_text("x")
    result = make_result(world, pdfs[0], reviewer="reviewer_a")
    empty = cli("archive-export", "--unit", UNIT_B, "--year", 2019, "--out", exports / "b")
    assert empty.exit_code != 0 and "Đóng gói" not in empty.output  # refused before any progress is shown
    a_file = cli("archive-export", "--unit", UNIT_A, "--year", 2019, "--out", exports / "a-file")
    assert a_file.exit_code != 0 and "is a file" in a_file.output
    no_parent = cli("archive-export", "--unit", UNIT_A, "--year", 2019, "--out", exports / "no" / "such" / "bag")
    assert no_parent.exit_code != 0 and f"Không có thư mục {exports / 'no' / 'such'}" in no_parent.output

    def unavailable(self, sha256):
        raise StorageUnavailable("the bucket did not answer (get)")

    monkeypatch.setattr(type(storage()), "open_verified", unavailable)
    down = cli("archive-export", "--unit", UNIT_A, "--year", 2019, "--out", exports / "c")
    assert down.exit_code != 0 and "Kho lưu trữ tệp không trả lời" in down.output
    monkeypatch.undo()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bagit_module, "make_bag", disk_full)
    full = cli("archive-export", "--unit", UNIT_A, "--year", 2019, "--out", exports / "c")
    assert full.exit_code != 0 and "Không ghi được gói" in full.output and "No space left" in full.output
    assert "Traceback" not in full.output
    monkeypatch.undo()

    path = storage().path_for(result.document.sha256)
    path.chmod(0o644)
    path.unlink()
    missing = cli("archive-export", "--unit", UNIT_A, "--year", 2019, "--out", exports / "c")
    assert missing.exit_code != 0 and "bị mất" in missing.output and result.code in missing.output
    assert sorted(p.name for p in exports.iterdir()) == ["a-file"]
    assert db.session.scalars(select(ArchiveTransfer)).all() == []


def test_a_retention_period_change_is_audited(client, world):
    login(client, "admin")
    procedure = db.session.scalars(select(Procedure).where(Procedure.code == "1.010711")).one()
    url = f"/admin/procedures/{procedure.id}"
    for value in ("20", "20", ""):
        response = client.post(url, data={"csrf_token": csrf_token(client, url), "code": procedure.code,
                                          "name": procedure.name, "field": procedure.field, "retention_years": value})
        assert response.status_code == 302
    db.session.refresh(procedure)
    assert procedure.retention_years is None
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "procedure.update",
                                                         AuditEvent.target == "1.010711")
                                .order_by(AuditEvent.id)).all()
    assert [e.details.get("retention_change") for e in events] == [
        {"from": "permanent", "to": 20}, None, {"from": 20, "to": "permanent"}]
    audit_page = client.get("/admin/audit?action=procedure.update").get_data(as_text=True)
    assert "đổi thời hạn lưu trữ (năm): trước: vĩnh viễn; sau: 20" in audit_page
    assert all(e.actor_name == "Quản trị" for e in events)


def test_the_transfer_register_page_is_an_admins(app, cli, client, world, pdfs, tmp_path):
    make_result(world, pdfs[0], reviewer="reviewer_a")
    assert cli("archive-export", "--unit", UNIT_A, "--year", 2019, "--out", tmp_path / "goi-2019").exit_code == 0
    login(client, "admin")
    page = client.get("/admin/archive")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "goi-2019" in text and UNIT_A in text
    transfer = db.session.scalars(select(ArchiveTransfer)).one()
    assert transfer.payload_oxum in text and transfer.manifest_sha256 in text
    assert "Sổ nộp lưu" in client.get("/admin/procedures").get_data(as_text=True)
    for bad in ("0", "-1", "abc", "1.5", "9" * 30):  # not a page number: the first page
        answer = client.get(f"/admin/archive?page={bad}")
        assert answer.status_code == 200 and "goi-2019" in answer.get_data(as_text=True)
    beyond = client.get("/admin/archive?page=2").get_data(as_text=True)  # past the last: not "no package yet"
    assert "Trang 2 không có dòng nào: sổ có 1 gói" in beyond and "Chưa có gói nào" not in beyond
    for who, status in (("staff_a", 403), ("reviewer_a", 403), ("holder_a", 404)):
        other = app.test_client()
        login(other, who)
        assert other.get("/admin/archive").status_code == status
    assert app.test_client().get("/admin/archive").status_code == 302  # to the login page


def test_the_demo_catalogue_has_retention_periods_and_its_years_export(cli, tmp_path):
    from sqlalchemy import func

    from portal.demo import catalogue
    from portal.models import Unit

    assert cli("seed-demo", "--results", "30").exit_code == 0
    periods = {code: years for code, _n, _f, _u, years, *_ in catalogue.PROCEDURES}
    assert dict(db.session.execute(select(Procedure.code, Procedure.retention_years)).all()) == periods
    assert None in periods.values() and {10, 20, 50} <= set(periods.values())
    unit_id, year, count = db.session.execute(
        select(Result.unit_id, func.min(Result.formed_year), func.count())
        .where(Result.status == "published").group_by(Result.unit_id).order_by(func.count().desc())).first()
    unit = db.session.get(Unit, unit_id)
    out = tmp_path / "demo"
    done = cli("archive-export", "--unit", unit.code, "--year", year, "--out", out)
    assert done.exit_code == 0, done.output
    bagit.Bag(str(out)).validate()
    for code, record in _records(out).items():
        result = db.session.scalars(select(Result).where(Result.code == code)).one()
        assert record["retention_years"] == result.retention_years


def test_one_font_check_serves_the_archive_report_and_the_copies(pdfa_original, tmp_path):
    """archive/pdfa.fonts_not_embedded is what the report says and what decides whether a certified
    copy claims PDF/A (copies/pdf.py): a base font the reader supplies is named, embedded ones are not,
    and a font entry that is no font dictionary counts as not embedded."""
    import pikepdf
    from fpdf import FPDF

    from portal.archive import pdfa

    plain = FPDF()
    plain.add_page()
    plain.set_font("Helvetica", size=12)  # one of the reader's base fonts: not embedded
    plain.cell(text="Giay phep 12/GP-SKHCN")
    path = tmp_path / "plain.pdf"
    path.write_bytes(bytes(plain.output()))
    with pikepdf.open(path) as pdf:
        assert pdfa.fonts_not_embedded(pdf) == {"Helvetica"}
        pdf.pages[0].Resources.Font["/F9"] = pikepdf.Array()  # broken: not a font dictionary
        assert pdfa.fonts_not_embedded(pdf) == {"Helvetica", "?"}
    level, problems = pdfa.problems(path)
    assert level is None and "Phông chữ không được nhúng: Helvetica" in problems
    embedded = tmp_path / "embedded.pdf"
    embedded.write_bytes(pdfa_original)
    with pikepdf.open(embedded) as pdf:
        assert pdfa.fonts_not_embedded(pdf) == set()
    assert pdfa.problems(embedded) == ("2B", [])


def test_metadata_xml_parses_when_a_field_holds_a_control_character(cli, world, pdfs, tmp_path):
    """Text pasted from Word carries its line break as \\x0b, which no XML 1.0 document may hold (only
    NUL is refused at the door): metadata.xml has a space for each and still parses; metadata.json
    keeps the text as stored."""
    result = make_result(world, pdfs[0], reviewer="reviewer_a")
    result.holder_address = "Số 5 Lê Lợi\x0bphường 1\x01"
    db.session.commit()
    out = tmp_path / "goi"
    done = cli("archive-export", "--unit", UNIT_A, "--year", 2019, "--out", out)
    assert done.exit_code == 0, done.output
    (folder,) = (out / "data" / "results").iterdir()
    record = ElementTree.parse(folder / "metadata.xml").getroot()
    assert record.find("holder/address").text == "Số 5 Lê Lợi phường 1 "
    assert json.loads((folder / "metadata.json").read_text(encoding="utf-8"))["holder"]["address"] == \
        "Số 5 Lê Lợi\x0bphường 1\x01"
    bagit.Bag(str(out)).validate()
