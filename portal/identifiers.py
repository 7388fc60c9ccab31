"""Validation and normalisation of the identifiers and dates the portal reads.

Every function takes what a person typed and returns the canonical form, or raises
InvalidInput with a message in Vietnamese that says what is wrong.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from flask import current_app, has_app_context

from .errors import UserError
from .timeutil import today


class InvalidInput(UserError, ValueError):
    """A value a person entered is not acceptable; str(err) is the Vietnamese message."""


DEFAULT_PATTERNS = {
    "UNIT_CODE_PATTERN": r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}",
    "PROCEDURE_CODE_PATTERN": r"\d\.\d{6}",
    "DOCUMENT_NUMBER_PATTERN": r"\d{1,6}[A-Z]?(/\d{4})?/[A-ZĐ0-9][A-ZĐ0-9.&-]*",
}

# Province codes of the CCCD (Circular 07/2016/TT-BCA, amended by 59/2021/TT-BCA).
CCCD_PROVINCES = frozenset(
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 "
    "035 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 "
    "070 072 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096".split()
)
MST_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)

PERSON = "person"
ORGANISATION = "organisation"


def _pattern(name: str) -> str:
    if has_app_context():
        return current_app.config.get(name, DEFAULT_PATTERNS[name])
    return DEFAULT_PATTERNS[name]


def _compact(value: str | None) -> str:
    return re.sub(r"\s+", "", value or "")


def normalize_cccd(value: str) -> str:
    digits = _compact(value)
    if not digits:
        raise InvalidInput("Chưa nhập số căn cước công dân.")
    if not digits.isdigit() or len(digits) != 12:
        if digits.isdigit() and len(digits) == 9:
            raise InvalidInput("Số CMND 9 chữ số không còn dùng; hãy nhập số căn cước công dân 12 chữ số.")
        raise InvalidInput("Số căn cước công dân phải gồm đúng 12 chữ số.")
    if digits[:3] not in CCCD_PROVINCES:
        raise InvalidInput(f"Số căn cước công dân có mã tỉnh «{digits[:3]}» không tồn tại.")
    century_digit = int(digits[3])
    if century_digit > 3:
        raise InvalidInput("Chữ số thứ tư của số căn cước công dân (thế kỷ và giới tính) không hợp lệ.")
    birth_year = 1900 + 100 * (century_digit // 2) + int(digits[4:6])
    if birth_year > today().year:
        raise InvalidInput("Năm sinh trong số căn cước công dân nằm ở tương lai.")
    return digits


def mst_check_digit(first_nine: str) -> int | None:
    """The tenth digit of a tax code, or None when no digit can make it valid."""
    remainder = sum(int(d) * w for d, w in zip(first_nine, MST_WEIGHTS)) % 11
    check = 10 - remainder
    return None if check == 10 else check


def normalize_mst(value: str) -> str:
    raw = _compact(value)
    if not raw:
        raise InvalidInput("Chưa nhập mã số thuế.")
    match = re.fullmatch(r"(\d{10})(?:-?(\d{3}))?", raw)
    if not match:
        raise InvalidInput("Mã số thuế phải gồm 10 chữ số, hoặc 10 chữ số, dấu gạch ngang và 3 chữ số của chi nhánh.")
    main, branch = match.groups()
    if mst_check_digit(main[:9]) != int(main[9]):
        raise InvalidInput(f"Mã số thuế {main} sai chữ số kiểm tra; hãy kiểm tra lại từng chữ số.")
    if branch == "000":
        raise InvalidInput("Mã chi nhánh của mã số thuế phải từ 001 đến 999.")
    return f"{main}-{branch}" if branch else main


def normalize_holder_id(value: str) -> tuple[str, str]:
    """(kind, canonical id): 12 digits is a person's CCCD, 10 or 13 an organisation's tax code."""
    raw = _compact(value)
    if not raw:
        raise InvalidInput("Chưa nhập số định danh của người được cấp (CCCD hoặc mã số thuế).")
    digits_only = raw.replace("-", "")
    if digits_only.isdigit() and len(digits_only) == 12 and "-" not in raw:
        return PERSON, normalize_cccd(raw)
    if digits_only.isdigit() and len(digits_only) in (10, 13):
        return ORGANISATION, normalize_mst(raw)
    if digits_only.isdigit() and len(digits_only) == 9:
        return PERSON, normalize_cccd(raw)  # raises the CMND message
    raise InvalidInput(
        "Số định danh phải là số căn cước công dân (12 chữ số) hoặc mã số thuế (10 chữ số, hoặc 13 với chi nhánh)."
    )


def _match(name: str, value: str, message: str) -> str:
    if not re.fullmatch(_pattern(name), value):
        raise InvalidInput(message)
    return value


def normalize_unit_code(value: str) -> str:
    code = _compact(value).upper()
    if not code:
        raise InvalidInput("Chưa nhập mã đơn vị.")
    return _match("UNIT_CODE_PATTERN", code,
                  f"Mã đơn vị «{code}» không đúng định dạng QCVN 102:2016 (ví dụ 000.00.21.H48).")


def normalize_procedure_code(value: str) -> str:
    code = _compact(value)
    if not code:
        raise InvalidInput("Chưa nhập mã thủ tục hành chính.")
    return _match("PROCEDURE_CODE_PATTERN", code, f"Mã thủ tục «{code}» không đúng định dạng (ví dụ 2.002131).")


def dossier_code_regex() -> str:
    return rf"({_pattern('UNIT_CODE_PATTERN')})-(\d{{6}})-(\d{{4}})"


def normalize_dossier_code(value: str) -> str:
    code = _compact(value).upper()
    if not code:
        raise InvalidInput("Chưa nhập mã hồ sơ.")
    match = re.fullmatch(dossier_code_regex(), code)
    if not match or not _valid_yymmdd(match.group(2)):
        raise InvalidInput(f"Mã hồ sơ «{code}» không đúng định dạng <mã đơn vị>-YYMMDD-NNNN "
                           "(ví dụ 000.00.21.H48-240315-0012).")
    return code


def normalize_result_code(value: str) -> str:
    code = _compact(value).upper()
    if not code:
        raise InvalidInput("Chưa nhập mã kết quả.")
    match = re.fullmatch(rf"{dossier_code_regex()}-KQ([1-9]\d{{0,2}})", code)
    if not match or not _valid_yymmdd(match.group(2)):
        raise InvalidInput(f"Mã kết quả «{code}» không đúng định dạng <mã hồ sơ>-KQ<n> "
                           "(ví dụ 000.00.21.H48-240315-0012-KQ1).")
    return code


def normalize_document_number(value: str) -> str:
    number = _compact(value).upper()
    if not number:
        raise InvalidInput("Chưa nhập số, ký hiệu văn bản.")
    return _match(
        "DOCUMENT_NUMBER_PATTERN", number,
        f"Số, ký hiệu «{value.strip()}» không đúng dạng số/ký hiệu (ví dụ 125/GP-SKHCN hoặc 12/2019/QĐ-SKHCN).",
    )


def _valid_yymmdd(text: str) -> bool:
    try:
        datetime.strptime(text, "%y%m%d")
    except ValueError:
        return False
    return True


def parse_date(value: str | date | None, *, label: str = "Ngày") -> date:
    """A date typed as DD/MM/YYYY (the Vietnamese way) or YYYY-MM-DD."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{label} chưa được nhập.")
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InvalidInput(f"{label} «{text}» không hợp lệ; nhập theo dạng ngày/tháng/năm, ví dụ 25/03/2021.")


