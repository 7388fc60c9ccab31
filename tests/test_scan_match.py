"""Finding the typed number and issue date in the text of a scan (portal/scan_match.py)."""

from datetime import date

import pytest

from portal.scan_match import DATE, NUMBER, check, highlight

LETTER = ("ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI\nSố: 125/QĐ-SKHCN\n"
          "Quảng Ngãi, ngày 05 tháng 06 năm 2012\nQUYẾT ĐỊNH\fTrang hai.\nKý ngày 05/06/2012.")


def _by_kind(findings):
    return {f.kind: f for f in findings}


def test_the_issue_example_a_scan_dated_2019_against_05_06_2012_warns():
    text = "Số: 125/QĐ-SKHCN\nQuảng Ngãi, ngày 05 tháng 06 năm 2019"
    found = _by_kind(check(text, "125/QĐ-SKHCN", date(2012, 6, 5)))
    assert found[NUMBER].found and found[NUMBER].pages == (1,)
    assert not found[DATE].found
    assert found[DATE].warning.startswith("Không tìm thấy ngày ban hành 05/06/2012 trên bản quét")


@pytest.mark.parametrize("written", [
    "ngày 05 tháng 06 năm 2012", "ngày 5 tháng 6 năm 2012", "Ngày  05  tháng 06, năm 2012", "ngay 5 thang 6 nam 2012",
    "05/06/2012", "5/6/2012", "05-06-2012", "05.06.2012", "5 / 6 / 2012",
])
def test_a_date_is_found_however_it_is_written(written):
    assert _by_kind(check(f"Hà Nội, {written}.", "1/QĐ", date(2012, 6, 5)))[DATE].found


@pytest.mark.parametrize("written", ["15/06/2012", "05/06/20121", "05/16/2012", "ngày 05 tháng 06 năm 2013",
                                     "06/05/2012"])
def test_another_date_is_not_the_date(written):
    assert not _by_kind(check(f"Ngày ký: {written}", "1/QĐ", date(2012, 6, 5)))[DATE].found


@pytest.mark.parametrize("typed", ["125/QĐ-SKHCN", "125/qđ-skhcn", "125 / QĐ - SKHCN", "125/QD-SKHCN"])
def test_the_number_ignores_case_spaces_and_diacritics(typed):
    assert _by_kind(check("Số: 125 /QĐ-SKHCN", typed, date(2012, 6, 5)))[NUMBER].found


@pytest.mark.parametrize("text", ["Số: 1125/QĐ-SKHCN", "Số: 125/QĐ-SKHCNA", "Số: 126/QĐ-SKHCN"])
def test_a_longer_or_other_number_is_not_the_number(text):
    assert not _by_kind(check(text, "125/QĐ-SKHCN", date(2012, 6, 5)))[NUMBER].found


def test_pages_are_counted_by_form_feeds():
    found = _by_kind(check(LETTER, "125/QĐ-SKHCN", date(2012, 6, 5)))
    assert found[NUMBER].pages == (1,) and found[DATE].pages == (1, 2)


def test_no_text_means_nothing_to_check():
    assert check(None, "1/QĐ", date(2012, 6, 5)) is None
    assert check("  \n ", "1/QĐ", date(2012, 6, 5)) is None


def test_highlight_marks_the_original_text_with_its_diacritics():
    findings = check(LETTER, "125/qd-skhcn", date(2012, 6, 5))
    page = LETTER.split("\f")[0]
    pieces = highlight(page, findings)
    assert "".join(text for text, _ in pieces) == page
    marked = {kind: text for text, kind in pieces if kind}
    assert marked == {NUMBER: "125/QĐ-SKHCN", DATE: "ngày 05 tháng 06 năm 2012"}
