"""The baseline of `bench/copies.py --concurrent`: issuing a copy as it was before register
numbers were reserved (issue 12, item 19). The number was max(number) + 1, chosen before
rendering; a copy that lost its number to a concurrent one rendered again, 5 times at most,
then answered "register busy". `install()` puts it in place of `operations.copies.issue_copy`
in this process (the bench's gunicorn calls it before loading the app)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

NUMBER_ATTEMPTS = 5


def issue_copy_with_retries(actor, result):
    from portal import audit
    from portal.access import require
    from portal.copies import pdf, worker
    from portal.copies.keys import ensure_signing_key
    from portal.extensions import db
    from portal.models import CertifiedCopy
    from portal.operations import OperationError
    from portal.operations.copies import copy_job, new_verification_code, why_no_copy
    from portal.storage import storage
    from portal.timeutil import to_local, utcnow

    require(actor, "copy", result)
    if (reason := why_no_copy(result)) is not None:
        raise OperationError(reason)
    config = current_app.config
    signing = ensure_signing_key(config)
    try:
        for _ in range(NUMBER_ATTEMPTS):
            issued_at = utcnow()
            year = to_local(issued_at).year
            number = (db.session.scalar(select(func.max(CertifiedCopy.number)).where(CertifiedCopy.year == year))
                      or 0) + 1
            copy = CertifiedCopy(year=year, number=number, verification_code=new_verification_code(),
                                 result_id=result.id, holder_id=result.holder_id, holder_name=result.holder_name,
                                 requested_by_id=actor.id, issued_at=issued_at)
            with storage().local_copy(result.document.sha256) as original:
                job = copy_job(copy, result, actor, signing, original)
                db.session.rollback()
                produced = worker.run(pdf.produce, job, processes=config["COPY_PROCESSES"])
            if (reason := why_no_copy(result)) is not None:
                raise OperationError(reason)
            copy.sha256 = storage().put_bytes(produced.pdf)
            copy.size, copy.page_count = len(produced.pdf), produced.pages
            copy.signer_cert_sha256 = produced.signer_cert_sha256
            try:
                db.session.add(copy)
                audit.record("copy.issue", actor=actor, result=result,
                             details={"register_number": copy.register_number, "sha256": copy.sha256})
                db.session.commit()
                return copy
            except IntegrityError:
                db.session.rollback()
        raise OperationError("Sổ cấp bản sao đang bận; xin thử lại sau ít giây.")
    except pdf.CopyFailed as err:
        db.session.rollback()
        raise OperationError(str(err)) from None
    except BaseException:
        db.session.rollback()
        raise


def install() -> None:
    from portal.operations import copies

    copies.issue_copy = issue_copy_with_retries
