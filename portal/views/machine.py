"""Machine clients (a unit's one-stop-shop system): the token endpoint and the push API.

`POST /oauth/token` (RFC 6749 client credentials, HTTP Basic) answers a bearer token of short
life (portal/oauth.py). The routes under /api/v1/results take that token only: a session cookie
counts for nothing there, so no CSRF check is needed, and a holder's or a clerk's session never
reaches them. The token is checked before the body is read (views/gate.py), then the body may be
as large as an upload. Every call is audited under the client's name (audit.calling_client), and
limited per client (API_CLIENT_RATE_LIMIT)."""

from __future__ import annotations

import json

import flask
from flask import current_app, jsonify, request

from .. import audit
from ..access import PermissionDenied
from ..errors import UserError
from ..extensions import csrf, db, limiter
from ..operations import api_clients, push
from ..scans import ScanError
from . import api_schemas as schemas
from .gate import UPLOAD, audience_check, takes_body
from .openapi import CLIENT, Blueprint
from .uploads import checked_scan

bp = Blueprint("machine", __name__, description="Hệ thống một cửa của đơn vị gửi kết quả điện tử")
csrf.exempt(bp)  # the bearer token is in a header a cross-site page cannot send; cookies count for nothing here

TOKEN_ENDPOINT = "machine.token"


def _client_key() -> str:
    client = audit.calling_client()
    if client is not None:
        return f"client:{client.client_id}"
    auth = request.authorization  # the token endpoint: the client id it authenticates with
    return f"client:{auth.username}" if auth is not None and auth.username else f"ip:{request.remote_addr}"


client_limit = limiter.limit(lambda: current_app.config["API_CLIENT_RATE_LIMIT"], key_func=_client_key)


def _unauthorized(message: str):
    response = jsonify(error="invalid_token", message=message)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="api", error="invalid_token"'
    return response


@audience_check(bp)
def bearer_only():
    """Who is calling, before the body is read: a live bearer token of an active client."""
    if request.endpoint == TOKEN_ENDPOINT or request.method == "OPTIONS":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _unauthorized("Cần mã truy cập (Authorization: Bearer ...) lấy từ /oauth/token.")
    client = api_clients.client_of_token(token.strip())
    if client is None:
        return _unauthorized("Mã truy cập không hợp lệ, đã hết hạn, hoặc ứng dụng kết nối đã bị thu hồi.")
    request.environ[audit.CLIENT_KEY] = client
    return None


@bp.after_request
def audit_every_call(response):
    """A client's call that no operation recorded (a retry answered "already there", a refusal)
    gets an event of its own: every call is in the log under the client's name."""
    if audit.calling_client() is not None and not request.environ.get(audit.AUDITED_KEY):
        audit.record("api_client.call", target=request.path[:255],
                     details={"method": request.method, "status": response.status_code})
        db.session.commit()
    return response


def token():
    """Authlib's token endpoint (RFC 6749 client credentials). The description names it as the
    `client` security scheme's tokenUrl rather than as an operation of its own."""
    response = current_app.extensions["oauth_server"].create_token_response()
    if response.status_code in (400, 401) and (response.get_json(silent=True) or {}).get("error") == "invalid_client":
        # RFC 6749 §5.2: a client that tried HTTP Basic is told 401 with the scheme to use.
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Basic realm="oauth"'
    if response.status_code >= 400:
        audit.record("api_client.token_refused", target=(request.authorization.username or "")[:64]
                     if request.authorization else "", details={"error": (response.get_json(silent=True) or {})
                                                                .get("error", "")})
        db.session.commit()
    return response


# flask.Blueprint's own add_url_rule: a route, not an operation in the description.
flask.Blueprint.add_url_rule(bp, "/oauth/token", view_func=client_limit(token), methods=["POST"])


def _errors(fields: dict[str, str], status: int = 422):
    response = jsonify(error="invalid", message="Dữ liệu gửi lên chưa hợp lệ; xem lỗi của từng trường.",
                       errors=fields)
    response.status_code = status
    return response


