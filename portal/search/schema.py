"""What the index holds for a result, and how Vietnamese text is analysed.

Text is folded to lower case and stripped of every diacritic (accent_map folds đ/Đ too), so
"quang ngai", "Quảng Ngãi" and "QUẢNG NGÃI" are the same words. Identifiers go whole, lower-cased,
into one keyword field, so `125/GP-SKHCN` matches only itself.
"""

from __future__ import annotations

from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, SpaceSeparatedTokenizer
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

from ..identifiers import phase_for_year
from ..models import Result
from ..models.results import HOLDER_VISIBLE_STATUSES

NO_EXPIRY = 99991231


def text_analyzer():
    return RegexTokenizer(r"\w+") | LowercaseFilter() | CharsetFilter(accent_map)


def identifier_analyzer():
    # Whole identifiers, space-separated, folded like the text: "QĐ" is also typed "qd".
    return SpaceSeparatedTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


_FOLD = identifier_analyzer()


def fold_identifier(value: str) -> str:
    return " ".join(token.text for token in _FOLD(value))


def make_schema() -> Schema:
    analyzer = text_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        ids=TEXT(analyzer=identifier_analyzer(), phrase=False, field_boost=5.0),
        # Set only while a holder may see the result: the holder restriction is one term.
        holder_visible=ID(),
        unit=ID(),
        status=ID(),
        field=ID(),
        procedure=ID(),
        year=ID(),
        phase=ID(),
        issue_date=NUMERIC(int, sortable=True),
        valid_until=NUMERIC(int),  # (signed=False breaks ranges in Whoosh)
        # Every word of the result in one field: a typed word is one posting list to intersect
        # with the holder's few documents, not one per field (measured ~3x faster than five fields).
        text=TEXT(analyzer=analyzer),
        code=STORED(),
    )


TEXT_FIELDS = ["text"]


def _yyyymmdd(day) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def document_for(result: Result) -> dict:
    """The index entry of a result, from the database row (the source of truth)."""
    document = result.document
    identifiers = [result.code, result.dossier_code, result.document_number, result.holder_id,
                   result.procedure.code]
    entry = {
        "id": str(result.id),
        "code": result.code,
        "ids": " ".join(i for i in identifiers if i),
        "unit": str(result.unit_id),
        "status": result.status,
        "field": result.procedure.field,
        "procedure": result.procedure.code,
        "year": str(result.issue_date.year),
        "phase": str(phase_for_year(result.formed_year) or 0),
        "issue_date": _yyyymmdd(result.issue_date),
        "valid_until": _yyyymmdd(result.valid_until) if result.valid_until else NO_EXPIRY,
        "text": "\n".join([result.summary, result.procedure.name, result.holder_name, result.signer_name,
                           result.signer_title, (document.text or "") if document else ""]),
    }
    if result.status in HOLDER_VISIBLE_STATUSES:
        entry["holder_visible"] = result.holder_id
    return entry
