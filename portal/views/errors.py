"""Every error a person or a program sees: a Vietnamese page, or under /api/ always JSON
`{"error": <code>, "message": <Vietnamese>}`, whatever raised it and however early (routing, the
body limit, CSRF, rate limits, the view, an exception nobody caught)."""

from __future__ import annotations

import shutil
from typing import NoReturn

from flask import Flask, abort, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..access import NotVisible
from ..storage import StorageUnavailable, out_of_space
from . import gate

ERROR_TEXTS = {
    400: ("bad_request", "Yêu cầu không hợp lệ", "Yêu cầu gửi lên không hợp lệ."),
    401: ("unauthorized", "Cần đăng nhập", "Vui lòng đăng nhập để tiếp tục."),
    403: ("forbidden", "Không có quyền", "Bạn không có quyền thực hiện thao tác này."),
    404: ("not_found", "Không tìm thấy", "Không tìm thấy trang hoặc tài liệu bạn yêu cầu."),
    405: ("method_not_allowed", "Không được phép", "Thao tác này không được hỗ trợ."),
    413: ("too_large", "Dữ liệu gửi lên quá lớn", "Dữ liệu gửi lên vượt quá giới hạn cho phép."),
    429: ("too_many_requests", "Quá nhiều yêu cầu", "Bạn đã gửi quá nhiều yêu cầu; vui lòng thử lại sau ít phút."),
    500: ("internal_error", "Lỗi hệ thống",
          "Đã có lỗi xảy ra; dữ liệu của bạn không bị thay đổi. Vui lòng thử lại sau."),
    503: ("unavailable", "Tạm thời gián đoạn", "Hệ thống đang tạm gián đoạn; vui lòng thử lại sau ít phút."),
    507: ("storage_full", "Máy chủ đã hết chỗ lưu trữ",
          "Bộ nhớ lưu trữ của máy chủ đã đầy nên chưa có gì được lưu. Vui lòng thử lại sau."),
}
CSRF_MESSAGE = "Biểu mẫu đã hết hạn hoặc thiếu mã bảo mật. Hãy tải lại trang và gửi lại."
CSRF_API_MESSAGE = "Thiếu hoặc sai mã bảo mật (tiêu đề X-CSRFToken)."
STORE_UNAVAILABLE_TEXT = ("Kho lưu trữ tệp của Sở tạm thời không trả lời, nên chưa đọc hay lưu được tệp nào; "
                          "không có dữ liệu nào bị thay đổi. Vui lòng thử lại sau ít phút.")

# What the databases say when their disk is full.
_SQLITE_FULL = 13
_POSTGRES_DISK_FULL = "53100"


def storage_full(err: BaseException | None) -> bool:
    """Whether `err` (or what it wraps) says that there is no space left to write."""
    while err is not None:
        if out_of_space(err):
            return True
        if isinstance(err, OperationalError):
            orig = err.orig
            if getattr(orig, "sqlite_errorcode", None) == _SQLITE_FULL or \
                    getattr(orig, "sqlstate", None) == _POSTGRES_DISK_FULL:
                return True
        err = err.__cause__ or err.__context__
    return False


def wants_json() -> bool:
    """Under /api/, or a caller that asked for JSON rather than a page (an API client following a
    copy's download_url, say)."""
    return (request.path == "/api" or request.path.startswith(("/api/", "/oauth/"))
            or request.accept_mimetypes.best_match(("text/html", "application/json")) == "application/json")


def answer(code: int, message: str | None = None, *, title: str | None = None, error: str | None = None,
           headers: dict | None = None, template: str = "error.html", **context):
    """The error page (`template`, which extends error.html, when a page offers more than the message),
    or its JSON under /api/."""
    known = ERROR_TEXTS.get(code) or ERROR_TEXTS[500 if code >= 500 else 400]
    error, title, message = error or known[0], title or known[1], message or known[2]
    if wants_json():
        response = jsonify(error=error, message=message)
    else:
        response = current_app.make_response(render_template(template, code=code, title=title, message=message,
                                                             **context))
    response.status_code = code
    response.headers.update(headers or {})
    return response


def refuse(code: int, message: str, error: str | None = None) -> NoReturn:
    """Stop here with this status and message (a page, or JSON under /api/)."""
    abort(answer(code, message, error=error))


def http_error(err: HTTPException):
    headers = {}
    if err.code == 405 and getattr(err, "valid_methods", None):
        headers["Allow"] = ", ".join(err.valid_methods)
    return answer(err.code or 500, headers=headers)


def too_large(err):
    """The limit that applied here: a form's kilobytes, or the file limit of an upload or import."""
    config = current_app.config
    kind = gate.body_kind()
    if kind == gate.FORM:
        kilobytes = config["MAX_FORM_BYTES"] // 1024
        return answer(413, f"Dữ liệu gửi lên vượt quá giới hạn {kilobytes} KB của trang này. "
                           "Không có dữ liệu nào bị thay đổi.")
    megabytes = config["IMPORT_MAX_ZIP_MB"] if kind == gate.IMPORT else config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
    return answer(413, f"Tệp tải lên vượt quá giới hạn {megabytes} MB. Không có dữ liệu nào bị thay đổi; "
                       "hãy quay lại, chọn tệp nhỏ hơn hoặc chia tệp rồi gửi lại.", title="Tệp quá lớn")


def csrf_error(err):
    if wants_json():
        return answer(400, CSRF_API_MESSAGE, error="csrf")
    return answer(400, CSRF_MESSAGE, title="Phiên làm việc đã hết hạn", error="csrf")


def storage_full_error(err):
    """507 when a write found the disk (or the database's) full: every writer removes what it
    had begun, so nothing was saved. The operators read it in the log."""
    if not storage_full(err):
        raise err
    data_dir = current_app.config["PORTAL_DATA_DIR"]
    free_mb = shutil.disk_usage(data_dir).free // (1024 * 1024)
    current_app.logger.error("No space left to write: %s %s (%s); %d MB free in %s",
                             request.method, request.path, err, free_mb, data_dir)
    return answer(507)


def internal_error(err: InternalServerError):
    if storage_full(err.original_exception):  # full, found somewhere nobody expected it
        return answer(507)
    return answer(500)


def storage_unavailable(err: StorageUnavailable):
    """The bucket did not answer: nothing was read or kept; a try later is all it takes."""
    current_app.logger.error("file store unavailable: %s %s (%s)", request.method, request.path, err)
    return answer(503, STORE_UNAVAILABLE_TEXT, title="Kho lưu trữ tệp tạm thời không trả lời",
                  error="storage_unavailable", headers={"Retry-After": "60"})


def not_visible(err: NotVisible):
    return answer(404)


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(NotVisible, not_visible)
    app.register_error_handler(StorageUnavailable, storage_unavailable)
    app.register_error_handler(413, too_large)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(InternalServerError, internal_error)
    app.register_error_handler(OSError, storage_full_error)
    app.register_error_handler(OperationalError, storage_full_error)
