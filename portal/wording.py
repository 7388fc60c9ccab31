"""Values as a person reads them: Vietnamese words and formats, never Python's (`None`, `True`,
`2026-06-15T03:00:00+00:00`). The templates reach these through the filters of views/__init__.py.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from .timeutil import to_local

# The keys of audit events' details (audit.record(..., details=...)), as the audit pages name them.
DETAIL_LABELS = {
    "page": "trang", "pages": "số trang", "sha256": "SHA-256", "register_number": "số vào sổ", "kind": "loại tệp",
    "route": "địa chỉ", "found": "tìm thấy", "wait_seconds": "phải chờ (giây)", "method": "cách đăng nhập",
    "second_factor": "bước xác thực thứ hai", "left": "mã khôi phục còn lại", "from": "trước", "to": "sau",
    "replaces": "thay thế kết quả", "replaced": "đã thay thế kết quả", "import_batch": "lô nhập", "reason": "lý do",
    "name": "tên", "field": "lĩnh vực", "active": "đang hoạt động", "role": "vai trò", "unit": "đơn vị",
    "holder_id": "số định danh", "manager": "người quản lý", "password_reset": "đặt lại mật khẩu",
    "results": "số kết quả", "note": "ghi chú", "manifest": "bảng kê", "publish": "phát hành ngay",
    "upload": "tải tệp lên", "files": "số tệp", "status": "trạng thái", "finished_at": "kết thúc lúc",
    "imported": "số dòng đã nhập", "skipped": "số dòng bỏ qua", "failed": "số dòng lỗi", "error": "lỗi",
    "missing": "tệp bị mất",
    "altered": "tệp bị thay đổi", "missing_files": "các tệp bị mất", "altered_files": "các tệp bị thay đổi",
    "file": "tệp", "bytes": "dung lượng (byte)", "created_at": "tạo lúc", "characters": "số ký tự",
    "matches": "khớp với sổ", "size": "cỡ ảnh",
    "share": "đường dẫn chia sẻ số", "days": "số ngày", "outcome": "kết quả",
    "unstamped": "ký không có dấu thời gian vì", "until": "dấu thời gian lưu trữ đến",
    # Retention and the archive (issue 18 item 4).
    "retention_years": "thời hạn lưu trữ (năm)", "retention_change": "đổi thời hạn lưu trữ (năm)",
    "year": "năm", "package": "gói", "payload_oxum": "Payload-Oxum", "manifest_sha256": "SHA-256 của manifest",
    "by": "người chạy",
    "notice_version": "phiên bản thông báo",
}
# Values that are codes of the portal, and their words.
VALUE_WORDS = {
    "password": "mật khẩu", "claim": "mã nhận tài khoản", "admin": "quản trị", "staff": "cán bộ số hóa",
    "reviewer": "cán bộ kiểm tra", "holder": "người được cấp", "done": "xong", "failed": "lỗi",
    "queued": "đang chờ", "running": "đang chạy", "document": "bản điện tử", "copy": "bản sao",
    "copy original": "bản gốc của bản sao", "import": "nhập theo lô", "large": "lớn",
    "certified copy": "bản sao đã cấp", "copy verification": "bản sao khi xác thực",
    # What a share link's opening gave (models/shares.py).
    "downloaded": "đã tải bản sao", "link_expired": "từ chối, đường dẫn đã hết hạn",
    "link_revoked": "từ chối, đường dẫn đã bị thu hồi", "result_invalid": "từ chối, kết quả không còn hiệu lực",
    "file_unavailable": "không tải được, tệp bản sao tạm thời không đọc được",
    # The settings' keys (operations/settings.py), the target of a "setting.update" event.
    "require_second_factor": "bắt buộc xác thực hai bước", "copy_fee": "lệ phí cấp bản sao",
    "help_phone": "điện thoại hỗ trợ", "help_address": "địa chỉ của Sở", "help_hours": "giờ làm việc",
    "permanent": "vĩnh viễn",  # a retention period (operations/accounts.save_procedure)
    "privacy_contact": "đầu mối bảo vệ dữ liệu cá nhân", "privacy_email": "thư điện tử của đầu mối",
    "privacy_phone": "điện thoại của đầu mối", "access_log_years": "thời hạn lưu nhật ký truy cập",
}
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def value_words(value) -> str:
    """One value in Vietnamese: Có/Không, dates dd/mm/yyyy, times HH:MM, numbers 1.234, None as —."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, datetime):
        return f"{to_local(value):%d/%m/%Y %H:%M}"
    if isinstance(value, date):
        return day(value)
    if isinstance(value, list | tuple):
        return ", ".join(value_words(item) for item in value) if value else "—"
    if isinstance(value, dict):
        return details_words(value)
    text = str(value)
    if _ISO_DATETIME.fullmatch(text[:16]) and len(text) <= 32:
        try:
            return value_words(datetime.fromisoformat(text))
        except ValueError:
            return text
    if _ISO_DATE.fullmatch(text):
        try:
            return value_words(date.fromisoformat(text))
        except ValueError:
            return text
    return VALUE_WORDS.get(text, text)


def details_words(details: dict | None) -> str:
    """An audit event's details as one line: "trang: 2; tìm thấy: Không"; empty values left out."""
    parts = [f"{DETAIL_LABELS.get(key, key.replace('_', ' '))}: {value_words(value)}"
             for key, value in (details or {}).items() if value is not None and value != ""]
    return "; ".join(parts)


def number(value: int | float) -> str:
    """1234567 → 1.234.567 (Vietnamese grouping)."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{int(value):,}".replace(",", ".")


def money(amount: int | None) -> str:
    """A fee in đồng: "miễn phí" for nothing, else "10.000 đồng"."""
    return "miễn phí" if not amount else f"{number(amount)} đồng"


def day(value: date | None) -> str:
    """A date as Vietnamese readers write it: "05/06/2026"; empty for none."""
    return value.strftime("%d/%m/%Y") if value else ""


def moment(value: datetime | str | None, seconds: bool = False) -> str:
    """An instant (or its ISO 8601 text) in Vietnam's time: "14:05 ngày 05/06/2026"; empty for none."""
    if not value:
        return ""
    local = to_local(datetime.fromisoformat(value) if isinstance(value, str) else value)
    return local.strftime(f"%H:%M{':%S' if seconds else ''} ngày %d/%m/%Y")


def place_and_date(place: str, when: date) -> str:
    """The place-and-date line of an official document (Decree 30/2020/NĐ-CP, Appendix I): the day
    below 10 and the months 1 and 2 are written with a leading 0: "Quảng Ngãi, ngày 05 tháng 6 năm 2026"."""
    month = f"{when.month:02d}" if when.month < 3 else str(when.month)
    return f"{place}, ngày {when.day:02d} tháng {month} năm {when.year}"
