"""Sending a result's file, its page images and certified copies: the same for staff, holders and
API callers, always audited.

A file is checked against its SHA-256 before a byte of it leaves (storage.open_verified): one that
is missing or altered is never sent as if it were the original; the caller gets a clear page (JSON
when it asked for JSON), the event goes into the audit trail and /healthz counts it.
"""

from __future__ import annotations

import io
import os
from typing import BinaryIO

from flask import abort, current_app, redirect, request, send_file

from .. import audit
from ..fixity import record_damage
from ..models import CertifiedCopy, DataExport, HandoverSlip, HeldUpload, Result
from ..previews import page_image
from ..storage import HELD, JOBS, SLIPS, FileDamaged, storage
from ..timeutil import to_local
from .errors import answer

UNAVAILABLE_TITLE = "Tệp tạm thời không tải được"
UNAVAILABLE_TEXT = ("Tệp này hiện không đọc được nguyên vẹn từ kho lưu trữ. Sở đã ghi nhận sự cố và sẽ khôi phục "
                    "tệp từ bản sao lưu; hồ sơ của bạn không bị thay đổi. Vui lòng thử lại sau hoặc liên hệ Sở.")


def send_document(result: Result):
    document = result.document
    if document is None:
        abort(404)
    name = f"{result.code}.pdf"
    try:
        source = _checked_source(document.sha256, name)
    except FileDamaged as damage:
        return _unavailable(damage, result, "document")
    try:
        audit.record_access("result.download", result, sha256=document.sha256)
        return _send_pdf(source, document.sha256, name)
    except BaseException:
        _close(source)
        raise


def send_page(result: Result, page_number: int, size: str = "normal"):
    """`size` is one of previews.SIZES, chosen by the route, never read from the request."""
    document = result.document
    if document is None:
        abort(404)
    try:
        image = page_image(document.sha256, page_number, size)
    except FileDamaged as damage:
        return _unavailable(damage, result, "page", page=page_number)
    if image is None:
        abort(404)
    # A page seen is the document seen.
    audit.record_access("result.preview", result, page=page_number, **({"size": size} if size != "normal" else {}))
    return send_file(io.BytesIO(image), mimetype="image/png", max_age=0)


def send_held_page(held: HeldUpload, page_number: int):
    """A page of a scan in the holding area, for its uploader only (access.get_held_upload)."""
    try:
        image = page_image(held.document_sha256, page_number, store=storage(HELD))
    except FileDamaged:
        abort(404)
    if image is None:
        abort(404)
    return send_file(io.BytesIO(image), mimetype="image/png", max_age=0)


def send_copy(copy: CertifiedCopy, *, recorded: bool = False):
    """`recorded`: the download is in the audit trail already, as the use of a share link
    (portal/operations/shares.py records every opening, refused or not, with its outcome)."""
    try:
        source = _checked_source(copy.sha256, copy.file_name)
    except FileDamaged as damage:
        return _unavailable(damage, copy.result, "copy", register_number=copy.register_number)
    try:
        if not recorded:
            audit.record_access("copy.download", copy.result, register_number=copy.register_number)
        return _send_pdf(source, copy.sha256, copy.file_name)
    except BaseException:
        _close(source)
        raise


def send_attachment(correction):
    """The file a holder attached to a request to correct (a PDF: images are made into one)."""
    try:
        source = _checked_source(correction.attachment.sha256, correction.attachment.original_name)
    except FileDamaged as damage:
        return _unavailable(damage, correction.result, "correction", correction=correction.id)
    try:
        audit.record_access("correction.attachment", correction.result, correction=correction.id)
        return _send_pdf(source, correction.attachment.sha256, f"yeu-cau-sua-{correction.id}.pdf")
    except BaseException:
        _close(source)
        raise


def send_slip(slip: HandoverSlip):
    """A batch's hand-over slips: claim codes in clear, so never cached anywhere on the way."""
    try:
        with storage(SLIPS).open_verified(slip.sha256) as fh:
            data = fh.read()
    except FileDamaged:  # gone, or not the slips that were made: send nothing
        abort(404)
    audit.record_access("slip.download", None, slip=slip.id)
    response = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=f"phieu-tra-ket-qua-{slip.id}.pdf", max_age=0)
    response.headers["Cache-Control"] = "no-store, private"
    return response


def send_data_zip(stream: BinaryIO, holder_id: str, made_at):
    """A holder's export of their own data ("Dữ liệu của tôi"): a ZIP built now (a temporary file)
    or built in the background (opened checked from the JOBS area); never kept by a cache."""
    name = f"du-lieu-cua-toi-{holder_id}-{to_local(made_at).strftime('%Y%m%d-%H%M')}.zip"
    response = send_file(stream, mimetype="application/zip", as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "no-store, private"
    return response


def send_data_export(job: DataExport):
    """A background export, checked whole in the JOBS area (gone or altered: as if it had expired)."""
    try:
        stream = storage(JOBS).open_verified(job.sha256)
    except FileDamaged:
        abort(404)
    return send_data_zip(stream, job.user.holder_id, job.finished_at)


def _send_pdf(stream: BinaryIO | str, sha256: str, name: str):
    """The very handle that was checked goes out; its hash is the perfect ETag. (An address: the
    client is sent there, and told to keep nothing.)"""
    if isinstance(stream, str):
        response = redirect(stream, 303)
        response.headers["Cache-Control"] = "no-store, private"
        return response
    size = os.fstat(stream.fileno()).st_size
    response = send_file(stream, mimetype="application/pdf", as_attachment=True, download_name=name, etag=sha256)
    if response.status_code == 200:
        response.content_length = size
    return response


def _checked_source(sha256: str, name: str) -> BinaryIO | str:
    """The stored file, checked whole: opened (the default), or, with PORTAL_S3_PRESIGNED_DOWNLOADS=1
    on an S3 store, a short-lived address of the object for the client to fetch it from the bucket
    itself (checked here first; its bytes then leave the bucket, not this node). FileDamaged if not whole."""
    store = storage()
    if current_app.config["S3_PRESIGNED_DOWNLOADS"]:
        url = store.download_url(sha256, name, "application/pdf", current_app.config["S3_PRESIGN_SECONDS"])
        if url is not None:
            store.check(sha256)
            return url
    return store.open_verified(sha256)


def _close(source: BinaryIO | str) -> None:
    if not isinstance(source, str):
        source.close()


def _unavailable(damage: FileDamaged, result: Result, kind: str, **details):
    record_damage(damage, result=result, kind=kind, route=request.path, **details)
    return answer(503, UNAVAILABLE_TEXT, title=UNAVAILABLE_TITLE, error="file_unavailable")
