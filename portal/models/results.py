from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..identifiers import ORGANISATION, PERSON, phase_for_year
from ..timeutil import today, utcnow
from .files import DOCUMENT, ResultFile, StoredFile
from .procedures import Procedure
from .types import UTCDateTime
from .units import Unit
from .users import User

# Stored states. "Expired" is not stored: it follows from valid_until and today's date,
# so a result is shown as expired the day it expires without any job running.
DRAFT, RETURNED, PUBLISHED, REVOKED, REPLACED = "draft", "returned", "published", "revoked", "replaced"
EXPIRED = "expired"
STATUSES = (DRAFT, RETURNED, PUBLISHED, REVOKED, REPLACED)
STATUS_LABELS = {
    DRAFT: "Chờ kiểm tra",
    RETURNED: "Bị trả lại",
    PUBLISHED: "Còn hiệu lực",
    EXPIRED: "Hết hiệu lực",
    REVOKED: "Đã thu hồi",
    REPLACED: "Đã được thay thế",
}
# What a holder may ever see of their own results.
HOLDER_VISIBLE_STATUSES = (PUBLISHED, REVOKED, REPLACED)

DIGITIZED, BORN_DIGITAL = "digitized", "born_digital"
ORIGIN_LABELS = {DIGITIZED: "Số hóa từ bản giấy", BORN_DIGITAL: "Bản điện tử gốc"}
HOLDER_KIND_LABELS = {PERSON: "Cá nhân", ORGANISATION: "Tổ chức"}


class Result(db.Model):
    """A result of an administrative procedure that the department issued."""

    __tablename__ = "results"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="status"),
        CheckConstraint(f"origin IN {(DIGITIZED, BORN_DIGITAL)}", name="origin"),
        CheckConstraint(f"holder_kind IN {(PERSON, ORGANISATION)}", name="holder_kind"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="validity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    # True when the department made the code up for an old paper result with no dossier.
    code_generated: Mapped[bool] = mapped_column(default=False)
    dossier_code: Mapped[str | None] = mapped_column(String(64), index=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    document_number: Mapped[str] = mapped_column(String(64), index=True)
    issue_date: Mapped[date] = mapped_column(Date)
    signer_name: Mapped[str] = mapped_column(String(255))
    signer_title: Mapped[str] = mapped_column(String(255))
    summary: Mapped[str] = mapped_column(Text)

    holder_kind: Mapped[str] = mapped_column(String(16))
    holder_id: Mapped[str] = mapped_column(String(16), index=True)
    holder_name: Mapped[str] = mapped_column(String(255))
    holder_address: Mapped[str] = mapped_column(String(500), default="")

    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)

    origin: Mapped[str] = mapped_column(String(16), default=DIGITIZED)
    formed_year: Mapped[int]
    retention_years: Mapped[int | None]  # None: kept permanently
    paper_pages: Mapped[int | None]
    # The stored document's page count, kept here (the file never changes) so that the plan's
    # figures need no join over the files (portal/plan.py).
    page_count: Mapped[int | None]

    digitized_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    digitized_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("results.id"), index=True)
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Rises with every change to the row (SQLAlchemy checks it on each UPDATE: a change made from a
    # stale copy fails). A reviewer publishes the version they saw (operations/results.publish).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    procedure: Mapped[Procedure] = relationship(lazy="joined")
    unit: Mapped[Unit] = relationship(lazy="joined")
    digitized_by: Mapped[User | None] = relationship(foreign_keys=[digitized_by_id])
    checked_by: Mapped[User | None] = relationship(foreign_keys=[checked_by_id])
    replaces: Mapped[Result | None] = relationship(remote_side=[id], foreign_keys=[replaces_id])
    files: Mapped[list[ResultFile]] = relationship(order_by=ResultFile.id, back_populates="result")
    history: Mapped[list[ResultStatusChange]] = relationship(
        order_by="ResultStatusChange.id", back_populates="result"
    )

    @property
    def title(self) -> str:
        return self.summary

    @property
    def document(self) -> StoredFile | None:
        """The PDF that stands for the paper result."""
        return next((rf.file for rf in self.files if rf.role == DOCUMENT), None)

    @property
    def phase(self) -> int | None:
        return phase_for_year(self.formed_year)

    def effective_status(self, on: date | None = None) -> str:
        if self.status == PUBLISHED and self.valid_until is not None and self.valid_until < (on or today()):
            return EXPIRED
        return self.status

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.effective_status()]

    def last_change_to(self, status: str) -> ResultStatusChange | None:
        """The history line that last put the result in `status`: since when, and why, it is so."""
        return next((c for c in reversed(self.history) if c.to_status == status), None)

    @property
    def holder_kind_label(self) -> str:
        return HOLDER_KIND_LABELS[self.holder_kind]

    @property
    def origin_label(self) -> str:
        return ORIGIN_LABELS[self.origin]

    def __repr__(self) -> str:
        return f"<Result {self.code} {self.status}>"


class ResultStatusChange(db.Model):
    """One line of a result's history: every state it has been in, who put it there, when, why."""

    __tablename__ = "result_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    result: Mapped[Result] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()

    @property
    def to_label(self) -> str:
        return STATUS_LABELS.get(self.to_status, self.to_status)
