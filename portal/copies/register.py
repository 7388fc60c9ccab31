"""Reading the register of copies: what a verifier is told about a code (the three answers about
the file, the register and the signer are in answers.py).

Anyone may ask; the answers say no more than a verifier needs: the holder's name is partly
masked and the result's summary (which often carries full names) is not shown.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..identifiers import verification_code
from ..models import CertifiedCopy
from ..models.results import REVOKED, STATUS_LABELS
from ..timeutil import to_local


def mask_name(name: str) -> str:
    """'Nguyễn Văn An' -> 'N***** V** A*': enough to compare with the person in front of you."""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())


def find_copy(code: str | None) -> CertifiedCopy | None:
    code = verification_code(code)
    if code is None:
        return None
    return db.session.scalars(select(CertifiedCopy).where(CertifiedCopy.verification_code == code)).first()


def public_facts(copy: CertifiedCopy) -> dict:
    """The copy and today's state of the result it copies, as shown on /verify and in the API."""
    result = copy.result
    status = result.effective_status()
    revoked_on = None
    if status == REVOKED:
        change = result.last_change_to(REVOKED)
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


def record_verification(copy: CertifiedCopy | None, code: str) -> None:
    """Every look at a code is an audit event; the holder sees those about their copies."""
    audit.record("copy.verify", result=copy.result if copy else None, target=(code or "")[:64],
                 details={"found": copy is not None})
    db.session.commit()
