from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime


class HeldUpload(db.Model):
    """A checked scan kept for the person who uploaded it while the form around it is corrected
    (portal/operations/held.py). Its files are in the holding store, under their SHA-256; the
    token is only ever looked up here, never made into a path."""

    __tablename__ = "held_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    original_name: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int] = mapped_column(BigInteger)  # of the file as uploaded
    page_count: Mapped[int]
    text: Mapped[str] = mapped_column(Text, default="")
    document_sha256: Mapped[str] = mapped_column(String(64))  # the PDF
    source_sha256: Mapped[str | None] = mapped_column(String(64))  # the image it was made from, if any
    source_media_type: Mapped[str | None] = mapped_column(String(100))

    @property
    def size_label(self) -> str:
        """"1,2 MB", as Vietnamese writes decimals; under a tenth of a MB in KB."""
        if self.size < 100 * 1024:
            return f"{max(1, round(self.size / 1024))} KB"
        return f"{self.size / (1024 * 1024):.1f} MB".replace(".", ",")
