"""The JSON API (/api/v1): the holder's own results, for apps and other systems.

Every answer is JSON; errors, wherever they are raised, are `{"error", "message"}` (views/errors.py).
"""

from flask import Blueprint, current_app, jsonify, url_for
from flask_login import current_user

from ..access import AssuranceTooLow, get_holder_result_or_404, visible_copies
from ..errors import UserError
from ..extensions import csrf, db
from ..models import CertifiedCopy
from ..operations import copies
from . import searching
from .errors import refuse
from .verify import api_facts, verify_limit

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Exempt from the form check; a request that changes state and rides on the session cookie
# checks the X-CSRFToken header itself (_session_csrf_or_400).
csrf.exempt(bp)


def _holder_only() -> None:
    """401 for nobody, 403 for an account that has no results of its own (staff)."""
    if not current_user.is_authenticated:
        refuse(401, "Cần đăng nhập bằng tài khoản công dân hoặc doanh nghiệp.")
    if not current_user.is_holder:
        refuse(403, "Chỉ tài khoản công dân, doanh nghiệp có kho kết quả riêng.")


@bp.get("/me/results")
def my_results():
    _holder_only()
    q, filters, page, per_page = searching.read_args(staff=False)
    found, problem = searching.run(current_user, q, filters, page, per_page)
    if found is None:
        return jsonify(error="search_unavailable", message=problem), 503
    return jsonify(
        page=found.page, per_page=found.per_page, has_next=found.has_next,
        next=url_for("api.my_results", q=q or None, page=found.page + 1, per_page=per_page) if found.has_next else None,
        results=[searching.result_json(result, hit.snippet) for result, hit in found.items],
    )


def copy_json(copy: CertifiedCopy) -> dict:
    return {
        "verification_code": copy.display_code, "register_number": copy.register_number,
        "issued_at": copy.issued_at.isoformat(), "result_code": copy.result.code, "pages": copy.page_count,
        "sha256": copy.sha256,
        "download_url": url_for("me.copy_file", code=copy.verification_code, _external=True),
        "verify_url": f"{current_app.config['BASE_URL']}/verify/{copy.verification_code}",
    }


@bp.post("/me/results/<code>/copies")
def issue_copy(code: str):
    _holder_only()
    csrf.protect()  # the session cookie rides along by itself: the X-CSRFToken header must too
    result = get_holder_result_or_404(current_user, code)
    try:
        made = copies.issue_copy(current_user, result)
    except AssuranceTooLow as err:  # a VNeID session below the level a copy needs: log in again at it
        return jsonify(error="assurance_too_low", message=str(err)), 403
    except UserError as err:
        return jsonify(error="refused", message=str(err)), 422
    return jsonify(copy_json(made)), 201


@bp.get("/me/copies")
def my_copies():
    _holder_only()
    _q, _filters, page, per_page = searching.read_args(staff=False)
    issued = db.paginate(visible_copies(current_user).order_by(CertifiedCopy.issued_at.desc(), CertifiedCopy.id.desc()),
                         page=page, per_page=per_page, error_out=False, count=False)
    return jsonify(page=page, per_page=per_page, has_next=issued.has_next, copies=[copy_json(c) for c in issued.items])


@bp.get("/verify/<code>")
@verify_limit
def verify(code: str):
    return jsonify(api_facts(code))


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


# Every error the API answers, whatever raised it, as JSON {"error", "message"} (views/errors.py).
ERROR_RESPONSES = {
    "400": "Yêu cầu không hợp lệ; error là \"csrf\" khi thiếu hoặc sai tiêu đề X-CSRFToken",
    "401": "Chưa đăng nhập",
    "403": "Tài khoản đăng nhập không phải của công dân, doanh nghiệp",
    "404": "Không tìm thấy (cả khi đường dẫn không có trong API)",
    "405": "Phương thức không được hỗ trợ; tiêu đề Allow liệt kê các phương thức dùng được",
    "413": "Dữ liệu gửi lên quá lớn",
    "429": "Quá nhiều yêu cầu; tiêu đề Retry-After cho biết sau bao nhiêu giây thì thử lại",
    "500": "Lỗi hệ thống; không có gì bị thay đổi",
    "503": "Tạm thời gián đoạn (chỉ mục tìm kiếm đang được khôi phục)",
    "507": "Máy chủ hết chỗ lưu trữ; không có gì được lưu, hãy thử lại sau",
}


def _errors(*codes: str) -> dict:
    return {code: {"$ref": f"#/components/responses/{code}"} for code in codes}


OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "Kho kết quả số hóa — API", "version": "1.0.0",
             "description": "Kết quả giải quyết thủ tục hành chính của chính người gọi (Nghị định 45/2020/NĐ-CP). "
                            "Mọi lỗi đều trả về JSON {\"error\": mã lỗi, \"message\": lời giải thích tiếng Việt}, "
                            "kể cả đường dẫn không có (404) và phương thức không hỗ trợ (405)."},
    "components": {
        "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "session"}},
        "responses": {code: {"description": text, "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Error"}}}} for code, text in ERROR_RESPONSES.items()},
    },
    "security": [{"session": []}],
    "paths": {
        "/api/v1/me/results": {"get": {
            "summary": "Các kết quả đã cấp cho người gọi, có tìm kiếm",
            "parameters": [
                {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 300},
                 "description": "Từ cần tìm, có hoặc không dấu; mã kết quả, số ký hiệu khớp nguyên vẹn."},
                {"name": "field", "in": "query", "schema": {"type": "string"}},
                {"name": "year", "in": "query", "schema": {"type": "integer"}},
                {"name": "status", "in": "query",
                 "schema": {"type": "string", "enum": list(searching.HOLDER_STATUS_CHOICES)}},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {"name": "per_page", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
            ],
            "responses": {
                "200": {"description": "Một trang kết quả", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["page", "per_page", "has_next", "results"],
                    "properties": {
                        "page": {"type": "integer"}, "per_page": {"type": "integer"},
                        "has_next": {"type": "boolean"}, "next": {"type": ["string", "null"]},
                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}}}}}}},
                **_errors("401", "403", "500", "503"),
            }}},
        "/api/v1/me/results/{code}/copies": {"post": {
            "summary": "Cấp bản sao điện tử từ sổ gốc (PDF có chữ ký số của Sở) cho một kết quả của người gọi",
            "description": "Khi xác thực bằng phiên đăng nhập, gửi kèm tiêu đề X-CSRFToken. Phiên đăng nhập bằng "
                           "VNeID dưới mức độ xác thực cần thiết bị từ chối với 403, error \"assurance_too_low\".",
            "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "201": {"description": "Đã cấp", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Copy"}}}},
                **_errors("400", "401", "403", "404", "413", "500", "507"),
                "422": {"description": "Không cấp được (kết quả đã thu hồi, hết hiệu lực, bị thay thế); "
                                       "message nói lý do", "content": {"application/json": {"schema": {
                                           "$ref": "#/components/schemas/Error"}}}},
            }}},
        "/api/v1/me/copies": {"get": {
            "summary": "Các bản sao đã cấp cho người gọi, mới nhất trước",
            "parameters": [
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {"name": "per_page", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}}],
            "responses": {"200": {"description": "Một trang bản sao", "content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "page": {"type": "integer"}, "per_page": {"type": "integer"}, "has_next": {"type": "boolean"},
                    "copies": {"type": "array", "items": {"$ref": "#/components/schemas/Copy"}}}}}}},
                **_errors("401", "403", "500")}}},
        "/api/v1/verify/{verification_code}": {"get": {
            "summary": "Xác thực một bản sao: số vào sổ, văn bản được sao và hiệu lực hôm nay",
            "security": [],
            "parameters": [{"name": "verification_code", "in": "path", "required": True,
                            "schema": {"type": "string"}, "description": "16 ký tự, có hoặc không có dấu gạch"}],
            "responses": {
                "200": {"description": "Bản sao có trong sổ", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Verification"}}}},
                **_errors("404", "429", "500", "507")}}},
        "/api/v1/openapi.json": {"get": {"summary": "Mô tả API này", "security": [],
                                         "responses": {"200": {"description": "OpenAPI 3.1"},
                                                       **_errors("500")}}},
    },
}
OPENAPI["components"]["schemas"] = {"Error": {
    "type": "object", "required": ["error", "message"], "properties": {
        "error": {"type": "string", "description": "mã lỗi cho chương trình, ví dụ not_found, csrf, storage_full"},
        "message": {"type": "string", "description": "lời giải thích cho người dùng, tiếng Việt"}}},
    "Copy": {"type": "object", "properties": {
    "verification_code": {"type": "string"}, "register_number": {"type": "string"},
    "issued_at": {"type": "string", "format": "date-time"}, "result_code": {"type": "string"},
    "pages": {"type": "integer"}, "sha256": {"type": "string"},
    "download_url": {"type": "string", "format": "uri"}, "verify_url": {"type": "string", "format": "uri"}}},
    "Verification": {"type": "object", "properties": {
        "verification_code": {"type": "string"}, "register_number": {"type": "string"},
        "issued_at": {"type": "string", "format": "date-time"}, "pages": {"type": "integer"},
        "sha256": {"type": "string"}, "holder_name": {"type": "string", "description": "partly masked"},
        "result": {"type": "object", "properties": {
            "title": {"type": "string"}, "document_number": {"type": "string"}, "issuing_unit": {"type": "string"},
            "issue_date": {"type": "string", "format": "date"},
            "valid_until": {"type": ["string", "null"], "format": "date"},
            "status": {"type": "string", "enum": ["published", "expired", "revoked", "replaced"]},
            "status_label": {"type": "string"}, "valid_today": {"type": "boolean"},
            "revoked_on": {"type": ["string", "null"], "format": "date"}}}}},
    "Result": {"type": "object", "properties": {
    "code": {"type": "string"}, "title": {"type": "string"}, "document_number": {"type": "string"},
    "issue_date": {"type": "string", "format": "date"}, "status": {"type": "string"},
    "status_label": {"type": "string"}, "procedure_code": {"type": "string"}, "procedure_name": {"type": "string"},
    "field": {"type": "string"}, "unit": {"type": "string"}, "valid_from": {"type": "string", "format": "date"},
    "valid_until": {"type": ["string", "null"], "format": "date"},
    "snippet": {"type": "string", "description": "HTML; the matched words in <mark>"}}}}
