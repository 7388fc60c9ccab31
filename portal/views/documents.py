"""Sending a result's file and page images: the same for staff and holders, always audited."""

from __future__ import annotations

from flask import abort, send_file

from .. import audit
from ..models import CertifiedCopy, Result
from ..previews import page_image
from ..storage import storage


def send_document(result: Result):
    document = result.document
    if document is None:
        abort(404)
    audit.record_access("result.download", result, sha256=document.sha256)
    return send_file(storage().path_for(document.sha256), mimetype="application/pdf",
                     as_attachment=True, download_name=f"{result.code}.pdf")


def send_page(result: Result, page_number: int):
    document = result.document
    image = page_image(document.sha256, page_number) if document is not None else None
    if image is None:
        abort(404)
    audit.record_access("result.preview", result, page=page_number)  # a page seen is the document seen
    return send_file(image, mimetype="image/png", max_age=0)


def send_copy(copy: CertifiedCopy):
    audit.record_access("copy.download", copy.result, register_number=copy.register_number)
    return send_file(storage().path_for(copy.sha256), mimetype="application/pdf", as_attachment=True,
                     download_name=copy.file_name)
