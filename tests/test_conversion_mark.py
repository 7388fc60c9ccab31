"""The mark of conversion (issue 17, item 3; Law 20/2023/QH15 Art. 12): a digitized result's copy
says on its certification page that the original is a paper document digitized on a day by a unit;
a born-digital one says it was born digital. Read back from the signed PDF."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from portal.extensions import db
from portal.models.results import BORN_DIGITAL

from .conftest import make_result

BY = "Phòng Quản lý chuyên ngành, Sở Khoa học và Công nghệ tỉnh Quảng Ngãi"


def certification_text(world, result) -> tuple[str, int, int]:
    """The certification page's words (spaces and line breaks as one space), and the page counts
    of the copy and of the original."""
    from pypdf import PdfReader

    from portal.operations.copies import issue_copy
    from portal.storage import storage

    copy = issue_copy(world["holder_a"], result)
    reader = PdfReader(io.BytesIO(storage().path_for(copy.sha256).read_bytes()))
    return " ".join(reader.pages[0].extract_text().split()), len(reader.pages), result.document.page_count


@pytest.fixture
def result(clock, world, pdfs):
    return make_result(world, pdfs[2], reviewer="reviewer_a", valid_until=None, document_number="3/GP-SKHCN")


def test_a_digitized_result_says_when_and_by_whom_it_was_converted_on_one_page(world, result):
    # Digitized late on 2 March in UTC: 3 March in Vietnam, the day the mark gives.
    result.digitized_at = datetime(2026, 3, 2, 18, 30, tzinfo=UTC)
    db.session.commit()
    text, pages, original = certification_text(world, result)
    assert ("Hình thức bản chính Bản chính là văn bản giấy, đã được số hóa (chuyển đổi sang thông điệp dữ liệu) "
            f"ngày 03/03/2026 bởi {BY} (Luật Giao dịch điện tử số 20/2023/QH15, Điều 12).") in text
    assert "văn bản điện tử gốc" not in text
    assert pages == original + 1  # still one certification page with an ordinary summary


def test_without_a_recorded_digitization_time_the_day_the_record_was_made_stands_in(world, result):
    result.digitized_at = None
    result.created_at = datetime(2025, 11, 20, 3, 0, tzinfo=UTC)
    db.session.commit()
    text, _pages, _original = certification_text(world, result)
    assert f"đã được số hóa (chuyển đổi sang thông điệp dữ liệu) ngày 20/11/2025 bởi {BY}" in text


def test_a_born_digital_result_says_it_was_born_digital(world, result):
    result.origin = BORN_DIGITAL  # as a one-stop-shop system's push makes it
    db.session.commit()
    text, pages, original = certification_text(world, result)
    assert (f"Bản chính là văn bản điện tử gốc, do {BY} ban hành dưới dạng thông điệp dữ liệu, "
            "không chuyển đổi từ văn bản giấy.") in text
    assert "số hóa" not in text and pages == original + 1
