"""What the JSON API takes and answers, as marshmallow schemas: flask-smorest parses every request
with them and serializes every answer through them, and the OpenAPI description
(/api/v1/openapi.json) is generated from the same schemas, so it cannot drift from the answers.

Query arguments are read the way the pages read them (views/query.py, views/searching.py): a value
that is not a page number or a known filter counts as absent, never as an error; the description
says so instead of claiming bounds the API does not enforce."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields
from werkzeug.datastructures import FileStorage

from ..operations import shares
from .query import read_number
from .searching import HOLDER_STATUS_CHOICES, MAX_PAGE, clean_text, clean_year

# What a person reads when a field is refused (marshmallow's own messages are English).
FIELD_MESSAGES = {
    "required": "Thiếu trường này.",
    "null": "Trường này không được để trống.",
    "invalid": "Giá trị không hợp lệ.",
    "validator_failed": "Giá trị không hợp lệ.",
}
INVALID_MESSAGE = "Dữ liệu gửi lên chưa hợp lệ; xem lỗi của từng trường."


class Schema(ma.Schema):
    """Every schema of the API: Vietnamese messages for every field and for the body as a whole."""

    error_messages = {
        "unknown": "Trường này không được nhận.",
        "type": "Dữ liệu gửi lên phải là một đối tượng JSON.",
    }

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.error_messages = {**field_obj.error_messages, **FIELD_MESSAGES,
                                    **field_obj.metadata.get("messages", {})}


# --- query arguments -----------------------------------------------------------------------------

class LenientText(fields.String):
    """Trimmed, cut to `limit` characters; empty counts as absent."""

    def __init__(self, limit: int, **kwargs) -> None:
        self.limit = limit
        super().__init__(load_default=None, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return clean_text(str(value), self.limit)


class LenientYear(fields.Integer):
    def __init__(self, **kwargs) -> None:
        super().__init__(load_default=None, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return clean_year(str(value))


class LenientChoice(fields.String):
    """One of `choices`, or absent."""

    def __init__(self, choices, **kwargs) -> None:
        self.choices = list(choices)
        super().__init__(load_default=None, metadata={"enum": self.choices, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = clean_text(str(value))
        return value if value in self.choices else None


class LenientNumber(fields.Integer):
    """A page number or size, read as views/query.read_number reads it."""

    def __init__(self, default: int, *, low: int, high: int, clamp: bool = False, **kwargs) -> None:
        self.bounds = {"default": default, "low": low, "high": high, "clamp": clamp}
        super().__init__(load_default=default, metadata={"default": default, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        bounds = self.bounds
        return read_number(str(value), bounds["default"], low=bounds["low"], high=bounds["high"],
                           clamp=bounds["clamp"])


class PageArgs(Schema):
    page = LenientNumber(1, low=1, high=MAX_PAGE, metadata={
        "description": f"Trang, từ 1 đến {MAX_PAGE}; giá trị khác được hiểu là trang 1."})
    per_page = LenientNumber(20, low=1, high=100, clamp=True, metadata={
        "description": "Số mục mỗi trang, từ 1; lớn hơn 100 được tính là 100; giá trị khác được hiểu là 20."})


class SearchArgs(PageArgs):
    q = LenientText(300, metadata={"description": "Từ cần tìm, có hoặc không dấu; mã kết quả, số ký hiệu khớp "
                                                  "nguyên vẹn. Tối đa 300 ký tự."})
    field = LenientText(255, metadata={"description": "Lĩnh vực của thủ tục."})
    year = LenientYear(metadata={"description": "Năm ban hành; giá trị không phải năm được bỏ qua."})
    status = LenientChoice(HOLDER_STATUS_CHOICES, metadata={
        "description": "Tình trạng; giá trị khác được bỏ qua."})


# --- holder API answers --------------------------------------------------------------------------

def _date(**kwargs) -> fields.String:
    return fields.String(metadata={"format": "date", **kwargs.pop("metadata", {})}, **kwargs)


class Error(Schema):
    error = fields.String(required=True, metadata={
        "description": "Mã lỗi cho chương trình, ví dụ not_found, csrf, storage_full, invalid."})
    message = fields.String(required=True, metadata={"description": "Lời giải thích cho người dùng, tiếng Việt."})


class Invalid(Error):
    errors = fields.Dict(keys=fields.String(), values=fields.String(), required=True, metadata={
        "description": "Lỗi của từng trường (tên trường → lời giải thích tiếng Việt)."})


class Result(Schema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    document_number = fields.String(required=True)
    issue_date = _date(required=True)
    status = fields.String(required=True, metadata={"description": "published, expired, revoked, replaced"})
    status_label = fields.String(required=True)
    procedure_code = fields.String(required=True)
    procedure_name = fields.String(required=True)
    field = fields.String(required=True)
    unit = fields.String(required=True)
    valid_from = _date(required=True)
    valid_until = _date(required=True, allow_none=True)
    snippet = fields.String(required=True, metadata={"description": "HTML; các từ khớp nằm trong <mark>."})


class Page(Schema):
    """What every list of the API answers besides its items: one shape for a client to page through."""

    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    has_next = fields.Boolean(required=True)
    next = fields.String(required=True, allow_none=True, metadata={"description": "Đường dẫn trang sau."})


class ResultsPage(Page):
    results = fields.List(fields.Nested(Result), required=True)


class CopyFacts(Schema):
    """What a copy is, as its holder's list and any verifier see it alike."""

    verification_code = fields.String(required=True)
    register_number = fields.String(required=True)
    issued_at = fields.String(required=True, metadata={"format": "date-time"})
    pages = fields.Integer(required=True)
    sha256 = fields.String(required=True)


