from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime

# Text recognition states of a stored scan (portal/ocr.py); None: it has a text layer.
OCR_PENDING, OCR_RUNNING, OCR_DONE, OCR_FAILED = "pending", "running", "done", "failed"


class StoredFile(db.Model):
    """A file's content, stored once under its SHA-256 (see portal.storage)."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    page_count: Mapped[int | None]
    text: Mapped[str | None] = mapped_column(Text)
    original_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Text recognition of a scan without a text layer: None (not needed), or one of OCR_*.
    ocr_status: Mapped[str | None] = mapped_column(String(16), index=True)
    # A running recognition's lease: a worker that died leaves the scan to another once it has run
    # out, at most ocr.MAX_ATTEMPTS times (a scan that kills Tesseract is failed, not tried forever).
    ocr_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ocr_attempts: Mapped[int] = mapped_column(default=0, server_default="0")


# Roles of a file in a result: the PDF that stands for the paper result, and the image an
# uploaded scan was converted from (kept so that nothing the staff gave us is lost).
DOCUMENT, SOURCE_IMAGE = "document", "source_image"


class ResultFile(db.Model):
    __tablename__ = "result_files"
    __table_args__ = (UniqueConstraint("result_id", "file_id", name="uq_result_files_result_file"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"), index=True)
    role: Mapped[str] = mapped_column(String(32), default=DOCUMENT)

    file: Mapped[StoredFile] = relationship(lazy="joined")
    result: Mapped[Result] = relationship(back_populates="files")  # noqa: F821
