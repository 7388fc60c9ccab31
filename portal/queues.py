"""The background queues as staff see them (/admin/jobs): for each kind of work (web import jobs,
text recognition, the national sync, the Whoosh index queue) how many items wait, run and failed,
and the failed ones with their reason. Staff see their unit's import jobs only; the rest is an
admin's (access.sees_all_background_work)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, url_for
from sqlalchemy import func, select

from . import national_store, ocr, outbox
from .access import sees_all_background_work, visible_batches
from .extensions import db
from .models import ImportBatch, IndexQueueEntry, OutboxMessage, ResultFile, StoredFile
from .models.files import OCR_FAILED, OCR_PENDING, OCR_RUNNING
from .models.imports import FAILED, QUEUED, RUNNING
from .models.outbox import FAILING, PENDING
from .search.queue import MAX_ATTEMPTS as INDEX_MAX_ATTEMPTS
from .timeutil import utcnow

SHOWN = 20  # failed items listed per kind (the newest)


@dataclass
class Failure:
    what: str
    reason: str
    when: datetime | None = None
    url: str | None = None


@dataclass
class Queue:
    name: str
    counts: list[tuple[str, int]]
    failures: list[Failure] = field(default_factory=list)
    running: list[str] = field(default_factory=list)  # who holds what, until when
    note: str = ""


def overview(user) -> list[Queue]:
    queues = [_imports(user)]
    if sees_all_background_work(user):
        queues += [_ocr(), _outbox()]
        if current_app.config.get("SEARCH_BACKEND", "whoosh") == "whoosh":
            queues.append(_index_queue())
    return queues


def in_process() -> bool:
    return bool(current_app.config.get("INPROCESS_JOBS", True))


def _imports(user) -> Queue:
    mine = visible_batches(user).where(ImportBatch.source == "web")
    ids = mine.with_only_columns(ImportBatch.id).scalar_subquery()
    by_status = dict(db.session.execute(select(ImportBatch.status, func.count()).where(ImportBatch.id.in_(ids))
                                        .group_by(ImportBatch.status)).all())
    now = utcnow()
    running = db.session.scalars(mine.where(ImportBatch.status == RUNNING).order_by(ImportBatch.id)).all()
    orphaned = sum(1 for b in running if b.lease_until is None or b.lease_until < now)
    failed = db.session.scalars(mine.where(ImportBatch.status == FAILED)
                                .order_by(ImportBatch.finished_at.desc(), ImportBatch.id.desc()).limit(SHOWN)).all()
    return Queue(
        name="Nhập theo lô",
        counts=[("Đang chờ", by_status.get(QUEUED, 0)), ("Đang nhập", by_status.get(RUNNING, 0) - orphaned),
                ("Chờ tiến trình khác nhận lại", orphaned), ("Không nhập được", by_status.get(FAILED, 0))],
        running=[f"Lô {b.id} «{b.name}»: {b.done_rows}/{b.total_rows} dòng, lần chạy thứ {b.attempts}"
                 for b in running],
        failures=[Failure(f"Lô {b.id} «{b.name}»", b.error or "Không rõ lý do.", b.finished_at,
                          url_for("admin.import_batch", batch_id=b.id)) for b in failed])


def _ocr() -> Queue:
    by_status = dict(db.session.execute(select(StoredFile.ocr_status, func.count())
                                        .where(StoredFile.ocr_status.in_((OCR_PENDING, OCR_RUNNING, OCR_FAILED)))
                                        .group_by(StoredFile.ocr_status)).all())
    failed = db.session.scalars(select(StoredFile).where(StoredFile.ocr_status == OCR_FAILED)
                                .order_by(StoredFile.id.desc()).limit(SHOWN)).all()
    results = dict(db.session.execute(select(ResultFile.file_id, func.min(ResultFile.result_id))
                                      .where(ResultFile.file_id.in_([f.id for f in failed]))
                                      .group_by(ResultFile.file_id)).all()) if failed else {}
    return Queue(
        name="Nhận dạng chữ (OCR)",
        counts=[("Đang chờ", by_status.get(OCR_PENDING, 0)), ("Đang nhận dạng", by_status.get(OCR_RUNNING, 0)),
                ("Không nhận dạng được", by_status.get(OCR_FAILED, 0))],
        failures=[Failure(f"Bản quét «{f.original_name or f.sha256[:12]}»", ocr.why_failed(f), f.created_at,
                          url_for("admin.result", result_id=results[f.id]) if f.id in results else None)
                  for f in failed],
        note="" if ocr.available() else "Máy chủ chưa cài Tesseract (tiếng Việt): bản quét chờ đến khi có.")


def _outbox() -> Queue:
    counts = outbox.counts()
    failing = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == FAILING)
                                 .order_by(OutboxMessage.first_failed_at).limit(SHOWN)).all()
    return Queue(
        name="Đồng bộ kho dữ liệu quốc gia",
        counts=[("Đang chờ gửi", counts[PENDING]), ("Lỗi quá 24 giờ", counts[FAILING])],
        failures=[Failure(f"Kết quả {m.payload.get(national_store.F_RESULT_CODE, m.result_id)}, phiên bản {m.version}",
                          f"Trả lời {m.last_status_code or 'không có'}: {(m.last_answer or '')[:200]}",
                          m.last_attempt_at, url_for("admin.sync_page", status=FAILING)) for m in failing],
        note="" if national_store.enabled() else "Chưa cấu hình địa chỉ kho dữ liệu quốc gia: không gửi bản tin nào.")


def _index_queue() -> Queue:
    waiting = db.session.scalar(select(func.count(IndexQueueEntry.id))
                                .where(IndexQueueEntry.attempts < INDEX_MAX_ATTEMPTS)) or 0
    stuck_count = db.session.scalar(select(func.count(IndexQueueEntry.id))
                                    .where(IndexQueueEntry.attempts >= INDEX_MAX_ATTEMPTS)) or 0
    stuck = db.session.scalars(select(IndexQueueEntry).where(IndexQueueEntry.attempts >= INDEX_MAX_ATTEMPTS)
                               .order_by(IndexQueueEntry.id.desc()).limit(SHOWN)).all()
    return Queue(
        name="Chỉ mục tìm kiếm (trên máy chủ này)",
        counts=[("Đang chờ ghi", waiting), ("Ghi lỗi nhiều lần", stuck_count)],
        failures=[Failure(f"Kết quả số {e.result_id}", (e.last_error or "Không rõ lý do.")[:300], e.enqueued_at,
                          url_for("admin.result", result_id=e.result_id)) for e in stuck])
