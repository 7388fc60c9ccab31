"""The public look-up: a result code plus its holder's ID number answers whether it is valid.

Nothing else is shown (no file, no name), a wrong code and a wrong ID get the same answer, and
every look-up is an audit event that the holder sees.
"""

from __future__ import annotations

from sqlalchemy import select

from . import audit
from .extensions import db
from .identifiers import InvalidInput, normalize_holder_id, normalize_result_code
from .models import Result
from .models.results import HOLDER_VISIBLE_STATUSES


def public_lookup(code: str, holder_id: str) -> Result | None:
    try:
        code = normalize_result_code(code)
        _kind, holder_id = normalize_holder_id(holder_id)
    except InvalidInput:
        code = holder_id = None
    result = None
    if code and holder_id:
        result = db.session.scalars(select(Result).where(
            Result.code == code, Result.holder_id == holder_id, Result.status.in_(HOLDER_VISIBLE_STATUSES))).first()
    audit.record("lookup", result=result, target=(code or "")[:64], details={"found": result is not None})
    db.session.commit()
    return result
