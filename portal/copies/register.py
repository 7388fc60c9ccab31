"""Reading the register of copies: what a verifier is told about a code, and checking a file.

Anyone may ask; the answers say no more than a verifier needs: the holder's name is partly
masked and the result's summary (which often carries full names) is not shown.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

from flask import current_app
from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import CertifiedCopy
from ..models.results import REVOKED, STATUS_LABELS
from ..timeutil import to_local
from . import pdf, worker
from .keys import ensure_signing_key

CHECK_TIMEOUT_SECONDS = 30  # a stranger's file gets less of the rendering process than a copy


def mask_name(name: str) -> str:
    """'Nguyễn Văn An' -> 'N***** V** A*': enough to compare with the person in front of you."""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())


def find_copy(code: str | None) -> CertifiedCopy | None:
    from ..operations.copies import normalize_code

    code = normalize_code(code)
    if code is None:
        return None
    return db.session.scalars(select(CertifiedCopy).where(CertifiedCopy.verification_code == code)).first()


def public_facts(copy: CertifiedCopy) -> dict:
    """The copy and today's state of the result it copies, as shown on /verify and in the API."""
    result = copy.result
    status = result.effective_status()
    revoked_on = None
    if status == REVOKED:
        change = next((c for c in reversed(result.history) if c.to_status == REVOKED), None)
        revoked_on = to_local(change.at).date().isoformat() if change else None
    return {
        "verification_code": copy.display_code,
        "register_number": copy.register_number,
        "issued_at": to_local(copy.issued_at).isoformat(timespec="seconds"),
        "pages": copy.page_count,
        "sha256": copy.sha256,
        "result": {
            "title": result.procedure.name,
            "document_number": result.document_number,
            "issuing_unit": f"{result.unit.name}, {current_app.config['DEPARTMENT_NAME']}",
            "issue_date": result.issue_date.isoformat(),
            "valid_until": result.valid_until.isoformat() if result.valid_until else None,
            "status": status,
            "status_label": STATUS_LABELS[status],
            "valid_today": status == "published",
            "revoked_on": revoked_on,
        },
        "holder_name": mask_name(copy.holder_name),
    }


@dataclass
class FileCheck:
    """What the verification page says about an uploaded file."""

    sha256: str
    matches_register: bool      # byte for byte the copy that was issued
    readable: bool
    signed: bool
    signature_intact: bool
    nothing_added: bool
    trusted: bool
    department_certificate: bool  # signed with the certificate this copy was signed with
    signer_name: str
    signed_at: str

    def as_dict(self) -> dict:
        return asdict(self)


def check_file(copy: CertifiedCopy, data: bytes) -> FileCheck:
    digest = hashlib.sha256(data).hexdigest()
    signing = ensure_signing_key(current_app.config)
    # The file is a stranger's upload: it is parsed in the rendering process, not here.
    signature = worker.run(pdf.check_signature, data, signing.trust_roots_path,
                           processes=current_app.config["COPY_PROCESSES"], timeout=CHECK_TIMEOUT_SECONDS)
    check = FileCheck(
        sha256=digest, matches_register=digest == copy.sha256, readable=signature.readable,
        signed=signature.signed, signature_intact=signature.intact, nothing_added=signature.whole_file,
        trusted=signature.trusted,
        department_certificate=signature.intact and signature.signer_cert_sha256 == copy.signer_cert_sha256,
        signer_name=signature.signer_name, signed_at=signature.signed_at,
    )
    audit.record("copy.verify", result=copy.result, target=copy.verification_code,
                 details={"upload": True, "matches": check.matches_register})
    db.session.commit()
    return check


def record_verification(copy: CertifiedCopy | None, code: str) -> None:
    """Every look at a code is an audit event; the holder sees those about their copies."""
    audit.record("copy.verify", result=copy.result if copy else None, target=(code or "")[:64],
                 details={"found": copy is not None})
    db.session.commit()