class Copy(CopyFacts):
    result_code = fields.String(required=True)
    download_url = fields.String(required=True, metadata={"format": "uri"})
    verify_url = fields.String(required=True, metadata={"format": "uri"})
    timestamped_at = fields.String(required=True, allow_none=True, metadata={
        "format": "date-time",
        "description": "Thời điểm ghi trong dấu thời gian (RFC 3161) của chữ ký; null: không có."})
    timestamp_authority = fields.String(required=True, allow_none=True,
                                        metadata={"description": "Tổ chức cấp dấu thời gian."})
    long_term = fields.Boolean(required=True, metadata={
        "description": "Tệp mang theo dữ liệu để kiểm tra chữ ký lâu dài, không cần mạng (PAdES B-LT)."})


class CopiesPage(Page):
    copies = fields.List(fields.Nested(Copy), required=True)


def _some_text(value: str) -> None:
    if not value.split():
        raise ma.ValidationError(shares.RECIPIENT_MISSING)


class ShareRequest(Schema):
    recipient = fields.String(required=True, validate=[
        _some_text, ma.validate.Length(max=shares.RECIPIENT_MAX, error=shares.RECIPIENT_TOO_LONG)], metadata={
        "description": f"Người nhận, để người chia sẻ nhớ đã gửi cho ai (tối đa {shares.RECIPIENT_MAX} ký tự).",
        "messages": {"invalid": "Người nhận phải là chữ."}})
    days = fields.Integer(required=True, strict=True, validate=ma.validate.Range(
        min=shares.MIN_DAYS, max=shares.MAX_DAYS, error=shares.DAYS_MESSAGE), metadata={
        "description": f"Số ngày đường dẫn mở, từ {shares.MIN_DAYS} đến {shares.MAX_DAYS}.",
        "messages": {"invalid": shares.DAYS_MESSAGE}})


class NewShare(Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True, metadata={
        "format": "uri", "description": "Đường dẫn tải bản sao không cần tài khoản; chỉ trả về một lần này."})
    expires_at = fields.String(required=True, metadata={"format": "date-time"})


class ShareUse(Schema):
    at = fields.String(required=True, metadata={"format": "date-time"})
    address = fields.String(required=True, metadata={"description": "Địa chỉ IP của người mở."})
    outcome = fields.String(required=True, metadata={
        "enum": ["downloaded", "link_expired", "link_revoked", "result_invalid", "file_unavailable"],
        "description": "downloaded: đã tải; link_expired, link_revoked: đường dẫn đã hết hạn, đã bị thu hồi; "
                       "result_invalid: kết quả đã bị thu hồi, thay thế hoặc hết hiệu lực; "
                       "file_unavailable: tệp bản sao Sở lưu tạm thời không đọc được nguyên vẹn, không gửi gì."})


