"""Issuing electronic copies from the original register (bản sao điện tử từ sổ gốc)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path

import segno
from flask import current_app, render_template
from sqlalchemy import select, update

from .. import audit, wording
from ..access import require
from ..copies import ltv, numbers, pdf, worker
from ..copies.keys import ensure_signing_key
from ..copies.marks import conversion_mark
from ..extensions import db
from ..fixity import record_damage
from ..identifiers import PERSON, VERIFICATION_ALPHABET, VERIFICATION_CODE_LENGTH
from ..models import CertifiedCopy, CopyFile, Result, User
from ..models.results import EXPIRED, PUBLISHED, REPLACED, REVOKED
from ..storage import FileDamaged, storage
from ..timeutil import to_local, utcnow
from . import OperationError
from .results import replacement_of

STAMP = "Bản sao điện tử từ sổ gốc · Mã xác thực {code} · Trang {page}/{pages}"


def new_verification_code() -> str:
    return "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(VERIFICATION_CODE_LENGTH))


def why_no_copy(result: Result) -> str | None:
    """Why a copy of this result cannot be issued today, in the holder's words; None if it can."""
    status = result.effective_status()
    if status == REVOKED:
        reason = f" Lý do: {result.status_reason}." if result.status_reason else ""
        return f"Kết quả này đã bị thu hồi nên không được cấp bản sao.{reason}"
    if status == REPLACED:
        newer = replacement_of(result)
        hint = (f" Hãy xin bản sao của kết quả thay thế ({newer.document_number})."
                if newer is not None and newer.effective_status() == PUBLISHED else "")
        return f"Kết quả này đã được thay thế bằng một kết quả khác nên không được cấp bản sao.{hint}"
    if status == EXPIRED:
        return (f"Kết quả này đã hết hiệu lực (hiệu lực đến hết ngày {wording.day(result.valid_until)}) "
                "nên không được cấp bản sao.")
    if status != PUBLISHED:
        return "Kết quả này chưa được phát hành."
    if result.document is None:
        return "Kết quả này chưa có tệp điện tử; xin liên hệ Sở."
    return None


def _certificate_html(copy: CertifiedCopy, result: Result, actor: User, original_pages: int) -> str:
    config = current_app.config
    verify_url = f"{config['BASE_URL']}/verify/{copy.verification_code}"
    department = config["DEPARTMENT_NAME"]
    return render_template(
        "copies/certificate.html", copy=copy, result=result, verify_url=verify_url,
        # As if the certification takes one page; the rendering process corrects it if not.
        page_count_text=pdf.page_count_text(1, original_pages),
        # A PNG: as an SVG the QR code cost WeasyPrint ~50 ms more; 6 px per module prints sharp.
        qr_uri=segno.make(verify_url, error="m").png_data_uri(scale=6, border=0),
        department=department, department_short=department.split(" tỉnh ")[0], province=config["PROVINCE_NAME"],
        title=f"Bản sao điện tử từ sổ gốc — {result.document_number}",
        issued_at_text=wording.moment(copy.issued_at),
        place_date=wording.place_and_date(config["PROVINCE_NAME"], to_local(copy.issued_at).date()),
        holder_id_label="CCCD" if result.holder_kind == PERSON else "MST",
        # A citizen's account often has no name of its own: the citizen is the holder.
        requested_by=actor.full_name or (result.holder_name if result.holder_kind == PERSON else actor.username),
        conversion_mark=conversion_mark(result, department),
    )


def copy_job(copy: CertifiedCopy, result: Result, actor: User, signing, original: Path) -> pdf.CopyJob:
    """Everything the rendering process needs to make this copy's file; `original`: a checked
    temporary copy of the result's file (storage.local_copy), which that process reads."""
    config = current_app.config
    return pdf.CopyJob(
        certificate_html=_certificate_html(copy, result, actor, result.document.page_count),
        original_path=str(original),
        stamp_template=STAMP, code=copy.display_code,
        department=config["DEPARTMENT_NAME"], location=config["PROVINCE_NAME"],
        signed_at=to_local(utcnow()).isoformat(timespec="seconds"), signing=signing,
        timestamps=ltv.timestamp_config(config),
    )


def _check_original(result: Result) -> None:
    """The department certifies what it stores: a missing or altered original is never copied."""
    try:
        storage().check(result.document.sha256)
    except FileDamaged as damage:
        record_damage(damage, result=result, kind="copy original")
        raise OperationError(ORIGINAL_DAMAGED) from None


ORIGINAL_DAMAGED = ("Tệp gốc của kết quả này hiện không đọc được nguyên vẹn nên chưa cấp được bản sao. "
                    "Sở đã ghi nhận sự cố và sẽ khôi phục tệp; vui lòng thử lại sau.")


