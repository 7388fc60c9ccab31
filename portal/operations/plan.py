"""Recording the plan's inventory: each count is a new row, so its history stays."""

from __future__ import annotations

from .. import audit
from ..access import require
from ..extensions import db
from ..models import InventoryCount, Unit, User
from . import transactional


@transactional
def record_inventory(actor: User, unit: Unit, phase: int, results: int, pages: int, note: str = "") -> InventoryCount:
    require(actor, "upload", unit=unit)  # a unit's own staff (or an admin) count its paper results
    count = InventoryCount(unit_id=unit.id, phase=phase, results=results, pages=pages, note=(note or "")[:500],
                           recorded_by_id=actor.id)
    db.session.add(count)
    audit.record("inventory.record", actor=actor, target=f"{unit.code} GĐ{phase}",
                 details={"results": results, "pages": pages, "note": note or ""})
    return count
