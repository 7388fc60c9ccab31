"""Search in PostgreSQL: the table `result_search` (migration 0020), one row per result, written by
the database function `portal_search_refresh` in the very transaction that changes the result
(queue.py's flush hook). No queue, no index on disk, nothing to rebuild: every node sees a change
when it is committed.

The analysis is Whoosh's (schema.py): words folded to lower case without diacritics (unaccent maps
đ/Đ to d), cut at every non-alphanumeric character; identifiers folded and matched whole.

What was typed is parsed here as for Whoosh (queries.py): identifiers, "quoted phrases", words, all
required. Ranking every match of a common word in a big unit is what a ranked SQL query spends its
time on (803 ms at a million results), so a search first takes at most `candidates` + 1 matches in
no order: when there are no more than `candidates`, they are ranked exactly; when there are more,
the words are too common to rank usefully and the page is the newest matches instead, read along
the unit's (or holder's) date index until the page is full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import escape
from sqlalchemy import text

from ..access import Scope
from ..models.results import EXPIRED, PUBLISHED
from ..timeutil import today
from .queries import _TOKENS, MAX_QUERY_LENGTH, Filters, Hit, HitPage, identifier
from .restriction import postgresql_restriction
from .schema import fold_identifier

CANDIDATES = 1000
WORK_MEM = "64MB"
TABLE = "result_search"


def not_the_search_table(name, type_, _parent_names) -> bool:
    """For Alembic's comparison of models and schema: the search table is the migrations' alone
    (PostgreSQL only, written by the database), no model stands for it."""
    return not (type_ == "table" and name == TABLE)
_ALNUM = re.compile(r"[^\W_]")  # what portal_words keeps ([[:alnum:]])
_START, _STOP = "\ue000", "\ue001"  # private-use characters: ts_headline's marks, before escaping
_MARKED = re.compile(f"{_START}(.*?){_STOP}", re.S)
_HEADLINE = (f'StartSel="{_START}", StopSel="{_STOP}", MaxFragments=2, MaxWords=30, MinWords=12, '
             'ShortWord=0, FragmentDelimiter=" … "')
_TITLE_HEADLINE = f'StartSel="{_START}", StopSel="{_STOP}", HighlightAll=true'
_DOCUMENT_TEXT = """LEFT JOIN LATERAL (SELECT f.text FROM result_files rf JOIN stored_files f ON f.id = rf.file_id
                   WHERE rf.result_id = r.id AND rf.role = 'document' ORDER BY rf.id LIMIT 1) d ON true"""


@dataclass
class Typed:
    """What was typed, parsed: identifiers (canonical), plain words, phrases."""

    ids: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.ids or self.words or self.phrases)

    @property
    def has_text(self) -> bool:
        return bool(self.words or self.phrases)


def parse(q: str) -> Typed:
    typed = Typed()
    for token in _TOKENS.findall((q or "").strip()[:MAX_QUERY_LENGTH]):
        if token.startswith('"'):
            phrase = token.strip('"')
            if _ALNUM.search(phrase):
                typed.phrases.append(phrase)
        elif canonical := identifier(token):
            typed.ids.append(canonical)
        elif _ALNUM.search(token):  # query syntax alone ("*", "(((") is nothing typed
            typed.words.append(token)
    return typed


def _tsquery(typed: Typed, params: dict) -> str:
    """The text search query of the words and phrases, as SQL over bound parameters."""
    parts = []
    if typed.words:
        params["q_words"] = " ".join(typed.words)
        parts.append("plainto_tsquery('simple', portal_words(:q_words))")
    for i, phrase in enumerate(typed.phrases):
        params[f"q_phrase{i}"] = phrase
        parts.append(f"phraseto_tsquery('simple', portal_words(:q_phrase{i}))")
    return " && ".join(f"({part})" for part in parts)


def _filters(filters: Filters, params: dict) -> list[str]:
    """Filters as Whoosh has them (queries.Filters.queries): the same values, the same dates."""
    conditions = []
    for name in ("field", "year", "procedure", "phase"):
        value = getattr(filters, name)
        if value:
            params[f"f_{name}"] = str(value)
            conditions.append(f"{name} = :f_{name}")
    if filters.unit:
        unit = str(filters.unit)
        if unit.isascii() and unit.isdigit() and len(unit) <= 9:
            params["f_unit"] = int(unit)
            conditions.append("unit_id = :f_unit")
        else:
            conditions.append("false")
    if filters.status == EXPIRED:
        params["f_today"] = today()
        conditions.append(f"status = '{PUBLISHED}' AND valid_until < :f_today")
    elif filters.status == "valid":
        params["f_today"] = today()
        conditions.append(f"status = '{PUBLISHED}' AND valid_until >= :f_today")
    elif filters.status:
        params["f_status"] = filters.status
        conditions.append("status = :f_status")
    return conditions


@dataclass
class SearchQuery:
    """The SQL of one search: the condition on `result_search`, its parameters, the text query."""

    where: str
    params: dict
    tsquery: str | None  # None when no words were typed (nothing, or identifiers only)
    typed: Typed


def build(scope: Scope, q: str, filters: Filters, *, by_date: bool = False) -> SearchQuery:
    """The search's SQL. `by_date`: for reading newest first along a date index, the typed words and
    identifiers are written as function calls, which no index answers: the planner must then walk
    the restriction's date index and test each row, rather than collect every match of common
    words from the GIN indexes and sort them all (its estimate of a few words together is far too low)."""
    restriction, params = postgresql_restriction(scope)
    params = dict(params)
    conditions = [restriction, *_filters(filters, params)]
    typed = parse(q)
    if typed.ids:
        names = []
        for i, canonical in enumerate(typed.ids):
            params[f"q_id{i}"] = fold_identifier(canonical)
            names.append(f"portal_fold(:q_id{i})")
        wanted = f"ARRAY[{', '.join(names)}]::text[]"
        conditions.append(f"arraycontains(ids, {wanted})" if by_date else f"ids @> {wanted}")
    tsquery = _tsquery(typed, params) if typed.has_text else None
    if tsquery:
        conditions.append(f"ts_match_vq(words, ({tsquery}))" if by_date else f"words @@ ({tsquery})")
    return SearchQuery(" AND ".join(f"({c})" for c in conditions), params, tsquery, typed)


def hit_page(connection, scope: Scope, q: str, filters: Filters, *, page: int = 1, per_page: int = 20,
             candidates: int = CANDIDATES) -> HitPage:
    """One page of hits (ids, scores, snippets) for `scope`; the restriction is in the query.

    `connection` is a SQLAlchemy Connection or Session on the PostgreSQL database.
    """
    page = max(1, page)
    query = build(scope, q, filters)
    if scope.holder_id is None:
        # A unit's (or everyone's) matches of common words make bitmaps of hundreds of thousands of
        # rows: with the default 4 MB they turn lossy and every row of their pages is tested again
        # (490 ms instead of 76 ms at a million results). For this transaction only.
        connection.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    params = {**query.params, "limit": per_page + 1, "offset": (page - 1) * per_page}
    rank = f"ts_rank(s.words, ({query.tsquery}), 1)" if query.tsquery else "1.0"
    headline_params = {"marks": _START + _STOP, "options": _HEADLINE, "title_options": _TITLE_HEADLINE}
    if query.typed.anything:
        # Ranked among at most `candidates` matches (one more tells there are more), with the
        # snippets of the page's hits, in one round trip; no snippet when the ranking is not used.
        headlines = (_headlines(query.tsquery, "n.matched <= :candidates") if query.tsquery
                     else "NULL, NULL")
        found = connection.execute(text(f"""
            WITH candidates AS MATERIALIZED (
                SELECT result_id, issue_date, words FROM result_search WHERE {query.where} LIMIT :cap),
            counted AS (SELECT count(*) AS matched FROM candidates),
            ranked AS (
                SELECT s.result_id, {rank} AS score, s.issue_date FROM candidates s
                ORDER BY score DESC, s.issue_date DESC, s.result_id DESC LIMIT :limit OFFSET :offset)
            SELECT n.matched, p.result_id, p.score, {headlines}
            FROM counted n LEFT JOIN ranked p ON true
            LEFT JOIN results r ON r.id = p.result_id {_DOCUMENT_TEXT}
            ORDER BY p.score DESC, p.issue_date DESC, p.result_id DESC"""),
            {**params, **headline_params, "cap": candidates + 1, "candidates": candidates}).all()
        if found[0].matched <= candidates:
            rows = [row[1:] for row in found if row.result_id is not None]
            return _page(rows, page, per_page)
    # Nothing typed, or words too common to rank: the newest first, read along a date index; the
    # rank and the snippets are computed for the page's rows only.
    query = build(scope, q, filters, by_date=True)
    params = {**query.params, **headline_params, "limit": per_page + 1, "offset": (page - 1) * per_page}
    headlines = _headlines(query.tsquery, "true") if query.tsquery else "NULL, NULL"
    rows = connection.execute(text(f"""
        SELECT p.result_id, {rank if query.typed.anything else 'NULL'}, {headlines}
        FROM (SELECT result_id, issue_date FROM result_search WHERE {query.where}
              ORDER BY issue_date DESC, result_id DESC LIMIT :limit OFFSET :offset) p
        JOIN result_search s ON s.result_id = p.result_id
        JOIN results r ON r.id = p.result_id {_DOCUMENT_TEXT}
        ORDER BY p.issue_date DESC, p.result_id DESC"""), params).all()
    return _page(rows, page, per_page)


def _headlines(tsquery: str, when: str) -> str:
    """SQL of two columns: the highlighted fragments of the document's text, and of the title."""
    return (f"CASE WHEN {when} THEN ts_headline('portal_search', translate(coalesce(d.text, ''), :marks, ''), "
            f"({tsquery}), :options) END, "
            f"CASE WHEN {when} THEN ts_headline('portal_search', translate(r.summary, :marks, ''), ({tsquery}), "
            ":title_options) END")


