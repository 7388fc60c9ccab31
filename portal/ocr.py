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
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select, update

from . import audit, search
from .extensions import db
from .models import ResultFile, StoredFile
from .models.files import OCR_DONE, OCR_FAILED, OCR_PENDING, OCR_RUNNING
from .storage import FileDamaged, storage

log = logging.getLogger(__name__)
LANGUAGE = "vie"
TIMEOUT_SECONDS = 900


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


def requeue_interrupted() -> int:
    """Files left "running" by a process that died. Run by hand (`flask ocr-pending`): a file
    another worker is reading at that moment is read twice, which costs time, not correctness."""
    count = db.session.execute(update(StoredFile).where(StoredFile.ocr_status == OCR_RUNNING)
                               .values(ocr_status=OCR_PENDING)).rowcount
    db.session.commit()
    return count


def run_pending(limit: int | None = None) -> int:
    """Recognise waiting scans, one at a time, each claimed first so that several workers share
    the queue; returns how many were done. Nothing happens where OCR is unavailable."""
    if not available():
        return 0
    handled = 0
    while limit is None or handled < limit:
        file_id = db.session.scalar(select(StoredFile.id).where(StoredFile.ocr_status == OCR_PENDING)
                                    .order_by(StoredFile.id).limit(1))
        if file_id is None:
            break
        claimed = db.session.execute(update(StoredFile).where(
            StoredFile.id == file_id, StoredFile.ocr_status == OCR_PENDING).values(ocr_status=OCR_RUNNING)).rowcount
        db.session.commit()
        if not claimed:
            continue
        stored = db.session.get(StoredFile, file_id)
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