class Share(Schema):
    id = fields.Integer(required=True)
    verification_code = fields.String(required=True, metadata={"description": "Mã xác thực của bản sao."})
    recipient = fields.String(required=True)
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    expires_at = fields.String(required=True, metadata={"format": "date-time"})
    revoked_at = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})
    status = fields.String(required=True, metadata={"enum": ["active", "expired", "revoked"]})
    uses = fields.List(fields.Nested(ShareUse), required=True, metadata={"description": "Mới nhất trước."})


class SharesPage(Page):
    shares = fields.List(fields.Nested(Share), required=True)


class VerifiedResult(Schema):
    title = fields.String(required=True)
    document_number = fields.String(required=True)
    issuing_unit = fields.String(required=True)
    issue_date = _date(required=True)
    valid_until = _date(required=True, allow_none=True)
    status = fields.String(required=True, metadata={"enum": ["published", "expired", "revoked", "replaced"]})
    status_label = fields.String(required=True)
    valid_today = fields.Boolean(required=True)
    revoked_on = _date(required=True, allow_none=True)


class CheckAnswer(Schema):
    """One of the three answers of a verification: its own pass or fail and a sentence."""

    ok = fields.Boolean(required=True, metadata={"description": "Câu trả lời này đạt hay không."})
    says = fields.String(required=True, metadata={"description": "Một câu tiếng Việt giải thích câu trả lời."})


def _text(description: str) -> fields.String:
    return fields.String(required=True, allow_none=True, metadata={"description": description})


class FileAnswer(CheckAnswer):
    source = fields.String(required=True, metadata={
        "enum": ["register", "upload"], "description": "register: tệp bản sao Sở lưu trong sổ; upload: tệp tải lên."})
    sha256 = fields.String(required=True)
    issued_file = fields.Boolean(required=True, metadata={
        "description": "Tệp giống từng byte với một tệp sổ đã cấp cho mã này."})
    damaged = fields.Boolean(required=True, metadata={"description": "Tệp Sở lưu giữ không còn nguyên vẹn."})
    readable = fields.Boolean(required=True)
    signed = fields.Boolean(required=True)
    intact = fields.Boolean(required=True, metadata={"description": "Phần được ký không bị sửa."})
    whole_file = fields.Boolean(required=True, metadata={"description": "Không có gì được thêm sau khi ký."})
    signed_at = _text("Thời điểm ký do bên ký tự ghi (không phải bằng chứng), ISO 8601.")
    timestamped = fields.Boolean(required=True, metadata={"description": "Chữ ký có dấu thời gian RFC 3161."})
    timestamp_at = _text("Thời điểm ký do dấu thời gian xác nhận, ISO 8601, giờ Việt Nam.")
    timestamp_authority = _text("Tổ chức cấp dấu thời gian.")
    timestamp_trusted = fields.Boolean(required=True)
    valid_when_signed = fields.Boolean(required=True, allow_none=True, metadata={
        "description": "Chứng thư số còn hiệu lực lúc ký; null khi không có thời điểm tin cậy để xét."})
    certificate_problem = _text("Vì sao chứng thư số không còn hiệu lực lúc ký.")
    long_term = fields.Boolean(required=True, metadata={"description": "Tệp mang dữ liệu kiểm tra lâu dài (B-LT)."})
    archival = fields.Boolean(required=True, metadata={"description": "Và dấu thời gian lưu trữ (B-LTA)."})


class RegisterAnswer(CheckAnswer):
    known = fields.Boolean(required=True, metadata={"description": "Sổ cấp bản sao có mã này."})
    register_number = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["published", "expired", "revoked", "replaced"]})
    status_label = fields.String(required=True)
    valid_today = fields.Boolean(required=True)
    since = _date(required=True, allow_none=True, metadata={
        "description": "Ngày văn bản thôi có hiệu lực (thu hồi, thay thế, hết hạn)."})
    reason = _text("Lý do thu hồi hoặc thay thế.")
    replaced_by = _text("Số, ký hiệu của văn bản thay thế.")


