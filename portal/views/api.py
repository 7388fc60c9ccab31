"""The JSON API (/api/v1): the holder's own results, for apps and other systems.

Every answer is JSON and goes through its schema (views/api_schemas.py); errors, wherever they are
raised, are `{"error", "message"}` (views/errors.py). /api/v1/openapi.json is generated from the
same schemas (views/openapi.py).
"""

import functools

from flask import current_app, jsonify, request, url_for
from flask_login import current_user
from flask_smorest import current_api

from .. import search
from ..access import (
    AssuranceTooLow,
    get_holder_copy_or_404,
    get_holder_result_or_404,
    get_holder_share_or_404,
    has_own_store,
    visible_copies,
    visible_shares,
)
from ..errors import UserError
from ..extensions import csrf, db
from ..models import CertifiedCopy, CopyShare
from ..operations import copies, shares
from ..timeutil import to_local
from . import api_schemas as schemas
from . import searching
from .errors import refuse
from .openapi import NOBODY, SESSION, Blueprint
from .verify import api_facts, verify_limit

bp = Blueprint("api", __name__, url_prefix="/api/v1", description="Kho kết quả của công dân, doanh nghiệp")
# Exempt from the form check; a request that changes state and rides on the session cookie
# checks the X-CSRFToken header itself (_session_csrf_or_400).
csrf.exempt(bp)


def _holder_only() -> None:
    """401 for nobody, 403 for an account that has no results of its own (staff)."""
    if not current_user.is_authenticated:
        refuse(401, "Cần đăng nhập bằng tài khoản công dân hoặc doanh nghiệp.")
    if not has_own_store(current_user):
        refuse(403, "Chỉ tài khoản công dân, doanh nghiệp có kho kết quả riêng.")


@bp.get("/me/results")
@bp.doc(summary="Các kết quả đã cấp cho người gọi, có tìm kiếm", security=SESSION)
@bp.arguments(schemas.SearchArgs, location="query")
@bp.response(200, schemas.ResultsPage, description="Một trang kết quả")
@bp.errors(400, 401, 403, 429, 500, 503)
def my_results(args: dict):
    _holder_only()
    q, page, per_page = args["q"] or "", args["page"], args["per_page"]
    filters = search.Filters(field=args["field"], year=args["year"], status=args["status"])
    found, problem = searching.run(current_user, q, filters, page, per_page)
    if found is None:
        return jsonify(error="search_unavailable", message=problem), 503
    return {
        "page": found.page, "per_page": found.per_page, "has_next": found.has_next,
        "next": url_for("api.my_results", q=q or None, page=found.page + 1, per_page=per_page)
        if found.has_next else None,
        "results": [searching.result_json(result, hit.snippet) for result, hit in found.items],
    }


def copy_json(copy: CertifiedCopy) -> dict:
    return {
        "verification_code": copy.display_code, "register_number": copy.register_number,
        "issued_at": copy.issued_at.isoformat(), "result_code": copy.result.code, "pages": copy.page_count,
        "sha256": copy.sha256,
        "download_url": url_for("me.copy_file", code=copy.verification_code, _external=True),
        "verify_url": f"{current_app.config['BASE_URL']}/verify/{copy.verification_code}",
        "timestamped_at": to_local(copy.timestamped_at).isoformat() if copy.timestamped_at else None,
        "timestamp_authority": copy.timestamp_authority, "long_term": copy.long_term,
    }


@bp.post("/me/results/<code>/copies")
@bp.doc(summary="Cấp bản sao điện tử từ sổ gốc (PDF có chữ ký số của Sở) cho một kết quả của người gọi",
        description="Khi xác thực bằng phiên đăng nhập, gửi kèm tiêu đề X-CSRFToken. Phiên đăng nhập bằng VNeID "
                    "dưới mức độ xác thực cần thiết bị từ chối với 403, error \"assurance_too_low\". Không cấp "
                    "được (kết quả đã thu hồi, hết hiệu lực, bị thay thế): 422, message nói lý do.",
        security=SESSION)
@bp.response(201, schemas.Copy, description="Đã cấp")
@bp.alt_response(422, schema=schemas.Error, description="Không cấp được; message nói lý do")
@bp.errors(400, 401, 403, 404, 413, 429, 500, 507)
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
    return copy_json(made), 201


@bp.get("/me/copies")
@bp.doc(summary="Các bản sao đã cấp cho người gọi, mới nhất trước", security=SESSION)
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.CopiesPage, description="Một trang bản sao")
@bp.errors(400, 401, 403, 429, 500)
def my_copies(args: dict):
    _holder_only()
    return _page(visible_copies(current_user).order_by(CertifiedCopy.issued_at.desc(), CertifiedCopy.id.desc()),
                 args, "copies", copy_json)


def _page(query, args: dict, key: str, as_json) -> dict:
    """One page of `query` in the shape of every list (schemas.Page, as /me/results answers it). No
    total, counting costs a scan: one row more than the page tells whether there is a next
    (db.paginate(count=False) never says there is)."""
    page, per_page = args["page"], args["per_page"]
    rows = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)).all()
    has_next = len(rows) > per_page
    return {"page": page, "per_page": per_page, "has_next": has_next,
            "next": url_for(request.endpoint, page=page + 1, per_page=per_page) if has_next else None,
            key: [as_json(x) for x in rows[:per_page]]}


