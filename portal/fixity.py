"""Fixity: every stored file still hashes to the name it is stored under.

Stored files are the scans and images of results (`stored_files`) and the signed certified copies
(`certified_copies.sha256`); both live in the same content-addressed store. `check_all` re-hashes
every one of them and records the run in the audit trail; a download that meets a damaged file
records that too (`record_damage`). /healthz reads those events back (`files_health`) instead of
re-hashing the store on every call: the last run's findings plus whatever was met since.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from . import audit
from .extensions import db
from .models import AuditEvent, CertifiedCopy, CopyFile, Result, StoredFile
from .models.copies import register_number
from .storage import ALTERED, MISSING, FileDamaged, storage

log = logging.getLogger(__name__)

CHECK = "fixity.check"
DAMAGE_ACTIONS = {MISSING: "file.missing", ALTERED: "file.altered"}
BATCH = 2000


@dataclass(frozen=True)
class Item:
    """One stored file and what it is, in words an operator can act on."""

    sha256: str
    label: str


@dataclass
class Report:
    checked: int = 0
    missing: list[Item] = field(default_factory=list)
    altered: list[Item] = field(default_factory=list)


def count() -> int:
    return (db.session.scalar(select(func.count(StoredFile.id)))
            + db.session.scalar(select(func.count(CertifiedCopy.id)))
            + db.session.scalar(select(func.count(CopyFile.id))))


def items() -> Iterator[Item]:
    """Every stored file: the results' files, then the certified copies (with the files a renewal
    of their document timestamp superseded), a batch at a time."""
    files = select(StoredFile.id, StoredFile.sha256, StoredFile.original_name)
    for _id, sha256, name in _keyset(files, StoredFile.id):
        yield Item(sha256, name or "(no name)")
    copies = (select(CertifiedCopy.id, CertifiedCopy.sha256, CertifiedCopy.year, CertifiedCopy.number, Result.code)
              .join(Result, Result.id == CertifiedCopy.result_id))
    for _id, sha256, year, number, code in _keyset(copies, CertifiedCopy.id):
        yield Item(sha256, f"certified copy {register_number(number, year)} of {code}")
    earlier = (select(CopyFile.id, CopyFile.sha256, CertifiedCopy.year, CertifiedCopy.number)
               .join(CertifiedCopy, CertifiedCopy.id == CopyFile.copy_id))
    for _id, sha256, year, number in _keyset(earlier, CopyFile.id):
        yield Item(sha256, f"certified copy {register_number(number, year)}, before its timestamp was renewed")


def _keyset(query, id_column):
    last_id = 0
    while rows := db.session.execute(query.where(id_column > last_id).order_by(id_column).limit(BATCH)).all():
        yield from rows
        last_id = rows[-1][0]


def check_all(advance: Callable[[int], None] = lambda n: None) -> Report:
    """Re-hash every stored file, certified copies included; one audit event names what is wrong."""
    store, report = storage(), Report()
    for item in items():
        state = store.state_of(item.sha256)
        if state == MISSING:
            report.missing.append(item)
        elif state == ALTERED:
            report.altered.append(item)
        report.checked += 1
        advance(1)
    audit.record(CHECK, details={
        "files": report.checked, "missing": len(report.missing), "altered": len(report.altered),
        # The names, so that /healthz knows which files are still wrong after later downloads.
        "missing_files": [item.sha256 for item in report.missing],
        "altered_files": [item.sha256 for item in report.altered],
    })
    db.session.commit()
    return report


def record_damage(damage: FileDamaged, *, result: Result | None, kind: str, **details) -> None:
    """A download (or a copy being made) met a damaged file: an audit event of its own, at once."""
    log.error("stored file %s is %s (%s of %s)", damage.sha256, damage.state, kind,
              result.code if result is not None else "-")
    audit.record(DAMAGE_ACTIONS[damage.state], result=result, target=damage.sha256,
                 details={"kind": kind, **details})
    db.session.commit()


@dataclass(frozen=True)
class FilesHealth:
    missing: int
    altered: int
    checked_at: datetime | None  # the last `fixity` run; None if there never was one

    @property
    def ok(self) -> bool:
        return not self.missing and not self.altered


def files_health() -> FilesHealth:
    """What is known to be wrong with the store, from the audit trail: the last `fixity` run's
    findings, then every damaged file met since (two indexed queries, no file read)."""
    last = db.session.execute(select(AuditEvent.id, AuditEvent.at, AuditEvent.details)
                              .where(AuditEvent.action == CHECK)
                              .order_by(AuditEvent.id.desc()).limit(1)).first()
    states: dict[str, str] = {}
    if last is not None:
        details = last.details or {}
        states.update(dict.fromkeys(details.get("missing_files", []), MISSING))
        states.update(dict.fromkeys(details.get("altered_files", []), ALTERED))
    met_since = select(AuditEvent.action, AuditEvent.target).where(
        AuditEvent.action.in_(DAMAGE_ACTIONS.values()), AuditEvent.id > (last.id if last else 0))
    by_action = {action: state for state, action in DAMAGE_ACTIONS.items()}
    for action, sha256 in db.session.execute(met_since):
        states[sha256] = by_action[action]
    found = list(states.values())
    return FilesHealth(found.count(MISSING), found.count(ALTERED), last.at if last else None)
