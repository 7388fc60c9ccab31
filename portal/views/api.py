"""The JSON API (/api/v1): the holder's own results, for apps and other systems."""

from flask import Blueprint, current_app, jsonify, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ..access import get_holder_result_or_404, visible_copies
from ..extensions import csrf, db
from ..models import CertifiedCopy
from ..operations import copies, user_errors
from . import searching
from .verify import api_facts, verify_limit

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Exempt from the form check; a request that changes state and rides on the session cookie
# checks the X-CSRFToken header itself (_session_csrf_or_400).
csrf.exempt(bp)


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


def _session_csrf_or_400():
    try:
        csrf.protect()
    except CSRFError:
        return jsonify(error="csrf", message="Thiếu hoặc sai mã bảo mật (tiêu đề X-CSRFToken)."), 400
    return None


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
    if (denied := _holder_or_401() or _session_csrf_or_400()) is not None:
        return denied
    result = get_holder_result_or_404(current_user, code)
    try:
        made = copies.issue_copy(current_user, result)
    except user_errors() as err:
        return jsonify(error="refused", message=str(err)), 422
    return jsonify(copy_json(made)), 201


@bp.get("/me/copies")
def my_copies():
    if (denied := _holder_or_401()) is not None:
        return denied
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
        "/api/v1/me/results/{code}/copies": {"post": {
            "summary": "Cấp bản sao điện tử từ sổ gốc (PDF có chữ ký số của Sở) cho một kết quả của người gọi",
            "description": "Khi xác thực bằng phiên đăng nhập, gửi kèm tiêu đề X-CSRFToken.",
            "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "201": {"description": "Đã cấp", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Copy"}}}},
                "400": {"description": "Thiếu mã bảo mật CSRF"},
                "401": {"description": "Chưa đăng nhập bằng tài khoản công dân, doanh nghiệp"},
                "404": {"description": "Không có kết quả này trong kho của người gọi"},
                "422": {"description": "Không cấp được (kết quả đã thu hồi, hết hiệu lực, bị thay thế); "
                                       "message nói lý do"},
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
                "401": {"description": "Chưa đăng nhập"}}}},
        "/api/v1/verify/{verification_code}": {"get": {
            "summary": "Xác thực một bản sao: số vào sổ, văn bản được sao và hiệu lực hôm nay",
            "security": [],
            "parameters": [{"name": "verification_code", "in": "path", "required": True,
                            "schema": {"type": "string"}, "description": "16 ký tự, có hoặc không có dấu gạch"}],
            "responses": {
                "200": {"description": "Bản sao có trong sổ", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Verification"}}}},
                "404": {"description": "Không có bản sao nào mang mã này"},
                "429": {"description": "Quá nhiều yêu cầu"}}}},
        "/api/v1/openapi.json": {"get": {"summary": "Mô tả API này", "security": [],
                                         "responses": {"200": {"description": "OpenAPI 3.1"}}}},
    },
}
OPENAPI["components"]["schemas"] = {"Copy": {"type": "object", "properties": {
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