def _page(rows, page: int, per_page: int) -> HitPage:
    """From rows (id, score, content headline, title headline): one more than the page tells there is a next."""
    hits = []
    for result_id, score, content, title in rows[:per_page]:
        # Whoosh's choice: the document's fragments, else the title, else nothing.
        chosen = next((h for h in (content, title) if h and _START in h), "")
        hits.append(Hit(int(result_id), float(score) if score is not None else None, _html(chosen)))
    return HitPage(hits, page, per_page, len(rows) > per_page)


def _html(headline: str) -> str:
    """Escaped text with the matched words in <mark>, as Whoosh's formatter writes them (queries.py)."""
    terms: dict[str, int] = {}

    def mark(match: re.Match) -> str:
        number = terms.setdefault(fold_identifier(match.group(1)), len(terms))
        return f'<mark class="match term{number}">{match.group(1)}</mark>'

    return _MARKED.sub(mark, str(escape(headline)))


# -- writing, health ---------------------------------------------------------------------------

def refresh(connection, result_ids) -> None:
    """Write the search rows of these results again, in the caller's transaction."""
    connection.execute(text("SELECT portal_search_refresh(CAST(:ids AS integer[]))"), {"ids": sorted(result_ids)})


def rebuild(session, progress=None, batch_size: int = 2000) -> int:
    """Recompute every row (after a change to the analysis, or to be sure), a batch per transaction:
    searches go on meanwhile and see each row either before or after."""
    last_id, total = 0, 0
    while True:
        ids = session.execute(text("SELECT id FROM results WHERE id > :last ORDER BY id LIMIT :n"),
                              {"last": last_id, "n": batch_size}).scalars().all()
        if not ids:
            return total
        refresh(session, ids)
        session.commit()
        last_id, total = ids[-1], total + len(ids)
        if progress:
            progress(len(ids))


def health(session) -> tuple[bool, str]:
    try:
        ready = session.execute(text("SELECT to_regclass('result_search') IS NOT NULL "
                                     "AND to_regprocedure('portal_search_refresh(integer[])') IS NOT NULL")).scalar()
    except Exception:  # noqa: BLE001 - the database's own health is reported beside
        session.rollback()
        return False, "unreachable"
    return (True, "ok") if ready else (False, "missing")
