"""search in PostgreSQL (issue 16): a side table of every result's search entry, written by the
database itself (portal_search_refresh) in the transaction that changes the result; SQLite: nothing

The entry is what portal/search/schema.py's document_for gives Whoosh: the same filter values,
the identifiers folded whole, every word folded (unaccent maps đ/Đ to d as accent_map does).
Written before the indexes so that filling a million rows is one pass, not a million index updates.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 06:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# unaccent is STABLE (it reads its rules file); these wrappers are declared IMMUTABLE so that they
# may appear in indexes and be folded once per query. The rules are part of the installation.
FUNCTIONS = [
    "CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public",
    """CREATE OR REPLACE FUNCTION portal_fold(value text) RETURNS text
       LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
       AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, value)) $$""",
    # Words as Whoosh's RegexTokenizer(\w+) cuts them: "125/GP-SKHCN" is 125, gp, skhcn (the
    # default parser would keep it as one "file" token and "12/" would find nothing). The colons are
    # escaped for SQLAlchemy's text(), which would read ":alnum" as a parameter.
    """CREATE OR REPLACE FUNCTION portal_words(value text) RETURNS text
       LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
       AS $$ SELECT regexp_replace(portal_fold(value), '[^[\\:alnum\\:]]+', ' ', 'g') $$""",
    # For ts_headline only, which parses the original text: accented words are folded as they are
    # matched, so "bơm" is highlighted for the query "bom".
    "CREATE TEXT SEARCH CONFIGURATION portal_search (COPY = pg_catalog.simple)",
    "ALTER TEXT SEARCH CONFIGURATION portal_search ALTER MAPPING FOR hword, hword_part, word "
    "WITH public.unaccent, pg_catalog.simple",
]

TABLE = """
CREATE TABLE result_search (
    result_id integer PRIMARY KEY REFERENCES results(id) ON DELETE CASCADE,
    unit_id integer NOT NULL,
    holder_visible text,            -- the holder's id while they may see the result, else NULL
    status text NOT NULL,
    field text NOT NULL,
    procedure text NOT NULL,
    year text NOT NULL,
    phase text NOT NULL,            -- '0': none
    issue_date date NOT NULL,
    valid_until date NOT NULL,      -- 9999-12-31: no end
    ids text[] NOT NULL,            -- identifiers, folded, whole
    words tsvector NOT NULL
)
"""

# The phases of portal/identifiers.py PHASES when this was written (a later change comes with its
# own migration replacing this function).
REFRESH = """
CREATE OR REPLACE FUNCTION portal_search_refresh(changed integer[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    written integer;
BEGIN
    INSERT INTO result_search AS s (result_id, unit_id, holder_visible, status, field, procedure, year, phase,
                                    issue_date, valid_until, ids, words)
    SELECT r.id, r.unit_id,
           CASE WHEN r.status IN ('published', 'revoked', 'replaced') THEN r.holder_id END,
           r.status, p.field, p.code, extract(year FROM r.issue_date)::integer::text,
           CASE WHEN r.formed_year BETWEEN 2016 AND 2021 THEN '2'
                WHEN r.formed_year BETWEEN 2006 AND 2015 THEN '3'
                WHEN r.formed_year BETWEEN 1996 AND 2005 THEN '4'
                WHEN r.formed_year <= 1995 THEN '5'
                ELSE '0' END,
           r.issue_date, coalesce(r.valid_until, DATE '9999-12-31'),
           array_remove(ARRAY[portal_fold(r.code), portal_fold(r.dossier_code), portal_fold(r.document_number),
                              portal_fold(r.holder_id), portal_fold(p.code)], NULL),
           to_tsvector('simple', portal_words(concat_ws(E'\\n', r.summary, p.name, r.holder_name, r.signer_name,
                                                        r.signer_title, d.text)))
    FROM results r
    JOIN procedures p ON p.id = r.procedure_id
    LEFT JOIN LATERAL (SELECT f.text FROM result_files rf JOIN stored_files f ON f.id = rf.file_id
                       WHERE rf.result_id = r.id AND rf.role = 'document' ORDER BY rf.id LIMIT 1) d ON true
    WHERE r.id IN (SELECT unnest(changed))  -- a join: `= ANY` tests each row against the whole array
    ON CONFLICT (result_id) DO UPDATE SET
        unit_id = EXCLUDED.unit_id, holder_visible = EXCLUDED.holder_visible, status = EXCLUDED.status,
        field = EXCLUDED.field, procedure = EXCLUDED.procedure, year = EXCLUDED.year, phase = EXCLUDED.phase,
        issue_date = EXCLUDED.issue_date, valid_until = EXCLUDED.valid_until, ids = EXCLUDED.ids,
        words = EXCLUDED.words;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$
"""

INDEXES = [
    "CREATE INDEX ix_result_search_words ON result_search USING gin (words)",
    "CREATE INDEX ix_result_search_ids ON result_search USING gin (ids)",
    # The restriction and the newest-first order in one index each: a holder's few results, a unit's
    # newest, everyone's newest (an admin).
    "CREATE INDEX ix_result_search_holder ON result_search (holder_visible, issue_date DESC, result_id DESC) "
    "WHERE holder_visible IS NOT NULL",
    "CREATE INDEX ix_result_search_unit ON result_search (unit_id, issue_date DESC, result_id DESC)",
    "CREATE INDEX ix_result_search_date ON result_search (issue_date DESC, result_id DESC)",
]


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in FUNCTIONS:
        op.execute(statement)
    op.execute(TABLE)
    op.execute(REFRESH)
    # In batches: one array of a million ids made the planner's estimates (and the fill) far worse.
    bind, last_id = op.get_bind(), 0
    while True:
        ids = bind.execute(sa.text("SELECT id FROM results WHERE id > :last ORDER BY id LIMIT 10000"),
                           {"last": last_id}).scalars().all()
        if not ids:
            break
        bind.execute(sa.text("SELECT portal_search_refresh(CAST(:ids AS integer[]))"), {"ids": ids})
        last_id = ids[-1]
    # A GIN index over a million rows builds several times faster with more than the default 64 MB.
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for statement in INDEXES:
        op.execute(statement)
    op.execute("ANALYZE result_search")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE result_search")
    op.execute("DROP FUNCTION portal_search_refresh(integer[])")
    op.execute("DROP TEXT SEARCH CONFIGURATION portal_search")
    op.execute("DROP FUNCTION portal_words(text)")
    op.execute("DROP FUNCTION portal_fold(text)")