@bp.put("/api/v1/results/<code>")
@takes_body(UPLOAD)
@client_limit  # before the body is parsed
@bp.doc(summary="Gửi một kết quả điện tử (tạo mới, hoặc gửi lại cùng nội dung)", security=CLIENT,
        description="Cùng các quy tắc như một dòng của bảng kê (định danh, ngày, tệp PDF); chỉ trong đơn vị của "
                    "ứng dụng kết nối. 201: đã tạo; 200: đã có đúng nội dung này (gửi lại vô hại); 409: mã đang "
                    "chứa nội dung khác; 422: lỗi của từng trường.")
@bp.arguments(schemas.PushForm, location="multipart")
@bp.response(201, schemas.PushAnswer, description="Đã tạo")
@bp.alt_response(200, schema=schemas.PushAnswer, description="Đã có đúng nội dung này", success=True)
@bp.errors(400, 401, 403, 409, 413, 429, 500, 507)
def put_result(form: dict, code: str):
    client = audit.calling_client()
    errors: dict[str, str] = {}
    metadata = None
    try:
        metadata = json.loads(form.get("metadata") or "")
    except ValueError:
        pass
    if not isinstance(metadata, dict):
        errors["metadata"] = "Trường metadata phải là một đối tượng JSON (tên cột như bảng kê)."
        metadata = {}
    scan = None
    upload = form.get("file")
    if upload is None or not upload.filename:
        errors["file"] = "Thiếu tệp PDF kết quả (trường file)."
    try:
        procedures: dict = {}  # the catalogue's answers, looked up once for the check and the push
        row, replaces, row_errors = push.check_metadata(client, code, metadata, procedures)
        errors = {**row_errors, **errors}
        if "file" not in errors:
            try:
                scan = checked_scan(upload)
            except ScanError as err:
                errors["file"] = str(err)
        if scan is not None and scan.source is not None:
            errors["file"] = "Kết quả điện tử phải là tệp PDF (không nhận ảnh quét)."
        if errors:
            if scan is not None:
                scan.discard()
            audit.record("result.push_refused", target=code[:64], details={"errors": sorted(errors)})
            db.session.commit()
            return _errors(errors)
        told, created = push.push(client, code, row, scan, replaces, procedures)
    except push.PushInvalid as err:
        return _errors(err.fields)
    except push.PushForbidden as err:
        return jsonify(error="forbidden", message=str(err)), 403
    except push.PushConflict as err:
        return jsonify(error="conflict", message=str(err)), 409
    except ScanError as err:
        return _errors({"file": str(err)})
    return told, 201 if created else 200


@bp.post("/api/v1/results/<code>/revocation")
@client_limit  # before the body is parsed
@bp.doc(summary="Thu hồi một kết quả của đơn vị", security=CLIENT,
        description="Theo cùng quy tắc như cán bộ thu hồi: chỉ kết quả đang có hiệu lực (409 nếu không). Gửi lại "
                    "khi đã thu hồi: 200 với revoked_now false.")
@bp.arguments(schemas.Revocation)
@bp.response(200, schemas.RevocationAnswer, description="Đã thu hồi (hoặc đã thu hồi từ trước)")
@bp.errors(400, 401, 403, 404, 409, 413, 429, 500)
def revoke_result(body: dict, code: str):
    client = audit.calling_client()
    try:
        result = push.result_of_unit(client, code)
        if result is None:
            return jsonify(error="not_found", message="Không có kết quả này."), 404
        done = push.revoke(client, result, body["reason"])
    except push.PushInvalid as err:
        return _errors(err.fields)
    except (push.PushForbidden, PermissionDenied) as err:
        return jsonify(error="forbidden", message=str(err)), 403
    except UserError as err:
        return jsonify(error="refused", message=str(err)), 409
    return {**push.answer(result), "revoked_now": done}, 200
