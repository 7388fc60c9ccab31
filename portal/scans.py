"""Checking an uploaded scan and turning it into the PDF that stands for a paper result.

A file must be what its name says (checked by its first bytes), a PDF must parse, not be
encrypted and have pages; a JPEG, PNG or TIFF scan becomes a PDF with its pixels untouched
(img2pdf embeds them without re-encoding), and the image itself is kept beside it.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from pathlib import Path

import img2pdf
import pypdfium2
import pypdfium2.raw as pdfium_c
from PIL import Image

from .storage import Spool

PDF, JPEG, PNG, TIFF = "application/pdf", "image/jpeg", "image/png", "image/tiff"
EXTENSIONS = {".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".png": PNG, ".tif": TIFF, ".tiff": TIFF}
TYPE_LABELS = {PDF: "tệp PDF", JPEG: "ảnh JPEG", PNG: "ảnh PNG", TIFF: "ảnh TIFF"}
MIN_SCAN_DPI = 200

# PDFium is not thread-safe; every call into it goes through this lock.
PDFIUM_LOCK = threading.Lock()


class ScanError(Exception):
    """The file cannot stand for a result; str(err) says why, in Vietnamese."""


@dataclass
class Spooled:
    path: Path
    sha256: str
    size: int
    media_type: str
    synced: bool = False  # already on disk (fsync'd) where it was spooled


@dataclass
class PreparedScan:
    document: Spooled  # the PDF
    source: Spooled | None  # the image it was made from, if any
    page_count: int
    text: str
    original_name: str

    def discard(self) -> None:
        Spool.discard(self.document.path)
        if self.source:
            Spool.discard(self.source.path)


def sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-") or (b"%PDF-" in head[:1024]):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    return None


def read_pdf(path: Path) -> tuple[int, str]:
    """(page count, text layer) of a PDF, or ScanError if it cannot stand for a result.

    PDFium (which draws the previews) must open it, without a password and unencrypted, and it
    must end as a PDF ends: PDFium rebuilds a file cut short before its cross-reference table,
    which is how an interrupted copy looks. PDFium also reads the text layer, ~10x faster than
    pypdf (whose extraction, and then its structure check, made most of an import's time)."""
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - EOF_WINDOW))
        if b"%%EOF" not in fh.read():
            raise ScanError(BROKEN)
    with PDFIUM_LOCK:
        try:
            document = pypdfium2.PdfDocument(str(path))
        except pypdfium2.PdfiumError:
            if pdfium_c.FPDF_GetLastError() == pdfium_c.FPDF_ERR_PASSWORD:
                raise ScanError(ENCRYPTED) from None
            raise ScanError(BROKEN) from None
        try:
            if pdfium_c.FPDF_GetSecurityHandlerRevision(document.raw) != -1:
                raise ScanError(ENCRYPTED)  # opens without a password, but may not be altered or copied
            page_count = len(document)
            texts = [_page_text(document[i]) for i in range(page_count)]
        except pypdfium2.PdfiumError:
            raise ScanError(BROKEN) from None
        finally:
            document.close()
    if page_count == 0:
        raise ScanError("Tệp PDF không có trang nào.")
    return page_count, "\n\f".join(texts).strip()


EOF_WINDOW = 1024 * 1024  # where a PDF's %%EOF may be: some writers add bytes after it (as pypdf allows)
BROKEN = "Không đọc được tệp PDF: tệp bị hỏng hoặc không đúng cấu trúc PDF."
ENCRYPTED = "Tệp PDF đã bị mã hóa hoặc đặt mật khẩu; hãy gửi bản không mã hóa."
TOO_MANY_PIXELS = "Ảnh quá lớn (số điểm ảnh vượt giới hạn an toàn)."


def _page_text(page) -> str:
    try:
        textpage = page.get_textpage()
        try:
            return textpage.get_text_bounded().replace("\r\n", "\n").replace("\r", "\n")
        finally:
            textpage.close()
    except pypdfium2.PdfiumError:  # a page whose text cannot be read still has its image
        return ""
    finally:
        page.close()


