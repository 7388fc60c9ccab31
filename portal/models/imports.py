from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime
from .units import Unit
from .users import User

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
BATCH_STATUSES = (QUEUED, RUNNING, DONE, FAILED)
BATCH_STATUS_LABELS = {QUEUED: "Đang chờ", RUNNING: "Đang nhập", DONE: "Đã xong", FAILED: "Không nhập được"}
IMPORTED, SKIPPED, ROW_FAILED = "imported", "skipped", "failed"
ROW_STATUS_LABELS = {IMPORTED: "Đã nhập", SKIPPED: "Đã có, bỏ qua", ROW_FAILED: "Lỗi"}


class ImportBatch(db.Model):
    """A manifest and its files being imported: from the command line, or a job from the web
    that any web process's worker (or `flask import-worker`) takes from this table."""

    __tablename__ = "import_batches"
    __table_args__ = (CheckConstraint(f"status IN {BATCH_STATUSES}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(8))  # "cli" or "web"
    name: Mapped[str] = mapped_column(String(255))  # the manifest's file name
    manifest_sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Where the files are: the directory given on the command line, or the job's own folder.
    files_dir: Mapped[str] = mapped_column(Text)
    publish: Mapped[bool] = mapped_column(default=False)
    # Web jobs import into the uploader's unit only; None: any unit (command line, admins).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    total_rows: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")  # runs of a web job begun
    # The worker that holds a web job (host:pid) and until when: it renews the lease as it goes;
    # another worker takes the job over only once the lease has run out (portal/jobs.py).
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leased_by: Mapped[str | None] = mapped_column(String(120))
    # The node (host name) whose data directory received a web job's upload: a worker elsewhere that
    # does not see the job's folder leaves the job to one that does (operations.imports).
    received_on: Mapped[str | None] = mapped_column(String(120))
    # With object storage: the job's folder as one tar in the store's JOBS area, so that a worker on
    # any node fetches it and takes the job (operations.imports.share_job_files).
    files_sha256: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)  # why the whole batch could not run
    # When a web job's folder (the upload, unpacked) was removed: once the job is done, or
    # PORTAL_IMPORT_KEEP_FAILED_DAYS after it failed. Its rows' report stays.
    files_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def done_rows(self) -> int:
        return self.imported + self.skipped + self.failed

    @property
    def status_label(self) -> str:
        return BATCH_STATUS_LABELS[self.status]

    @property
    def percent(self) -> int:
        return int(100 * self.done_rows / self.total_rows) if self.total_rows else (100 if self.status == DONE else 0)


class ImportRow(db.Model):
    """What became of one manifest row; written in the same transaction as the result it made,
    so a batch killed half-way resumes after its last committed row."""

    __tablename__ = "import_rows"
    __table_args__ = (UniqueConstraint("batch_id", "line", name="uq_import_rows_batch_line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)
    line: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(String(500), default="")
    result_id: Mapped[int | None] = mapped_column(ForeignKey("results.id"))
    message: Mapped[str] = mapped_column(Text, default="")

    batch: Mapped[ImportBatch] = relationship()
    result: Mapped[Result | None] = relationship()  # noqa: F821

    @property
    def status_label(self) -> str:
        return ROW_STATUS_LABELS[self.status]