class SignerAnswer(CheckAnswer):
    signer_name = _text("Tên trong chứng thư số đã ký.")
    certificate_sha256 = _text("SHA-256 của chứng thư số đã ký.")
    recorded_certificate = fields.Boolean(required=True, metadata={
        "description": "Đúng chứng thư số sổ đã ghi khi cấp bản sao này."})
    names_department = fields.Boolean(required=True, metadata={"description": "Chứng thư số mang tên Sở."})
    trusted = fields.Boolean(required=True, metadata={
        "description": "Chứng thư số dẫn tới một chứng thư gốc mà cổng tin cậy (PORTAL_TRUST_ROOTS)."})


class Checks(Schema):
    source = fields.String(required=True, metadata={"enum": ["register", "upload"]})
    file = fields.Nested(FileAnswer, required=True, metadata={
        "description": "1. Tệp nguyên vẹn và chữ ký số hợp lệ (với thời điểm ký được xác nhận, nếu có)."})
    register = fields.Nested(RegisterAnswer, required=True, metadata={
        "description": "2. Sổ có bản sao này, văn bản được sao còn hiệu lực hôm nay (hoặc từ khi nào không, vì sao)."})
    signer = fields.Nested(SignerAnswer, required=True, metadata={
        "description": "3. Người ký là Sở, chứng thư số dẫn tới chứng thư gốc được tin cậy."})


class Verification(CopyFacts):
    holder_name = fields.String(required=True, metadata={"description": "Tên người được cấp, che bớt."})
    result = fields.Nested(VerifiedResult, required=True)
    reliable = fields.Boolean(required=True, metadata={
        "description": "Cả ba câu trả lời đều đạt: bản sao có thể dùng thay cho bản chính hôm nay."})
    reliance = fields.String(required=True, metadata={
        "description": "Điều người nhận bản sao (ngân hàng, ...) được và không được dựa vào, tiếng Việt."})
    checks = fields.Nested(Checks, required=True, metadata={
        "description": "Ba câu trả lời độc lập; câu 1 và 3 nói về tệp bản sao Sở lưu trong sổ."})


# --- machine API ---------------------------------------------------------------------------------

class FilePart(Upload):
    """A file part of a multipart body; a text field of that name is refused, not taken for a file."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ma.ValidationError("Trường này phải là một tệp gửi kèm (phần tệp của multipart), không phải chữ.")
        return value


class PushForm(Schema):
    """The multipart body of a push. Both parts are required, but a missing one is reported by the
    view together with every error of the manifest's rules (push.check_metadata), so the parser loads
    it partially and leaves the verdict to the view."""

    metadata = fields.String(required=True, metadata={
        "description": "Đối tượng JSON, tên trường là tên cột của bảng kê (procedure_code, document_number, "
                       "issue_date, holder_id, holder_name, ...; replaces: mã kết quả được thay thế).",
        "messages": {"invalid": "Trường metadata phải là chữ (một đối tượng JSON), không phải tệp gửi kèm."}})
    file = FilePart(required=True, metadata={"description": "Tệp PDF kết quả điện tử."})

    def load(self, data, *, many=None, partial=None, unknown=None):
        return super().load(data, many=many, partial=True, unknown=unknown)


class Revocation(Schema):
    reason = fields.String(required=True, metadata={
        "description": "Lý do thu hồi.", "messages": {"required": "Cần ghi rõ lý do thu hồi (trường reason).",
                                                       "invalid": "Lý do thu hồi phải là chữ."}})


class PushAnswer(Schema):
    result_code = fields.String(required=True)
    status = fields.String(required=True)
    published = fields.Boolean(required=True)
    origin = fields.String(required=True)
    replaces = fields.String(required=True, allow_none=True)


class RevocationAnswer(PushAnswer):
    revoked_now = fields.Boolean(required=True, metadata={"description": "false khi kết quả đã bị thu hồi trước đó."})