def refuse_active_content(path: Path) -> None:
    """ScanError if the PDF carries something a reader would run or open by itself (a script, a
    program, another file: portal/active_content.py says what and why). A PDF made here from an
    image carries none, and is not looked at."""
    import pikepdf

    from .active_content import find_active_content

    try:
        found = find_active_content(path)
    except (pikepdf.PdfError, RuntimeError, ValueError, TypeError):  # qpdf's errors, as pikepdf raises them
        raise ScanError(BROKEN) from None
    if found:
        raise ScanError(f"Tệp PDF có {found}: không nhận tệp có nội dung mà trình đọc PDF tự chạy hoặc tự mở. "
                        "Hãy quét lại, hoặc in lại thành PDF thông thường, rồi gửi lại.")


def _past_pixel_limit(image: Image.Image) -> bool:
    """Pillow refuses only twice its limit (89 million pixels; an A3 page at 600 dpi has 70): in
    between, a 400 KB PNG of 100 million transparent pixels took img2pdf 1.2 GB. Every frame is
    measured from its header, before any pixel is unpacked."""
    for frame in range(getattr(image, "n_frames", 1)):
        image.seek(frame)
        if image.width * image.height > Image.MAX_IMAGE_PIXELS:
            return True
    image.seek(0)
    return False


def image_to_pdf(path: Path) -> bytes:
    try:
        with Image.open(path) as image:
            if _past_pixel_limit(image):
                raise ScanError(TOO_MANY_PIXELS)
            dpi = image.info.get("dpi")
            if dpi and 0 < min(float(dpi[0]), float(dpi[1])) < MIN_SCAN_DPI:
                raise ScanError(
                    f"Ảnh quét có độ phân giải {round(float(min(dpi)))} dpi; cần tối thiểu {MIN_SCAN_DPI} dpi."
                )
            image.verify()
    except ScanError:
        raise
    except Image.DecompressionBombError:
        raise ScanError(TOO_MANY_PIXELS) from None
    except Exception:  # noqa: BLE001 - Pillow raises many kinds of error for a damaged image
        raise ScanError("Không đọc được ảnh quét: tệp bị hỏng.") from None
    try:
        return img2pdf.convert(str(path), rotation=img2pdf.Rotation.ifvalid)
    except img2pdf.AlphaChannelError:
        # img2pdf will not drop transparency silently; a scan has none that matters.
        with Image.open(path) as image:
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="PNG", dpi=image.info.get("dpi", (MIN_SCAN_DPI,) * 2))
        return img2pdf.convert(buffer.getvalue())
    except Exception:  # noqa: BLE001 - and img2pdf as many
        raise ScanError("Không chuyển được ảnh quét sang PDF: tệp ảnh bị hỏng.") from None


def prepare(store: Spool, upload: Spooled, original_name: str) -> PreparedScan:
    """Check a spooled upload and make its PDF (spooled by `store`, a store or a reader's spool
    folder). Raises ScanError; the caller discards on error."""
    name = Path(original_name or "").name
    if upload.size == 0:
        raise ScanError("Tệp rỗng (0 byte).")
    extension = Path(name).suffix.lower()
    claimed = EXTENSIONS.get(extension)
    if claimed is None:
        raise ScanError("Chỉ nhận tệp PDF hoặc ảnh quét JPEG, PNG, TIFF.")
    with open(upload.path, "rb") as fh:
        actual = sniff(fh.read(1024))
    if actual != claimed:
        what = TYPE_LABELS[actual] if actual else "không phải PDF hay ảnh"
        raise ScanError(f"Tệp «{name}» có đuôi {extension} nhưng nội dung là {what}.")
    upload.media_type = actual
    if actual == PDF:
        page_count, text = read_pdf(upload.path)
        refuse_active_content(upload.path)
        return PreparedScan(upload, None, page_count, text, name)
    pdf_bytes = image_to_pdf(upload.path)
    pdf_path, pdf_sha, pdf_size = store.spool(io.BytesIO(pdf_bytes))
    document = Spooled(pdf_path, pdf_sha, pdf_size, PDF)
    try:
        page_count, text = read_pdf(pdf_path)
    except ScanError:
        Spool.discard(pdf_path)
        raise
    return PreparedScan(document, upload, page_count, text, name)
