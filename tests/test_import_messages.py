"""A failed import row's message names each field once and ends with one full stop (issue 13, item 7):
real manifest rows, through the real import, read back from the rows and the report."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.imports.manifest import fold
from portal.imports.rows import labelled, sentence
from portal.models import ImportRow

from .test_import import row, write_csv


@pytest.fixture
def folder(tmp_path, pdfs):
    scans = tmp_path / "batch" / "scans"
    scans.mkdir(parents=True)
    for n, pdf in enumerate(pdfs, start=1):
        (scans / f"{n}.pdf").write_bytes(pdf)
    return tmp_path / "batch"


def test_each_row_message_says_its_labels_once_and_ends_with_one_full_stop(app, world, folder, tmp_path):
    rows = [
        row(1, issue_date="32/13/2019"),                                  # line 2: a date that is no date
        row(2, issue_date="2019-02-30", holder_id="051089004218x"),       # 3: two fields wrong
        row(3, valid_until="99/99/2030"),                                 # 4: the other date
        row(4, dossier_code="HS-1"),                                      # 5: a code the identifiers refuse
        row(5, holder_id="12345678"),                                     # 6: neither CCCD nor tax code
        row(6, file="scans/none.pdf"),                                    # 7: a file message, already a sentence
        row(7),                                                           # 8: good
    ]
    manifest = write_csv(folder / "lo-loi.csv", rows)
    report = tmp_path / "bao-cao.csv"
    done = app.test_cli_runner().invoke(args=["import-batch", str(manifest), "--files", str(folder),
                                              "--report", str(report)])
    assert "Imported 1" in done.output, done.output
    messages = dict(db.session.execute(select(ImportRow.line, ImportRow.message)
                                       .where(ImportRow.status == "failed")).all())
    assert sorted(messages) == [2, 3, 4, 5, 6, 7]
    for line, message in messages.items():
        assert message.endswith(".") and not message.endswith(".."), (line, message)
        assert ".;" not in message and ". ;" not in message, (line, message)
        assert message[0].isupper() or message[0] == "«", (line, message)
    for line, label in ((2, "Ngày ban hành"), (3, "Ngày ban hành"), (4, "Ngày hết hiệu lực")):
        assert fold(messages[line]).count(fold(label)) == 1, (line, messages[line])
    assert messages[2].startswith("Ngày ban hành «32/13/2019» không hợp lệ")
    assert fold(messages[3]).count("so dinh danh") == 1, messages[3]
    assert fold(messages[6]).count("so dinh danh") == 1, messages[6]
    assert fold(messages[5]).count("ma ho so") == 1, messages[5]
    # The report says the same.
    with open(report, encoding="utf-8-sig") as fh:
        reasons = {int(line): reason for line, _file, reason in list(csv.reader(fh))[1:]}
    assert reasons == messages


def test_a_label_is_added_only_when_the_message_lacks_it():
    assert labelled("ngày ban hành", "Ngày ban hành «x» không hợp lệ.") == "Ngày ban hành «x» không hợp lệ"
    assert labelled("số định danh (CCCD/MST)", "Số căn cước công dân phải gồm đúng 12 chữ số.") == \
        "số định danh (CCCD/MST): Số căn cước công dân phải gồm đúng 12 chữ số"
    assert labelled("số định danh (CCCD/MST)", "Số định danh phải là số CCCD.") == "Số định danh phải là số CCCD"
    assert sentence("thiếu người ký; ngày ban hành «x» không hợp lệ..") == \
        "Thiếu người ký; ngày ban hành «x» không hợp lệ."
