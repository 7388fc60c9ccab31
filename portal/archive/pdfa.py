"""A PDF/A check of what can be read from a PDF's structure (pikepdf), without veraPDF (Java,
not run here): PDF/A declared in the XMP packet (pdfaid:part and conformance), an output intent,
every font embedded, no encryption, nothing a reader would run or open (JavaScript, embedded
files: portal/active_content.py). A file that passes declares PDF/A and has none of the usual
faults; only a full validator proves conformance (TCVN 14159-1:2024). Reasons are in Vietnamese:
the report goes to the archive's staff."""

from __future__ import annotations

from pathlib import Path

import pikepdf

from ..active_content import find_active_content

ENCRYPTED = "Tệp được mã hóa"
UNREADABLE = "Không đọc được cấu trúc tệp PDF"
NOT_DECLARED = "Không khai báo PDF/A trong siêu dữ liệu XMP (pdfaid:part, pdfaid:conformance)"
NO_OUTPUT_INTENT = "Không có output intent (hồ sơ màu) PDF/A"
MAX_RESOURCES = 10_000  # resource dictionaries looked at; a scan has one a page


def problems(path: Path) -> tuple[str | None, list[str]]:
    """(the declared level, e.g. "2B", or None; why the file is not PDF/A, [] if no fault found)."""
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError:
        return None, [ENCRYPTED]
    except pikepdf.PdfError:
        return None, [UNREADABLE]
    found: list[str] = []
    with pdf:
        if pdf.is_encrypted:
            found.append(ENCRYPTED)
        level = _declared(pdf)
        if level is None:
            found.append(NOT_DECLARED)
        if not _has_output_intent(pdf):
            found.append(NO_OUTPUT_INTENT)
        if missing := fonts_not_embedded(pdf):
            found.append("Phông chữ không được nhúng: " + ", ".join(sorted(missing)))
    active = find_active_content(path)
    if active:
        found.append(f"Có {active}")
    return level, found


def _declared(pdf: pikepdf.Pdf) -> str | None:
    try:
        status = pdf.open_metadata().pdfa_status
    except Exception:  # noqa: BLE001 — a broken XMP packet is a file that declares nothing
        return None
    return status or None


def _has_output_intent(pdf: pikepdf.Pdf) -> bool:
    intents = pdf.Root.get("/OutputIntents")
    if not isinstance(intents, pikepdf.Array):
        return False
    return any(isinstance(i, pikepdf.Dictionary) and i.get("/S") == "/GTS_PDFA1" and "/DestOutputProfile" in i
               for i in intents)


def fonts_not_embedded(pdf: pikepdf.Pdf) -> set[str]:
    """Base names of the fonts the pages (and their form XObjects) use without embedding them, which
    PDF/A forbids: the archive's report says which, and a certified copy of such an original does not
    claim PDF/A (copies/pdf.py). Type 3 fonts are drawn by content streams: nothing to embed. A font
    entry that is not a font dictionary counts as not embedded."""
    missing: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack = [page.obj.get("/Resources") for page in pdf.pages]
    while stack and len(seen) < MAX_RESOURCES:
        resources = stack.pop()
        if not isinstance(resources, pikepdf.Dictionary):
            continue
        if resources.objgen != (0, 0):
            if resources.objgen in seen:
                continue
            seen.add(resources.objgen)
        fonts = resources.get("/Font")
        for font in (fonts.values() if isinstance(fonts, pikepdf.Dictionary) else []):
            if isinstance(font, pikepdf.Dictionary) and font.get("/Subtype") == "/Type3":
                continue
            if not (isinstance(font, pikepdf.Dictionary) and _embedded(font)):
                name = font.get("/BaseFont", "?") if isinstance(font, pikepdf.Dictionary) else "?"
                missing.add(str(name).lstrip("/"))
        xobjects = resources.get("/XObject")
        for xobject in (xobjects.values() if isinstance(xobjects, pikepdf.Dictionary) else []):
            if isinstance(xobject, pikepdf.Stream) and xobject.get("/Subtype") == "/Form":
                stack.append(xobject.get("/Resources"))
    return missing


def _embedded(font: pikepdf.Dictionary) -> bool:
    """Whether the font's program is in the file (a composite font's, in its descendant)."""
    descendants = font.get("/DescendantFonts")
    described = descendants[0] if isinstance(descendants, pikepdf.Array) and len(descendants) else font
    descriptor = described.get("/FontDescriptor") if isinstance(described, pikepdf.Dictionary) else None
    return isinstance(descriptor, pikepdf.Dictionary) and any(
        k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
