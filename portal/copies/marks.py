"""The mark of conversion a copy's certification page carries (Law 20/2023/QH15 on electronic
transactions, Art. 12): a data message converted from a paper document says that it was
converted, when, and by whom; a result issued as a data message says it was never on paper."""

from __future__ import annotations

from ..models import Result
from ..models.results import BORN_DIGITAL
from ..timeutil import to_local


def conversion_mark(result: Result, department: str) -> str:
    """One sentence, in Vietnamese. A digitized result's date is when it was digitized, in
    Vietnam; a record without that time (entered before it was recorded) gives the day its record
    was made with the scan: the scan existed by then."""
    by = f"{result.unit.name}, {department}"
    if result.origin == BORN_DIGITAL:
        return (f"Bản chính là văn bản điện tử gốc, do {by} ban hành dưới dạng thông điệp dữ liệu, "
                "không chuyển đổi từ văn bản giấy.")
    when = to_local(result.digitized_at or result.created_at)
    day = f" ngày {when:%d/%m/%Y}" if when else ""
    return (f"Bản chính là văn bản giấy, đã được số hóa (chuyển đổi sang thông điệp dữ liệu){day} bởi {by} "
            "(Luật Giao dịch điện tử số 20/2023/QH15, Điều 12).")
