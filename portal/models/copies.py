from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .results import Result
from .types import UTCDateTime
from .users import User


def register_number(number: int, year: int) -> str:
    """How a copy's place in the register is written: 000123/2026/BSĐT."""
    return f"{number:06d}/{year}/BSĐT"


class CertifiedCopy(db.Model):
    """One line of the register of electronic copies issued from the original register (sổ cấp
    bản sao): numbered per year, with the code anyone can verify it by and the hash of the exact
    signed file handed out."""

    __tablename__ = "certified_copies"
    __table_args__ = (UniqueConstraint("year", "number", name="register_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    number: Mapped[int]
    verification_code: Mapped[str] = mapped_column(String(32), unique=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"), index=True)
    # The holder as written on the copy, kept even if the result's record is corrected later.
    holder_id: Mapped[str] = mapped_column(String(16), index=True)
    holder_name: Mapped[str] = mapped_column(String(255))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    page_count: Mapped[int]
    signer_cert_sha256: Mapped[str] = mapped_column(String(64))
    # The signature timestamp the copy carries (RFC 3161), as the authority wrote it, and who that
    # authority is; both None for a copy made without one.
    timestamped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timestamp_authority: Mapped[str | None] = mapped_column(String(255))
    # It carries the certificates and revocation data to be validated offline (PAdES B-LT).
    long_term: Mapped[bool] = mapped_column(default=False)
    # B-LTA: when the certificate of the authority behind the file's last document timestamp
    # expires; `copies-refresh` adds a new one before that day.
    archive_timestamp_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    result: Mapped[Result] = relationship(lazy="joined")
    requested_by: Mapped[User | None] = relationship()
    earlier_files: Mapped[list[CopyFile]] = relationship(order_by="CopyFile.id", back_populates="copy")

    @property
    def known_hashes(self) -> set[str]:
        """Every file this register line has stood for: the current one, and those a refresh
        superseded (a holder may still hold and show one of them)."""
        return {self.sha256} | {f.sha256 for f in self.earlier_files}

    @property
    def register_number(self) -> str:
        return register_number(self.number, self.year)

    @property
    def display_code(self) -> str:
        code = self.verification_code
        return "-".join(code[i:i + 4] for i in range(0, len(code), 4))

    @property
    def file_name(self) -> str:
        return f"ban-sao-{self.result.code}-{self.verification_code}.pdf"


class CopyFile(db.Model):
    """A file a copy's register line stood for before `copies-refresh` added a document timestamp
    to it (an incremental update: the earlier file is a prefix of the later one). Kept in storage."""

    __tablename__ = "certified_copy_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("certified_copies.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    superseded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    copy: Mapped[CertifiedCopy] = relationship(back_populates="earlier_files")


class CopyNumberCounter(db.Model):
    """The last register number handed out in a year. Taken with one UPDATE ... RETURNING: the
    row lock (PostgreSQL) or the write lock (SQLite) lasts that short transaction only."""

    __tablename__ = "copy_number_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int]


class CopyNumberReservation(db.Model):
    """A register number taken for a copy not yet in the register: being rendered (`held_by` is
    the token of the request holding it), released (its rendering failed or was refused: None),
    or abandoned (held past the lease by a process that died). The row goes when the copy is
    registered; the next copy takes the lowest released or abandoned number first, so that the
    register stays gap-free (portal/copies/numbers.py)."""

    __tablename__ = "copy_number_reservations"
    __table_args__ = (CheckConstraint("number > 0", name="positive_number"),)

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    held_by: Mapped[str | None] = mapped_column(String(32))
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime)