def holder_with_token(view):
    """Checked before the body is read: a holder, and the X-CSRFToken header (a forged cross-site
    body is refused as such, not parsed and judged invalid)."""
    @functools.wraps(view)
    def checked(*args, **kwargs):
        _holder_only()
        csrf.protect()
        return view(*args, **kwargs)
    return checked


def own_copy_first(view):
    """The caller's copy named by `code` (with or without its dashes) is found before the body is
    read: another holder's copy is a 404 whatever they send, exactly as a missing one."""
    @functools.wraps(view)
    def found(*args, code: str, **kwargs):
        copy = get_holder_copy_or_404(current_user, code)
        return view(*args, copy=copy, **kwargs)
    return found


def share_json(share: CopyShare) -> dict:
    return {
        "id": share.id, "verification_code": share.copy.display_code, "recipient": share.recipient,
        "created_at": share.created_at.isoformat(), "expires_at": share.expires_at.isoformat(),
        "revoked_at": share.revoked_at.isoformat() if share.revoked_at else None, "status": share.status(),
        "uses": [{"at": u.at.isoformat(), "address": u.address, "outcome": u.outcome} for u in share.uses],
    }


@bp.post("/me/copies/<code>/shares")
@bp.doc(summary="Tạo đường dẫn chia sẻ một bản sao của người gọi: ai có đường dẫn tải được bản sao, không cần tài "
                "khoản, đến khi hết hạn hoặc bị thu hồi",
        description="code: mã xác thực của bản sao, có hoặc không có dấu gạch. Đường dẫn (url) chỉ trả về một lần "
                    "này; Sở chỉ lưu mã băm của nó. Mỗi lần mở được ghi lại và hiện trong GET /api/v1/me/shares. "
                    "Khi xác thực bằng phiên đăng nhập, gửi kèm tiêu đề X-CSRFToken. Phiên đăng nhập bằng VNeID "
                    "dưới mức độ xác thực cần thiết bị từ chối với 403, error \"assurance_too_low\". Bản sao của "
                    "người khác: 404 như bản sao không có. Kết quả đã bị thu hồi, thay thế, hết hiệu lực: 422, "
                    "error \"refused\", message nói lý do.",
        security=SESSION)
@holder_with_token
@own_copy_first
@bp.arguments(schemas.ShareRequest, location="json")
@bp.response(201, schemas.NewShare, description="Đã tạo")
@bp.errors(400, 401, 403, 404, 413, 429, 500)
def create_share(args: dict, copy: CertifiedCopy):
    try:
        made = shares.create(current_user, copy, args["recipient"], args["days"])
    except AssuranceTooLow as err:
        return jsonify(error="assurance_too_low", message=str(err)), 403
    except UserError as err:
        return jsonify(error="refused", message=str(err)), 422
    return {"id": made.share.id, "url": made.url, "expires_at": made.share.expires_at.isoformat()}, 201


@bp.get("/me/shares")
@bp.doc(summary="Các đường dẫn chia sẻ bản sao của người gọi, mới nhất trước, với mọi lần mở", security=SESSION)
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.SharesPage, description="Một trang đường dẫn chia sẻ")
@bp.errors(400, 401, 403, 429, 500)
def my_shares(args: dict):
    _holder_only()
    return _page(visible_shares(current_user).order_by(CopyShare.created_at.desc(), CopyShare.id.desc()),
                 args, "shares", share_json)


@bp.delete("/me/shares/<int:share_id>")
@bp.doc(summary="Thu hồi một đường dẫn chia sẻ của người gọi: từ nay mở đường dẫn chỉ nhận lời báo đã thu hồi",
        description="Gửi kèm tiêu đề X-CSRFToken khi xác thực bằng phiên đăng nhập. Thu hồi lại một đường dẫn đã "
                    "thu hồi cũng trả 204. Đường dẫn của người khác: 404 như đường dẫn không có.",
        security=SESSION)
@holder_with_token
@bp.response(204, description="Đã thu hồi")
@bp.errors(400, 401, 403, 404, 429, 500)
def revoke_share(share_id: int):
    shares.revoke(current_user, get_holder_share_or_404(current_user, share_id))
    return "", 204


@bp.get("/verify/<verification_code>")
@verify_limit
@bp.doc(summary="Xác thực một bản sao: số vào sổ, văn bản được sao, hiệu lực hôm nay, và ba câu trả lời",
        description="checks trả lời riêng ba câu: tệp bản sao Sở lưu giữ nguyên vẹn và chữ ký hợp lệ (file); sổ "
                    "có bản sao và văn bản còn hiệu lực hôm nay (register); người ký là Sở, chứng thư dẫn tới "
                    "chứng thư gốc được tin cậy (signer). reliable chỉ đúng khi cả ba đạt.", security=NOBODY,
        parameters=[{"in": "path", "name": "verification_code", "required": True, "schema": {"type": "string"},
                     "description": "16 ký tự, có hoặc không có dấu gạch"}])
@bp.response(200, schemas.Verification, description="Bản sao có trong sổ")
@bp.errors(400, 404, 429, 500, 507)
def verify(verification_code: str):
    return api_facts(verification_code)


@bp.get("/openapi.json")
@bp.doc(summary="Mô tả API này (OpenAPI 3.1), sinh ra từ các lược đồ của chính API", security=NOBODY)
@bp.response(200, description="OpenAPI 3.1")
@bp.errors(500)
def openapi():
    return jsonify(current_api.spec.to_dict())
