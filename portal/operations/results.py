"""Results: create a draft from a scan, edit it, publish, send back, revoke, replace."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit, outbox, wording
from ..access import require
from ..extensions import db
from ..models import (
    DOCUMENT,
    SOURCE_IMAGE,
    AuditEvent,
    Procedure,
    Result,
    ResultFile,
    ResultStatusChange,
    StoredFile,
    Unit,
    User,
)
from ..models.files import OCR_PENDING
from ..models.results import DRAFT, HOLDER_VISIBLE_STATUSES, PUBLISHED, REPLACED, RETURNED, REVOKED
from ..scans import PreparedScan, Spooled
from ..storage import storage
from ..timeutil import utcnow
from . import OperationError, transactional

GENERATED_SERIAL_START = 9001  # generated dossier serials stay clear of the one-stop system's


@dataclass
class ResultInput:
    """Validated metadata of a result, as the upload form and the import produce it."""

    procedure: Procedure
    unit: Unit
    document_number: str
    issue_date: date
    signer_name: str
    signer_title: str
    summary: str
    holder_kind: str
    holder_id: str
    holder_name: str
    formed_year: int
    valid_from: date | None = None
    valid_until: date | None = None
    holder_address: str = ""
    origin: str = "digitized"
    retention_years: int | None = None
    paper_pages: int | None = None
    result_code: str | None = None
    dossier_code: str | None = None


METADATA_FIELDS = [
    f.name for f in fields(ResultInput) if f.name not in ("procedure", "unit", "result_code", "dossier_code")
]


@dataclass
class DraftGroup:
    """Drafts added one after another and flushed together (a batch import's group of rows).

    A query would not see the group's unflushed rows, so what add_draft would look up is kept
    here: the group's files as stored and the results that hold them (read in one query), the
    result codes and generated dossier serials given out. A uniqueness the group did not foresee
    (another process storing the same code meanwhile) fails the flush; the caller then adds the
    rows one at a time, without a group."""

    stored: dict[str, StoredFile] = field(default_factory=dict)  # sha256 → stored file
    holders: dict[str, Result] = field(default_factory=dict)  # sha256 → the result holding the file
    serials: dict[str, int] = field(default_factory=dict)  # generated dossier-code prefix → last serial
    codes: set[str] = field(default_factory=set)  # result codes given out in the group

    @classmethod
    def for_files(cls, sha256s: set[str], serials: dict[str, int]) -> DraftGroup:
        group = cls(serials=serials)
        if sha256s:
            for stored, holder in db.session.execute(
                select(StoredFile, Result).outerjoin(ResultFile, ResultFile.file_id == StoredFile.id)
                .outerjoin(Result, Result.id == ResultFile.result_id).where(StoredFile.sha256.in_(sha256s))
            ):
                group.stored[stored.sha256] = stored
                if holder is not None:
                    group.holders.setdefault(stored.sha256, holder)
        return group


def find_duplicate(sha256: str, group: DraftGroup | None = None) -> Result | None:
    """The result that already holds a file with this content, if any."""
    if group is not None:
        return group.holders.get(sha256)
    return db.session.scalars(
        select(Result).join(ResultFile, ResultFile.result_id == Result.id)
        .join(StoredFile, StoredFile.id == ResultFile.file_id)
        .where(StoredFile.sha256 == sha256).limit(1)
    ).first()


def _duplicate_message(result: Result) -> str:
    return f"Tệp này đã được lưu cho kết quả {result.code} (số {result.document_number}); không lưu trùng."


def _next_result_code(dossier_code: str, group: DraftGroup | None) -> str:
    taken = set(db.session.scalars(select(Result.code).where(Result.dossier_code == dossier_code)))
    if group is not None:
        taken |= group.codes
    n = 1
    while f"{dossier_code}-KQ{n}" in taken:
        n += 1
    return f"{dossier_code}-KQ{n}"


def _generated_dossier_code(unit: Unit, issue_date: date, group: DraftGroup | None) -> str:
    prefix = f"{unit.code}-{issue_date:%y%m%d}-"
    if group is not None and prefix in group.serials:
        serial = group.serials[prefix] + 1
    else:
        serials = [
            int(code[len(prefix):])
            # A range, not LIKE: SQLite uses the index for it (LIKE scanned every result, per upload).
            for code in db.session.scalars(select(Result.dossier_code).where(
                Result.dossier_code >= prefix, Result.dossier_code < prefix + "~"))
            if code and re.fullmatch(r"\d{4}", code[len(prefix):])
        ]
        serial = max([s + 1 for s in serials if s >= GENERATED_SERIAL_START] + [GENERATED_SERIAL_START])
    if serial > 9999:
        raise OperationError("Đã hết mã hồ sơ tự sinh cho ngày ban hành này; hãy nhập mã hồ sơ.")
    if group is not None:
        group.serials[prefix] = serial
    return f"{prefix}{serial:04d}"


def _assign_code(result: Result, data: ResultInput, group: DraftGroup | None) -> None:
    if data.result_code:
        if (group is not None and data.result_code in group.codes) or db.session.scalar(
                select(Result.id).where(Result.code == data.result_code)):
            raise OperationError(f"Mã kết quả {data.result_code} đã được dùng cho một kết quả khác.")
        result.code = data.result_code
        result.dossier_code = data.dossier_code or data.result_code.rsplit("-KQ", 1)[0]
    elif data.dossier_code:
        result.dossier_code = data.dossier_code
        result.code = _next_result_code(data.dossier_code, group)
    else:
        result.dossier_code = _generated_dossier_code(data.unit, data.issue_date, group)
        result.code = f"{result.dossier_code}-KQ1"
        result.code_generated = True
    if group is not None:
        group.codes.add(result.code)


def _check_metadata(data: ResultInput, scan: PreparedScan | None) -> None:
    if data.unit is None or data.procedure is None:
        raise OperationError("Chưa chọn đơn vị hoặc thủ tục.")
    if data.valid_until and data.valid_until < (data.valid_from or data.issue_date):
        raise OperationError("Ngày hết hiệu lực phải sau ngày bắt đầu hiệu lực.")
    if data.formed_year > data.issue_date.year:
        raise OperationError("Năm hình thành hồ sơ không được sau năm ban hành.")
    if scan is not None and data.paper_pages and data.paper_pages != scan.page_count:
        raise OperationError(
            f"Bản quét có {scan.page_count} trang nhưng bản giấy có {data.paper_pages} trang; số trang phải bằng nhau."
        )


def _apply(result: Result, data: ResultInput) -> None:
    for name in METADATA_FIELDS:
        setattr(result, name, getattr(data, name))
    result.procedure_id = data.procedure.id
    result.unit_id = data.unit.id
    result.valid_from = data.valid_from or data.issue_date
    if result.retention_years is None:
        result.retention_years = data.procedure.retention_years


def stored_file(spooled: Spooled, scan: PreparedScan, actor: User | None, group: DraftGroup | None, *,
                with_text: bool) -> StoredFile:
    """The checked file kept in the file store and its row, once per content (also a correction's attachment)."""
    if group is not None:
        existing = group.stored.get(spooled.sha256)
    else:
        # No autoflush: the draft's rows are written in one flush at the commit, so that SQLite's write
        # lock is held for that flush and the commit only, not while the file is kept (fsync) and the
        # rest is added (two workers pushing at once waited on each other: bench/api.py).
        with db.session.no_autoflush:
            existing = db.session.scalars(select(StoredFile).where(StoredFile.sha256 == spooled.sha256)).first()
    storage().keep(spooled.path, spooled.sha256, synced=spooled.synced)
    if existing is not None:  # stored before (by a draft that failed to commit, say) but unused
        return existing
    row = StoredFile(
        sha256=spooled.sha256, size=spooled.size, media_type=spooled.media_type,
        page_count=scan.page_count, text=scan.text if with_text else None,
        original_name=scan.original_name[:255], created_by_id=actor.id if actor else None,
        # A scan with no text layer waits for text recognition (portal/ocr.py).
        ocr_status=OCR_PENDING if with_text and not scan.text.strip() else None,
    )
    db.session.add(row)
    if group is not None:
        group.stored[spooled.sha256] = row
    return row


def replacement_of(result: Result) -> Result | None:
    """The result that replaced `result`, once published (the newest, should there be several)."""
    return db.session.scalars(select(Result).where(Result.replaces_id == result.id,
                                                   Result.status.in_(HOLDER_VISIBLE_STATUSES))
                              .order_by(Result.id.desc())).first()


def _change_status(result: Result, to_status: str, actor: User | None, reason: str | None = None) -> None:
    if to_status in (PUBLISHED, REVOKED, REPLACED):  # a state the national data store is told of
        outbox.record(result, to_status)
    db.session.add(ResultStatusChange(
        result=result, from_status=result.status, to_status=to_status, reason=reason,
        actor_id=actor.id if actor else None,
    ))
    result.status = to_status
    result.status_reason = reason


CODE_ATTEMPTS = 5


def create_draft(actor: User, data: ResultInput, scan: PreparedScan, *, replaces: Result | None = None) -> Result:
    """Store a scan and its metadata as a draft waiting for a reviewer of its unit."""
    try:
        for _attempt in range(CODE_ATTEMPTS):
            try:
                result = add_draft(actor, data, scan, replaces)
                db.session.commit()
                return result
            except IntegrityError:
                db.session.rollback()
                # Another request stored the same file or code between our checks and our commit.
                for spooled in (scan.document, scan.source):
                    if spooled is not None and (holder := find_duplicate(spooled.sha256)) is not None:
                        raise OperationError(_duplicate_message(holder)) from None
                if data.result_code:
                    raise OperationError(f"Mã kết quả {data.result_code} đã được dùng cho một kết quả khác.") from None
                # A code we generated was taken by a concurrent upload: generate the next one.
        raise OperationError("Không cấp được mã kết quả do có nhiều người cùng lưu; hãy thử lại.")
    except BaseException:
        db.session.rollback()
        scan.discard()
        raise


def add_draft(actor: User | None, data: ResultInput, scan: PreparedScan, replaces: Result | None = None,
              import_batch_id: int | None = None, group: DraftGroup | None = None) -> Result:
    """The draft, its files and its audit event added to the session; the caller commits.
    `actor` None is the command line (a batch import run by whoever runs the server). With a
    `group`, nothing is looked up that the group knows, and nothing is flushed."""
    _check_metadata(data, scan)
    if actor is not None:
        require(actor, "upload", unit=data.unit)
    if replaces is not None:
        if actor is not None:  # None: a batch run from the command line, or a machine client (operations/push.py)
            require(actor, "replace", replaces)
        if replaces.unit_id != data.unit.id:
            raise OperationError("Bản thay thế phải thuộc cùng đơn vị với kết quả bị thay thế.")
        pending = db.session.scalar(
            select(Result.code).where(Result.replaces_id == replaces.id, Result.status.in_((DRAFT, RETURNED)))
        )
        if pending:
            raise OperationError(f"Kết quả này đã có bản thay thế {pending} đang chờ kiểm tra.")
    for spooled in (scan.document, scan.source):
        if spooled is not None and (holder := find_duplicate(spooled.sha256, group)) is not None:
            raise OperationError(_duplicate_message(holder))
    result = Result(status=DRAFT, digitized_by_id=actor.id if actor else None, digitized_at=utcnow(),
                    replaces=replaces, import_batch_id=import_batch_id, page_count=scan.page_count)
    _apply(result, data)
    _assign_code(result, data, group)
    db.session.add(result)
    db.session.add(ResultStatusChange(result=result, from_status=None, to_status=DRAFT,
                                      actor_id=actor.id if actor else None))
    document = stored_file(scan.document, scan, actor, group, with_text=True)
    db.session.add(ResultFile(result=result, file=document, role=DOCUMENT))
    if scan.source is not None:
        source = stored_file(scan.source, scan, actor, group, with_text=False)
        db.session.add(ResultFile(result=result, file=source, role=SOURCE_IMAGE))
    if group is not None:
        group.holders.update({spooled.sha256: result for spooled in (scan.document, scan.source) if spooled})
    audit.record(
        "result.replace" if replaces else "result.create", actor=actor, result=result,
        details={"sha256": scan.document.sha256, "pages": scan.page_count,
                 **({"replaces": replaces.code} if replaces else {}),
                 **({"import_batch": import_batch_id} if import_batch_id else {})},
    )
    return result


@transactional
def update_draft(actor: User, result: Result, data: ResultInput) -> Result:
    """Correct a draft's metadata; a returned draft goes back to the reviewers' queue."""
    _check_metadata(data, None)
    require(actor, "edit", result)
    require(actor, "upload", unit=data.unit)
    if data.paper_pages and result.document and data.paper_pages != result.document.page_count:
        raise OperationError(
            f"Bản quét có {result.document.page_count} trang nhưng bản giấy có {data.paper_pages} trang."
        )
    if data.result_code and data.result_code != result.code:
        raise OperationError("Không đổi được mã kết quả đã cấp.")
    _apply(result, data)
    if result.status == RETURNED:
        _change_status(result, DRAFT, actor, "Đã sửa theo yêu cầu, gửi kiểm tra lại")
    audit.record("result.update", actor=actor, result=result)
    return result


def _reason(reason: str | None, what: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise OperationError(f"Cần ghi rõ lý do {what}.")
    return reason[:2000]


class ChangedSinceSeen(OperationError):
    """The draft was changed after the reviewer opened it: what they checked is not what is there."""


def _check_seen(result: Result, seen_version: int) -> None:
    if result.version == seen_version:
        return
    change = db.session.scalars(select(AuditEvent).where(AuditEvent.result_id == result.id)
                                .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())).first()
    by = f" ({change.actor_name or 'hệ thống'}, lúc {wording.moment(change.at)})" if change else ""
    raise ChangedSinceSeen(f"Kết quả {result.code} đã được sửa sau khi bạn mở{by}; chưa phát hành. "
                           "Hãy xem lại thông tin mới trước khi phát hành.")


@transactional
def publish(actor: User, result: Result, *, seen_version: int) -> Result:
    """A reviewer publishes the draft as they saw it (`seen_version`, the version shown on their
    page); a draft changed since stays in the queue. A replacement retires the result it replaces."""
    require(actor, "review", result)
    _check_seen(result, seen_version)
    return add_publication(actor, result)


def add_publication(actor: User | None, result: Result) -> Result:
    """The publication added to the session; `actor` None is a batch import run with --publish."""
    now = utcnow()
    result.checked_by_id, result.checked_at, result.published_at = actor.id if actor else None, now, now
    _change_status(result, PUBLISHED, actor)
    details = {}
    old = result.replaces
    if old is not None and old.status == PUBLISHED:
        _change_status(old, REPLACED, actor, f"Được thay thế bởi kết quả {result.code}")
        details["replaced"] = old.code
    audit.record("result.publish", actor=actor, result=result, details=details)
    return result


@transactional
def send_back(actor: User, result: Result, reason: str) -> Result:
    """A reviewer returns a draft to the digitizer with the reason."""
    require(actor, "review", result)
    reason = _reason(reason, "trả lại")
    _change_status(result, RETURNED, actor, reason)
    audit.record("result.return", actor=actor, result=result, details={"reason": reason})
    return result


@transactional
def revoke(actor: User, result: Result, reason: str) -> Result:
    """Revoke a published result; it stays stored, shown as revoked with the reason."""
    require(actor, "revoke", result)
    reason = _reason(reason, "thu hồi")
    _change_status(result, REVOKED, actor, reason)
    audit.record("result.revoke", actor=actor, result=result, details={"reason": reason})
    return result