def parse_past_date(value, *, label: str = "Ngày") -> date:
    parsed = parse_date(value, label=label)
    if parsed > today():
        raise InvalidInput(f"{label} {parsed:%d/%m/%Y} nằm ở tương lai.")
    if parsed.year < 1945:
        raise InvalidInput(f"{label} {parsed:%d/%m/%Y} quá xa trong quá khứ.")
    return parsed


# The plan's phases by the year the paper original was formed.
PHASES = (
    (2, 2016, 2021, date(2022, 12, 31)),
    (3, 2006, 2015, date(2023, 12, 31)),
    (4, 1996, 2005, date(2024, 12, 31)),
    (5, None, 1995, date(2025, 12, 31)),
)


def phase_for_year(year: int | None) -> int | None:
    """The phase whose era holds `year`; None for results formed from 2022 on (born digital)."""
    if year is None:
        return None
    for phase, start, end, _deadline in PHASES:
        if (start is None or year >= start) and year <= end:
            return phase
    return None


# A certified copy's verification code: easy to read aloud and to type, no 0/O, no 1/I. 32 letters,
# 5 bits each: 16 letters are 80 bits.
VERIFICATION_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
VERIFICATION_CODE_LENGTH = 16


def verification_code(raw: str | None) -> str | None:
    """A verification code as stored, from what someone typed or a URL held (any case, dashes,
    spaces); None when it cannot be one."""
    code = "".join(ch for ch in (raw or "").upper() if ch not in "- ")
    if len(code) != VERIFICATION_CODE_LENGTH or any(ch not in VERIFICATION_ALPHABET for ch in code):
        return None
    return code
