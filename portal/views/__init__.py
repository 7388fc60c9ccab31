"""Blueprints, one per audience, and what every page shares (errors, headers, filters)."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from ..models.results import STATUS_LABELS
from ..timeutil import to_local

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

ERROR_TEXTS = {
    400: ("Yêu cầu không hợp lệ", "Yêu cầu gửi lên không hợp lệ."),
    403: ("Không có quyền", "Bạn không có quyền thực hiện thao tác này."),
    404: ("Không tìm thấy", "Không tìm thấy trang hoặc tài liệu bạn yêu cầu."),
    405: ("Không được phép", "Thao tác này không được hỗ trợ."),
    429: ("Quá nhiều yêu cầu", "Bạn đã gửi quá nhiều yêu cầu; vui lòng thử lại sau ít phút."),
    500: ("Lỗi hệ thống", "Đã có lỗi xảy ra; dữ liệu của bạn không bị thay đổi. Vui lòng thử lại sau."),
}


def register_views(app: Flask) -> None:
    from . import account, admin, api, inputs, me, public, verify

    app.url_map.converters["int"] = inputs.IdConverter  # before the routes that use it
    app.before_request(inputs.refuse_nul_characters)

    for blueprint in (public.bp, account.bp, admin.bp, me.bp, api.bp, verify.bp):
        app.register_blueprint(blueprint)

    def error_page(code: int, message: str | None = None):
        title, text = ERROR_TEXTS[code]
        return render_template("error.html", code=code, title=title, message=message or text), code

    for code in ERROR_TEXTS:
        app.register_error_handler(code, lambda err, code=code: error_page(code))

    @app.errorhandler(413)
    def too_large(err):
        # The import page accepts far larger bodies than a single upload (see portal/imports).
        from ..imports import IMPORT_ENDPOINT

        limit = (app.config["IMPORT_MAX_ZIP_MB"] if request.endpoint == IMPORT_ENDPOINT
                 else app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024))
        return render_template(
            "error.html", code=413, title="Tệp quá lớn",
            message=f"Tệp tải lên vượt quá giới hạn {limit} MB. Không có dữ liệu nào bị thay đổi; "
                    "hãy quay lại, chọn tệp nhỏ hơn hoặc chia tệp rồi gửi lại.",
        ), 413

    @app.errorhandler(CSRFError)
    def csrf_error(err):
        return render_template(
            "error.html", code=400, title="Phiên làm việc đã hết hạn",
            message="Biểu mẫu đã hết hạn hoặc thiếu mã bảo mật. Hãy tải lại trang và gửi lại.",
        ), 400

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            # Set, not defaulted: send_file's own "no-cache" lets a browser keep a holder's PDF on disk.
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.template_filter("vn_date")
    def vn_date(value):
        return value.strftime("%d/%m/%Y") if value else ""

    @app.template_filter("vn_datetime")
    def vn_datetime(value):
        local = to_local(value)
        return local.strftime("%d/%m/%Y %H:%M") if local else ""

    @app.template_filter("iso_vn_date")
    def iso_vn_date(value: str):
        return date.fromisoformat(value).strftime("%d/%m/%Y") if value else ""

    @app.template_filter("iso_vn_datetime")
    def iso_vn_datetime(value: str):
        return to_local(datetime.fromisoformat(value)).strftime("%H:%M:%S ngày %d/%m/%Y") if value else ""

    @app.template_filter("status_label")
    def status_label(value):
        return STATUS_LABELS.get(value, value or "")

    @app.template_global()
    def ocr_available() -> bool:
        from ..ocr import available

        return available()

    @app.template_global()
    def page_url(number: int) -> str:
        """This page's URL with its filters, at another page number (globals reach imported macros)."""
        args = {**(request.view_args or {}), **request.args.to_dict(), "page": number}
        return url_for(request.endpoint, **args)

    @app.context_processor
    def globals_():
        return {"department_name": app.config["DEPARTMENT_NAME"]}
