"""The JSON API (/api/v1): the holder's own results, for apps and other systems."""

from flask import Blueprint, jsonify, url_for
from flask_login import current_user

from ..extensions import csrf
from . import searching

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # JSON clients authenticate per request; today only safe GETs exist


@bp.errorhandler(404)
def not_found(err):
    return jsonify(error="not_found", message="Không tìm thấy."), 404


def _holder_or_401():
    if not current_user.is_authenticated or not current_user.is_holder:
        return jsonify(error="unauthorized", message="Cần đăng nhập bằng tài khoản công dân hoặc doanh nghiệp."), 401
    return None


@bp.get("/me/results")
def my_results():
    if (denied := _holder_or_401()) is not None:
        return denied
    q, filters, page, per_page = searching.read_args(staff=False)
    found, problem = searching.run(current_user, q, filters, page, per_page)
    if found is None:
        return jsonify(error="search_unavailable", message=problem), 503
    return jsonify(
        page=found.page, per_page=found.per_page, has_next=found.has_next,
        next=url_for("api.my_results", q=q or None, page=found.page + 1, per_page=per_page) if found.has_next else None,
        results=[searching.result_json(result, hit.snippet) for result, hit in found.items],
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "Kho kết quả số hóa — API", "version": "1.0.0",
             "description": "Kết quả giải quyết thủ tục hành chính của chính người gọi (Nghị định 45/2020/NĐ-CP)."},
    "components": {"securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "session"}}},
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
                "401": {"description": "Chưa đăng nhập bằng tài khoản công dân, doanh nghiệp"},
                "503": {"description": "Chỉ mục tìm kiếm đang được khôi phục"},
            }}},
        "/api/v1/openapi.json": {"get": {"summary": "Mô tả API này", "security": [],
                                         "responses": {"200": {"description": "OpenAPI 3.1"}}}},
    },
}
OPENAPI["components"]["schemas"] = {"Result": {"type": "object", "properties": {
    "code": {"type": "string"}, "title": {"type": "string"}, "document_number": {"type": "string"},
    "issue_date": {"type": "string", "format": "date"}, "status": {"type": "string"},
    "status_label": {"type": "string"}, "procedure_code": {"type": "string"}, "procedure_name": {"type": "string"},
    "field": {"type": "string"}, "unit": {"type": "string"}, "valid_from": {"type": "string", "format": "date"},
    "valid_until": {"type": ["string", "null"], "format": "date"},
    "snippet": {"type": "string", "description": "HTML; the matched words in <mark>"}}}}
