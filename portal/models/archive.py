from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime
from .units import Unit


class ArchiveTransfer(db.Model):
    """One package of a unit's results of a year written for the current archive (portal/archive):
    the transfer register (Law on Archives 2024). Every export is recorded: a package that left the
    portal is a transfer whether or not the archive has taken it in yet."""

    __tablename__ = "archive_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    year: Mapped[int]
    package_name: Mapped[str] = mapped_column(String(255))  # the bag's folder name, not a path on this host
    result_count: Mapped[int]
    file_count: Mapped[int]
    not_pdfa_count: Mapped[int]
    payload_oxum: Mapped[str] = mapped_column(String(64))  # "<bytes>.<files>" as bag-info.txt says
    manifest_sha256: Mapped[str] = mapped_column(String(64))  # SHA-256 of the bag's manifest-sha256.txt
    made_by: Mapped[str] = mapped_column(String(255))  # who ran it (the command line: the system user)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    unit: Mapped[Unit] = relationship(lazy="joined")
