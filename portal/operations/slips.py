"""Hand-over slips: publishing a batch gives, at once, one printable PDF with a slip for each holder
who has no account yet (their claim code, name, results, what to do, a QR code to /claim).

Claim codes are secrets (only their hash is stored, portal/operations/claims.py); the slips hold
them in clear, so the PDF is kept apart from the results' files (which are backed up and never
forgotten), in the store's SLIPS area (PORTAL_DATA_DIR/slips, or the bucket's), sent only to the
reviewer who published, and deleted HANDOVER_SLIP_DAYS after. The row in handover_slips is the
truth: a file without a live row is never sent, and expired rows get their file removed whenever
slips are listed, made or asked for.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

import segno
from flask import current_app, render_template
from sqlalchemy import select

from .. import audit
from ..errors import UserError
from ..extensions import db
from ..models import HandoverSlip, Result, User
from ..storage import SLIPS, storage
from ..timeutil import today, utcnow
from . import claims, transactional


@dataclass
class Slip:
    """One holder's slip: the code and what it opens."""

    holder_name: str
    holder_id: str
    code: str = ""
    results: list[Result] = field(default_factory=list)


def claim_url() -> str:
    return f"{current_app.config['BASE_URL']}/claim"


def issue_for(actor: User, published: list[Result]) -> tuple[HandoverSlip | None, list[str]]:
    """Claim codes for the holders of `published` who have no account (one code per holder: it
    opens the holder's whole store), and the PDF of their slips. Returns the slip row (None when
    every holder has an account) and the refusals, one line each."""
    purge_expired()
    by_holder: dict[str, Slip] = {}
    for result in published:
        if claims.holder_has_account(result.holder_id):
            continue
        by_holder.setdefault(result.holder_id, Slip(result.holder_name, result.holder_id)).results.append(result)
    refused = []
    for slip in by_holder.values():
        try:
            slip.code = claims.issue_claim_code(actor, slip.results[0])
        except UserError as err:
            refused.append(f"Không cấp được mã nhận tài khoản cho {slip.holder_name}: {err}")
    slips = [slip for slip in by_holder.values() if slip.code]
    if not slips:
        return None, refused
    return _store(actor, slips, _render(slips)), refused


def _render(slips: list[Slip]) -> bytes:
    from ..copies import pdf, worker

    config = current_app.config
    url = claim_url()
    html = render_template("admin/slips_pdf.html", slips=slips, claim_url=url, made_on=today(),
                           qr=segno.make(url, error="m").png_data_uri(scale=4, border=2),
                           department=config["DEPARTMENT_NAME"], province=config["PROVINCE_NAME"],
                           valid_days=claims.VALID_DAYS)
    return worker.run(pdf.render_document, html, processes=config["COPY_PROCESSES"])


@transactional
def _store(actor: User, slips: list[Slip], data: bytes) -> HandoverSlip:
    sha256 = hashlib.sha256(data).hexdigest()
    row = HandoverSlip(created_by_id=actor.id, unit_id=actor.unit_id, created_at=utcnow(),
                       expires_at=utcnow() + timedelta(days=current_app.config["HANDOVER_SLIP_DAYS"]),
                       slip_count=len(slips), sha256=sha256,
                       result_codes=[result.code for slip in slips for result in slip.results])
    storage(SLIPS).put_bytes(data)
    db.session.add(row)
    db.session.flush()
    audit.record("slip.issue", actor=actor, target=f"slip {row.id}",
                 details={"slips": row.slip_count, "results": row.result_codes})
    return row


def live(slip: HandoverSlip) -> bool:
    return slip.removed_at is None and slip.expires_at > utcnow()


def mine(actor: User, limit: int | None = None, live_only: bool = False) -> list[HandoverSlip]:
    """The slips `actor` made, newest first."""
    query = select(HandoverSlip).where(HandoverSlip.created_by_id == actor.id)
    if live_only:
        query = query.where(HandoverSlip.removed_at.is_(None), HandoverSlip.expires_at > utcnow())
    return list(db.session.scalars(query.order_by(HandoverSlip.id.desc()).limit(limit)))


@transactional
def purge_expired() -> int:
    """Delete the PDFs whose time is up; the rows stay (who made which slips, when)."""
    now = utcnow()
    expired = db.session.scalars(select(HandoverSlip).where(HandoverSlip.removed_at.is_(None),
                                                            HandoverSlip.expires_at <= now)).all()
    for slip in expired:  # random codes: no two slips' PDFs are the same file
        storage(SLIPS).remove(slip.sha256)
        slip.removed_at = now
        audit.record("slip.remove", target=f"slip {slip.id}", details={"slips": slip.slip_count})
    return len(expired)