def issue_copy(actor: User, result: Result) -> CertifiedCopy:
    """Render, sign, store and register a copy of `result` for its holder.

    The register number is printed in the signed file, so it is reserved before rendering, in a
    short transaction of its own (copies/numbers.py): copies rendered at the same time never
    collide, and no transaction stays open while the file is made. A copy that fails or is
    refused gives its number back. The file is stored before the row that names it.
    """
    require(actor, "copy", result)
    if (reason := why_no_copy(result)) is not None:
        raise OperationError(reason)
    _check_original(result)
    signing = ensure_signing_key(current_app.config)
    issued_at = utcnow()
    reservation = numbers.reserve(to_local(issued_at).year)
    try:
        return _make_and_register(actor, result, signing, reservation, issued_at)
    except BaseException:
        numbers.release(reservation)
        raise


def _make_and_register(actor: User, result: Result, signing, reservation: numbers.Reservation,
                       issued_at: datetime) -> CertifiedCopy:
    """The copy under its reserved number: made with no transaction open, then registered."""
    copy = CertifiedCopy(year=reservation.year, number=reservation.number, verification_code=new_verification_code(),
                         result_id=result.id, holder_id=result.holder_id, holder_name=result.holder_name,
                         requested_by_id=actor.id, issued_at=issued_at)
    sha256 = result.document.sha256
    try:
        with storage().local_copy(sha256) as original:
            job = copy_job(copy, result, actor, signing, original)
            db.session.rollback()  # no transaction stays open while the file is made
            produced = worker.run(pdf.produce, job, processes=current_app.config["COPY_PROCESSES"])
    except pdf.CopyFailed as err:
        raise OperationError(str(err)) from None
    except FileDamaged as damage:  # damaged since _check_original
        record_damage(damage, result=result, kind="copy original")
        raise OperationError(ORIGINAL_DAMAGED) from None
    if (reason := why_no_copy(result)) is not None:  # revoked while we were rendering
        raise OperationError(reason)
    copy.sha256 = storage().put_bytes(produced.pdf)
    copy.size, copy.page_count = len(produced.pdf), produced.pages
    copy.signer_cert_sha256 = produced.signer_cert_sha256
    sealed = produced.sealed
    copy.timestamped_at, copy.timestamp_authority = sealed.timestamped_at, sealed.timestamp_authority
    copy.long_term, copy.archive_timestamp_until = sealed.long_term, sealed.archive_until
    if not numbers.take(reservation):  # held past its lease (a stopped process?) and taken over
        raise OperationError("Việc cấp bản sao bị gián đoạn quá lâu; xin thử lại.")
    db.session.add(copy)
    audit.record("copy.issue", actor=actor, result=result,
                 details={"register_number": copy.register_number, "sha256": copy.sha256,
                          **({"unstamped": sealed.unstamped_reason} if sealed.unstamped_reason else {})})
    db.session.commit()
    return copy


def due_for_renewal(days: int) -> list[int]:
    """The copies whose last document timestamp's authority certificate expires within `days`
    days, the soonest first (B-LTA copies only: the others carry no chain to extend)."""
    until = utcnow() + timedelta(days=days)
    return list(db.session.scalars(select(CertifiedCopy.id).where(CertifiedCopy.archive_timestamp_until <= until)
                                   .order_by(CertifiedCopy.archive_timestamp_until, CertifiedCopy.id)))


def renew_archive_timestamp(copy_id: int) -> CertifiedCopy:
    """Add a new document timestamp to a B-LTA copy (`copies-refresh`). The register line then
    stands for the new file; the earlier one stays stored and known (`CopyFile`): a holder may
    still show it, and it is the new file's prefix."""
    copy = db.session.get(CertifiedCopy, copy_id)
    config = current_app.config
    old_sha256 = copy.sha256
    try:
        with storage().local_copy(old_sha256) as path:
            data = path.read_bytes()
    except FileDamaged as damage:
        record_damage(damage, result=copy.result, kind="certified copy")
        raise OperationError("Tệp bản sao trong kho bị hỏng hoặc mất nên chưa gia hạn được.") from None
    signing = ensure_signing_key(config)
    db.session.rollback()  # no transaction stays open while the authority is asked
    try:
        renewed, until = worker.run(pdf.renew_archive_timestamp, data, signing.trust_roots_path,
                                    ltv.timestamp_config(config), processes=config["COPY_PROCESSES"])
    except pdf.CopyFailed as err:
        raise OperationError(str(err)) from None
    sha256 = storage().put_bytes(renewed)
    # Only over the file it was made from: a renewal that ran at the same time has won.
    changed = db.session.execute(update(CertifiedCopy).where(
        CertifiedCopy.id == copy_id, CertifiedCopy.sha256 == old_sha256).values(
        sha256=sha256, size=len(renewed), archive_timestamp_until=until))
    if changed.rowcount != 1:
        db.session.rollback()
        raise OperationError("Bản sao này vừa được gia hạn ở nơi khác.")
    copy = db.session.get(CertifiedCopy, copy_id)
    db.session.add(CopyFile(copy_id=copy_id, sha256=old_sha256, size=len(data), superseded_at=utcnow()))
    audit.record("copy.renew", result=copy.result, target=copy.verification_code,
                 details={"from": old_sha256, "to": sha256, "until": until.isoformat()})
    db.session.commit()
    return copy
