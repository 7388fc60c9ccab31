"""Text recognition for scans without a text layer: OCRmyPDF with Tesseract's Vietnamese model.

The stored file is never changed: OCRmyPDF writes its own copy in a temporary folder, and only
the recognised text (its sidecar) is kept, in `stored_files.text`, which the index queue picks up.
Where Tesseract or its `vie` data is missing the portal works on and says OCR is unavailable.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from . import audit, search
from .extensions import db
from .jobs import claim
from .models import ResultFile, StoredFile
from .models.files import OCR_DONE, OCR_FAILED, OCR_PENDING, OCR_RUNNING
from .storage import FileDamaged, storage
from .timeutil import utcnow

log = logging.getLogger(__name__)
LANGUAGE = "vie"
TIMEOUT_SECONDS = 900
# Runs of a scan's recognition begun: one whose worker died this many times (a scan that gets the
# process killed) is failed with GIVEN_UP instead of being taken over forever.
MAX_ATTEMPTS = 3
GIVEN_UP = f"Quy trình nhận dạng dừng giữa chừng {MAX_ATTEMPTS} lần với bản quét này; đã dừng hẳn."
FAILED = "Không nhận dạng được chữ trong bản quét (Tesseract báo lỗi hoặc quá thời gian)."


class OcrFailed(Exception):
    pass


@lru_cache(maxsize=1)
def available() -> bool:
    if not (shutil.which("ocrmypdf") and shutil.which("tesseract")):
        return False
    try:
        langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return LANGUAGE in langs.split()


def recognise(pdf: Path) -> str:
    """The text Tesseract reads on every page of `pdf` (a checked copy of a stored file, never a user's path)."""
    with tempfile.TemporaryDirectory(prefix="ocr-") as tmp:
        sidecar, output = Path(tmp) / "text.txt", Path(tmp) / "ocr.pdf"
        command = ["ocrmypdf", "--language", LANGUAGE, "--sidecar", str(sidecar), "--output-type", "pdf",
                   "--skip-text", "--optimize", "0", "--jobs", "1", "--quiet", str(pdf), str(output)]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=TIMEOUT_SECONDS)
        except subprocess.CalledProcessError as err:
            raise OcrFailed(err.stderr.decode(errors="replace")[-500:]) from None
        except subprocess.TimeoutExpired:
            raise OcrFailed("timed out") from None
        return sidecar.read_text(encoding="utf-8", errors="replace").replace("\f", "\n\f").strip()


def pending_count() -> int:
    return db.session.scalar(select(db.func.count(StoredFile.id)).where(StoredFile.ocr_status == OCR_PENDING)) or 0


def _lease() -> timedelta:
    # One recognition cannot renew its lease (it is one subprocess), but it is stopped at
    # TIMEOUT_SECONDS: a living worker settles the scan within that.
    return timedelta(seconds=TIMEOUT_SECONDS + current_app.config["JOB_LEASE_SECONDS"])


def give_up_dead() -> int:
    """Fail the scans whose recognition died on its last run (lease out, MAX_ATTEMPTS runs)."""
    count = db.session.execute(update(StoredFile).where(
        StoredFile.ocr_status == OCR_RUNNING, StoredFile.ocr_lease_until < utcnow(),
        StoredFile.ocr_attempts >= MAX_ATTEMPTS).values(ocr_status=OCR_FAILED)).rowcount  # its lease kept: see why
    db.session.commit()
    return count


def why_failed(stored: StoredFile) -> str:
    """A failed scan's reason for staff: given up (its lease was kept), or Tesseract's failure."""
    return GIVEN_UP if stored.ocr_lease_until is not None else FAILED


def claim_next() -> StoredFile | None:
    """Take a waiting scan, or one whose worker died (its lease ran out; up to MAX_ATTEMPTS runs),
    with a lease; None if there is none."""
    now = utcnow()
    give_up_dead()
    takeable = (StoredFile.ocr_status == OCR_PENDING) | (
        # None: left running by a process of the time before leases (migration 0018)
        (StoredFile.ocr_status == OCR_RUNNING) & (StoredFile.ocr_attempts < MAX_ATTEMPTS)
        & (StoredFile.ocr_lease_until.is_(None) | (StoredFile.ocr_lease_until < now)))
    return claim(StoredFile, takeable, {"ocr_status": OCR_RUNNING, "ocr_lease_until": now + _lease(),
                                        "ocr_attempts": StoredFile.ocr_attempts + 1})


def run_pending(limit: int | None = None) -> int:
    """Recognise waiting scans, one at a time, each claimed with a lease so that several workers
    share the queue; returns how many were done. Nothing happens where OCR is unavailable."""
    if not available():
        return 0
    handled = 0
    while limit is None or handled < limit:
        stored = claim_next()
        if stored is None:
            break
        stored.ocr_lease_until = None  # settled below, whatever happens
        try:
            with storage().local_copy(stored.sha256) as pdf:
                text = recognise(pdf)
        except (OcrFailed, FileDamaged) as err:
            log.warning("OCR of %s failed: %s", stored.sha256, err)
            stored.ocr_status = OCR_FAILED
        else:
            stored.text, stored.ocr_status = text, OCR_DONE
            for link in db.session.scalars(select(ResultFile).where(ResultFile.file_id == stored.id)):
                audit.record("ocr.done", result=link.result, details={"sha256": stored.sha256,
                                                                      "characters": len(text)})
        db.session.commit()
        search.sync()
        handled += 1
    return handled
