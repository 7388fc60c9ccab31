"""Whether the number and the issue date typed for a result appear in the text of its scan.

A reviewer checks the typed metadata against the paper; the scan's text (its text layer, or what
OCR read: `stored_files.text`, pages separated by form feeds) lets the portal point at where the
number and the date are, and warn when they are nowhere. The search is tolerant of how a date is
written (05/06/2012, 5/6/2012, 05-06-2012, "ngày 05 tháng 06 năm 2012", with or without
diacritics) and of case and spaces in the number; it never blocks publishing, it only tells.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

NUMBER, DATE = "number", "date"


@dataclass(frozen=True)
class Finding:
    """One typed value and the pages (1-based) of the scan it was found on."""

    kind: str  # NUMBER or DATE
    label: str  # what the reviewer reads: "số, ký hiệu"
    shown: str  # the value as typed: "125/GP-SKHCN", "05/06/2012"
    pages: tuple[int, ...]
    pattern: re.Pattern

    @property
    def found(self) -> bool:
        return bool(self.pages)

    @property
    def warning(self) -> str:
        return (f"Không tìm thấy {self.label} {self.shown} trên bản quét. "
                "Hãy đối chiếu kỹ với bản giấy trước khi phát hành.")


def split_pages(text: str | None) -> list[str]:
    """The text of each page (the stored text separates pages with form feeds)."""
    if not text or not text.strip():
        return []
    return [page.strip("\n") for page in text.split("\f")]


def fold(text: str) -> tuple[str, list[int]]:
    """Lower case without diacritics (đ as d), and for each folded character the index of the
    character of `text` it came from, so that a match maps back onto the original."""
    folded, origin = [], []
    for index, char in enumerate(text):
        for part in unicodedata.normalize("NFD", char):
            if unicodedata.combining(part):
                continue
            part = "d" if part in "đĐ" else part.lower()
            for piece in part:  # lower() can give more than one character
                folded.append(piece)
                origin.append(index)
    return "".join(folded), origin


def _edge(char: str, before: bool) -> str:
    """Keep a digit from matching inside a longer number, a letter inside a longer word."""
    kind = r"\d" if char.isdigit() else "a-z" if char.isalpha() else ""
    if not kind:
        return ""
    return f"(?<![{kind}])" if before else f"(?![{kind}])"


def number_pattern(number: str) -> re.Pattern | None:
    """The typed number, its case, diacritics and spaces not counting."""
    chars = [char for char in fold(number)[0] if not char.isspace()]
    if not chars:
        return None
    body = r"\s*".join(re.escape(char) for char in chars)
    return re.compile(_edge(chars[0], True) + body + _edge(chars[-1], False))


def date_pattern(day: date) -> re.Pattern:
    d, m, y = rf"0?{day.day}", rf"0?{day.month}", str(day.year)
    numeric = rf"(?<!\d){d}\s*[/.\-]\s*{m}\s*[/.\-]\s*{y}(?!\d)"
    words = rf"ngay\s*{d}\s*,?\s*thang\s*{m}\s*,?\s*nam\s*{y}(?!\d)"
    return re.compile(f"{numeric}|{words}")


def check(text: str | None, number: str, issue_date: date) -> list[Finding] | None:
    """A finding for the number and one for the date; None when the scan has no text to search."""
    pages = split_pages(text)
    if not pages:
        return None
    folded = [fold(page)[0] for page in pages]
    findings = []
    wanted = [(NUMBER, "số, ký hiệu", number, number_pattern(number)),
              (DATE, "ngày ban hành", f"{issue_date:%d/%m/%Y}", date_pattern(issue_date))]
    for kind, label, shown, pattern in wanted:
        if pattern is None:
            continue
        on = tuple(n for n, page in enumerate(folded, start=1) if pattern.search(page))
        findings.append(Finding(kind, label, shown, on, pattern))
    return findings


def highlight(page_text: str, findings: list[Finding]) -> list[tuple[str, str | None]]:
    """The page's text in pieces, each with the kind of the finding it matches (None: plain)."""
    folded, origin = fold(page_text)
    spans = []
    for finding in findings:
        for match in finding.pattern.finditer(folded):
            if match.end() > match.start():
                spans.append((origin[match.start()], origin[match.end() - 1] + 1, finding.kind))
    pieces, at = [], 0
    for start, end, kind in sorted(spans):
        if start < at:  # overlapping matches: the first one wins
            continue
        if start > at:
            pieces.append((page_text[at:start], None))
        pieces.append((page_text[start:end], kind))
        at = end
    if at < len(page_text):
        pieces.append((page_text[at:], None))
    return pieces
