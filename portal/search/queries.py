"""From what a person typed to a Whoosh query, and from a query to one page of hits.

Words that are identifiers (result or dossier code, document number, CCCD, tax code, procedure
code) must match whole in the identifier field; the other words, and "quoted phrases", go to the
text fields through Whoosh's parser, every word required. The caller's restriction (a holder's
own results, a unit's) is AND-ed into the query itself: measured far faster than `filter=`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from whoosh import qparser
from whoosh.highlight import ContextFragmenter, HtmlFormatter
from whoosh.query import And, NullQuery, NumericRange, Query, Term

from ..identifiers import (
    InvalidInput,
    normalize_document_number,
    normalize_dossier_code,
    normalize_holder_id,
    normalize_procedure_code,
    normalize_result_code,
)
from ..models.results import EXPIRED, PUBLISHED
from ..timeutil import today
from .schema import NO_EXPIRY, fold_identifier, make_schema

_TOKENS = re.compile(r'"[^"]*"?|\S+')
_NORMALIZERS = (normalize_result_code, normalize_dossier_code, normalize_document_number,
                lambda value: normalize_holder_id(value)[1], normalize_procedure_code)
_SCHEMA = make_schema()
MAX_QUERY_LENGTH = 300


def identifier(token: str) -> str | None:
    """The canonical form of an identifier-looking token, or None for an ordinary word."""
    for normalize in _NORMALIZERS:
        try:
            return normalize(token)
        except InvalidInput:
            continue
    return None


def _parser(fields: list[str]) -> qparser.QueryParser:
    parser = qparser.MultifieldParser(fields, _SCHEMA, group=qparser.AndGroup)
    # People type words, not query syntax: no field names, wildcards or ranges reach the index.
    for plugin in (qparser.FieldsPlugin, qparser.WildcardPlugin, qparser.RangePlugin, qparser.BoostPlugin,
                   qparser.FuzzyTermPlugin):
        parser.remove_plugin_class(plugin)
    return parser


def text_query(q: str, fields: list[str]) -> Query | None:
    """The query for what was typed, or None when nothing was typed."""
    q = (q or "").strip()[:MAX_QUERY_LENGTH]
    if not q:
        return None
    parts: list[Query] = []
    words: list[str] = []
    for token in _TOKENS.findall(q):
        canonical = None if token.startswith('"') else identifier(token)
        if canonical:
            parts.append(Term("ids", fold_identifier(canonical)))
        else:
            words.append(token)
    if words:
        parsed = _parser(fields).parse(" ".join(words))
        if parsed is not NullQuery:
            parts.append(parsed)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(parts)


def _yyyymmdd(day) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def status_query(status: str) -> Query:
    """Stored states, and the two that depend on today's date: valid (published, in force) and expired."""
    today_n = _yyyymmdd(today())
    if status == EXPIRED:
        return And([Term("status", PUBLISHED), NumericRange("valid_until", None, today_n - 1)])
    if status == "valid":
        return And([Term("status", PUBLISHED), NumericRange("valid_until", today_n, NO_EXPIRY)])
    return Term("status", status)


@dataclass
class Filters:
    field: str | None = None
    year: str | None = None
    status: str | None = None
    unit: str | None = None
    procedure: str | None = None
    phase: str | None = None

    def queries(self) -> list[Query]:
        parts = []
        for name in ("field", "year", "unit", "procedure", "phase"):
            value = getattr(self, name)
            if value:
                parts.append(Term(name, str(value)))
        if self.status:
            parts.append(status_query(self.status))
        return parts


def build(restriction: Query, q: str, filters: Filters, fields: list[str]) -> tuple[Query, bool]:
    """(query, has_words): the restriction, the filters and what was typed, all required."""
    typed = text_query(q, fields)
    parts = [restriction, *filters.queries()] + ([typed] if typed is not None else [])
    return And(parts), typed is not None


@dataclass
class Hit:
    result_id: int
    score: float | None
    snippet: str = ""  # HTML, escaped by Whoosh's formatter, matched words in <mark>


@dataclass
class HitPage:
    hits: list[Hit] = field(default_factory=list)
    page: int = 1
    per_page: int = 20
    has_next: bool = False


FORMATTER = HtmlFormatter(tagname="mark", between=" … ")
FRAGMENTER = ContextFragmenter(maxchars=240, surround=60)


def run(searcher, query: Query, *, page: int, per_page: int, by_relevance: bool, texts=None) -> HitPage:
    """One page of hits, without counting every match: ask for one more than the page needs.

    `texts(result_ids)` returns {id: (title, content)} from the database, for the snippets.
    """
    page = max(1, page)
    limit = page * per_page + 1
    if by_relevance:
        results = searcher.search(query, limit=limit)
    else:
        results = searcher.search(query, limit=limit, sortedby="issue_date", reverse=True)
    results.formatter, results.fragmenter = FORMATTER, FRAGMENTER
    start = (page - 1) * per_page
    window = [results[i] for i in range(start, min(start + per_page, results.scored_length()))]
    hits = [Hit(int(hit["id"]), hit.score if by_relevance else None) for hit in window]
    if by_relevance and texts and hits:
        sources = texts([h.result_id for h in hits])
        for hit, whoosh_hit in zip(hits, window):
            title, content = sources.get(hit.result_id, ("", ""))
            hit.snippet = (whoosh_hit.highlights("text", text=content, top=2)
                           or whoosh_hit.highlights("text", text=title))
    return HitPage(hits, page, per_page, results.scored_length() > start + per_page)

