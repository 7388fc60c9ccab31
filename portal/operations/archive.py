"""The transfer register: what went to the current archive, and when (portal/archive)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select, select

from .. import audit
from ..extensions import db
from ..models import ArchiveTransfer
from . import transactional

if TYPE_CHECKING:  # the page's register needs none of the packaging (bagit, pikepdf)
    from ..archive.package import Package


@transactional
def record_transfer(package: Package, made_by: str) -> ArchiveTransfer:
    transfer = ArchiveTransfer(
        unit_id=package.unit.id, year=package.year, package_name=package.path.name,
        result_count=package.result_count, file_count=package.file_count, not_pdfa_count=len(package.not_pdfa),
        payload_oxum=package.payload_oxum, manifest_sha256=package.manifest_sha256, made_by=made_by[:255])
    db.session.add(transfer)
    audit.record("archive.export", target=package.unit.code,
                 details={"year": package.year, "package": package.path.name, "results": package.result_count,
                          "payload_oxum": package.payload_oxum, "manifest_sha256": package.manifest_sha256,
                          "by": made_by})
    return transfer


def register() -> Select:
    """The transfer register, newest first (admin/archive: the page is an admin's, every row shown)."""
    return select(ArchiveTransfer).order_by(ArchiveTransfer.made_at.desc(), ArchiveTransfer.id.desc())
