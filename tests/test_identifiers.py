from datetime import date, timedelta

import pytest

from portal.identifiers import (
    InvalidInput,
    normalize_cccd,
    normalize_document_number,
    normalize_dossier_code,
    normalize_holder_id,
    normalize_mst,
    normalize_procedure_code,
    normalize_result_code,
    normalize_unit_code,
    parse_date,
    parse_past_date,
    phase_for_year,
)

from .conftest import at_every_instant, vietnam_now


@pytest.mark.parametrize("raw, expected", [
    ("051089004217", "051089004217"), (" 0510 8900 4217 ", "051089004217"), ("001301000001", "001301000001"),
])
def test_cccd_accepts_and_normalises(raw, expected):
    assert normalize_cccd(raw) == expected


@pytest.mark.parametrize("raw, words", [
    ("05108900421", "12 chữ số"), ("0510890042170", "12 chữ số"), ("05108900421A", "12 chữ số"),
    ("003089004217", "mã tỉnh"), ("051489004217", "thế kỷ"), ("051399004217", "tương lai"),
    ("123456789", "CMND"), ("", "Chưa nhập"),
])
def test_cccd_rejects_with_vietnamese_reason(raw, words):
    with pytest.raises(InvalidInput, match=words):
        normalize_cccd(raw)


@pytest.mark.parametrize("raw, expected", [
    ("0100112437", "0100112437"), ("0100109106", "0100109106"), ("0100112437-001", "0100112437-001"),
    ("0100112437001", "0100112437-001"), ("01001 12437", "0100112437"),
])
def test_mst_accepts_and_normalises(raw, expected):
    assert normalize_mst(raw) == expected


@pytest.mark.parametrize("raw, words", [
    ("0100112438", "chữ số kiểm tra"), ("010011243", "10 chữ số"), ("0100112437-000", "chi nhánh"),
    ("0100112437-01", "10 chữ số"), ("abc", "10 chữ số"),
])
def test_mst_rejects(raw, words):
    with pytest.raises(InvalidInput, match=words):
        normalize_mst(raw)


def test_holder_kind_follows_the_identifier():
    assert normalize_holder_id("051089004217") == ("person", "051089004217")
    assert normalize_holder_id("0100112437") == ("organisation", "0100112437")
    assert normalize_holder_id("0100112437-002") == ("organisation", "0100112437-002")
    with pytest.raises(InvalidInput):
        normalize_holder_id("12345")


def test_codes():
    assert normalize_procedure_code(" 2.002131 ") == "2.002131"
    assert normalize_unit_code("000.00.21.h48") == "000.00.21.H48"
    assert normalize_dossier_code("000.00.21.H48-240315-0012") == "000.00.21.H48-240315-0012"
    assert normalize_result_code("000.00.21.h48-240315-0012-kq2") == "000.00.21.H48-240315-0012-KQ2"
    assert normalize_document_number("125/gp-skhcn") == "125/GP-SKHCN"
    assert normalize_document_number("12/2019/qđ-skhcn") == "12/2019/QĐ-SKHCN"
    for fn, bad in [(normalize_procedure_code, "2.00213"), (normalize_unit_code, "000.00.21"),
                    (normalize_dossier_code, "000.00.21.H48-241315-0012"),
                    (normalize_result_code, "000.00.21.H48-240315-0012"),
                    (normalize_result_code, "000.00.21.H48-240315-0012-KQ0"),
                    (normalize_document_number, "GP-SKHCN")]:
        with pytest.raises(InvalidInput):
            fn(bad)


def test_dates_in_both_forms():
    assert parse_date("25/03/2021") == date(2021, 3, 25)
    assert parse_date("2021-03-25") == date(2021, 3, 25)
    assert parse_date("5/3/2021") == date(2021, 3, 5)
    with pytest.raises(InvalidInput, match="không hợp lệ"):
        parse_date("31/02/2021")


@at_every_instant
def test_the_future_starts_tomorrow_in_vietnam(clock):
    today = vietnam_now().date()
    assert parse_past_date(today.isoformat()) == today == parse_past_date(f"{today:%d/%m/%Y}")
    with pytest.raises(InvalidInput, match="tương lai"):
        parse_past_date((today + timedelta(days=1)).isoformat())
    # A CCCD may be issued at birth: born this year (in Vietnam) is possible, next year is not.
    year = vietnam_now().year
    assert normalize_cccd(f"0512{year % 100:02d}000001") == f"0512{year % 100:02d}000001"
    with pytest.raises(InvalidInput, match="tương lai"):
        normalize_cccd(f"0513{(year + 1) % 100:02d}000001")


@pytest.mark.parametrize("year, phase", [
    (1990, 5), (1995, 5), (1996, 4), (2005, 4), (2006, 3), (2015, 3), (2016, 2), (2021, 2), (2022, None),
])
def test_phase_boundaries(year, phase):
    assert phase_for_year(year) == phase
