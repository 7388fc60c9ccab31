"""Search benchmark: the portal's two search backends, Whoosh and PostgreSQL, against SQLite FTS5
on the same data and queries.

    .venv/bin/python bench/search.py                 # 10k and 100k results, Whoosh and FTS5
    .venv/bin/python bench/search.py --sizes 100000 1000000 --backend whoosh fts5 postgresql \
        --database-url postgresql://portal:portal@127.0.0.1/bench_search   # a database it may empty

Generates N synthetic results with Vietnamese text. Whoosh: builds the index with the portal's own
schema and analysis (portal.search), then times holder searches (the holder term AND-ed into the
query, top 20 with highlights), staff searches (a unit's results, top 20 with highlights) and
single-result updates. PostgreSQL: empties the database, migrates it to 0019, COPYs the results
into the portal's own tables, migrates to the head (0020 fills the search table: "indexed/s"), then
times the same searches through the backend's own query (portal.search.postgresql.hit_page, with
the restriction of a holder or a unit and ts_headline snippets), an update as the portal writes it
(the result's row, then its search row, one commit), and, for comparison, staff searches ranking
every match (no candidate cap). The baseline: SQLite FTS5 with `unicode61 remove_diacritics 2`.
Figures go to docs/BENCHMARKS.md, between this benchmark's markers.
"""

from __future__ import annotations

import argparse
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from whoosh.query import Term  # noqa: E402

from portal.access import Scope  # noqa: E402
from portal.demo import catalogue as cat  # noqa: E402
from portal.models.results import HOLDER_VISIBLE_STATUSES  # noqa: E402
from portal.search import queries  # noqa: E402
from portal.search.index import SearchIndex, no_merge  # noqa: E402
from portal.search.queue import replacer  # noqa: E402
from portal.search.schema import NO_EXPIRY, TEXT_FIELDS  # noqa: E402

HOLDER_QUERIES = ["giay phep", "x quang", "chuyển giao công nghệ", "quang ngai", "thiet bi chan doan",
                  '"chan doan"', "dang ky", "chung nhan doanh nghiep", "cong bo hop quy", "bức xạ"]
STAFF_QUERIES = ["giay phep tien hanh", "x quang chan doan", "chuyen giao cong nghe say", "xi mang",
                 "nguyen van", "hop dong chuyen giao", "binh son", '"giay chung nhan"', "can ky thuat",
                 "phan bon"]


def synthetic(n: int, seed: int = 7):
    """N results as index documents, plus their texts for the snippets. About five per holder."""
    rng = random.Random(seed)
    holders = [f"051{rng.randint(0, 3)}{rng.randint(50, 99)}{rng.randrange(10**6):06d}" for _ in range(max(1, n // 5))]
    for i in range(n):
        code, name, field, unit, _ret, abbr, title, validity, _kinds = rng.choice(cat.PROCEDURES)
        female = rng.random() < 0.5
        holder_name = " ".join([rng.choice(cat.SURNAMES), rng.choice(cat.MIDDLE_F if female else cat.MIDDLE_M),
                                rng.choice(cat.GIVEN_F if female else cat.GIVEN_M)])
        place = rng.choice(cat.PLACES)
        year = rng.randint(1990, 2026)
        body = (f"{title} cấp cho {holder_name}, địa chỉ số {rng.randint(1, 400)} {rng.choice(cat.STREETS)}, "
                f"{place}, tỉnh Quảng Ngãi. Thiết bị {rng.choice(cat.DEVICES)}; "
                f"{rng.choice(cat.TECHNOLOGIES)}; sản phẩm {rng.choice(cat.PRODUCTS)}; "
                f"{rng.choice(cat.MEASURES)}. Căn cứ Luật Khoa học và Công nghệ, Nghị định 45/2020/NĐ-CP.")
        number = f"{i % 9999 + 1}/{abbr}"
        result_code = f"{unit}-{year % 100:02d}0101-{i % 10000:04d}-KQ{i // 10000 + 1}"
        summary = f"{title.capitalize()} cho {holder_name}"
        yield {
            "id": str(i), "code": result_code,
            "ids": f"{result_code} {number} {holders[i % len(holders)]} {code}",
            "holder_visible": holders[i % len(holders)], "unit": unit, "status": "published", "field": field,
            "procedure": code, "year": str(year), "phase": "2", "issue_date": year * 10000 + 101,
            "valid_until": NO_EXPIRY, "text": "\n".join([summary, name, holder_name, "Trần Văn Hùng Giám đốc", body]),
            "_title": summary, "_content": body, "_holder_name": holder_name, "_number": number, "_year": year,
        }, holders[i % len(holders)]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def bench_whoosh(n: int, docs: list[dict], holders: list[str], texts: dict, workdir: Path, rng):
    index = SearchIndex(workdir / "whoosh")
    start = time.perf_counter()
    batch = 2000  # as `flask reindex` reads the database
    directory = index.build((docs[i:i + batch] for i in range(0, n, batch)), procs=2)
    build_s = time.perf_counter() - start
    index.swap_in(directory)
    size = sum(f.stat().st_size for f in directory.iterdir())

    first_start = time.perf_counter()
    searcher = index.searcher()  # opens and warms, as a web process does at its first request
    first_query_s = time.perf_counter() - first_start

    def lookup(ids):
        return {i: (texts[i][0], texts[i][1]) for i in ids}

    def timed(restriction_for, query_list, runs):
        times = []
        for _ in range(runs):
            restriction = restriction_for()
            q = rng.choice(query_list)
            query, words = queries.build(restriction, q, queries.Filters(), TEXT_FIELDS)
            t = time.perf_counter()
            queries.run(searcher, query, page=1, per_page=20, by_relevance=words, texts=lookup)
            times.append(time.perf_counter() - t)
        return times

    holder_t = timed(lambda: Term("holder_visible", rng.choice(holders)), HOLDER_QUERIES, 400)
    staff_t = timed(lambda: Term("unit", rng.choice(["000.02.21.H48", "000.03.21.H48", "000.04.21.H48"])),
                    STAFF_QUERIES, 100)
    update_t = []
    for i in range(40):
        doc = dict(rng.choice(docs))
        doc["text"] += " (đã cập nhật)"
        t = time.perf_counter()
        writer = index.writer()
        replacer(index, writer)(doc["id"], doc)  # as the index queue writes a change
        writer.commit(mergetype=no_merge)
        index.searcher()  # the next search sees it
        update_t.append(time.perf_counter() - t)
        if i % 10 == 9:
            index.compact()  # the background indexer's work when the queue is empty: not counted
    return {"build_s": build_s, "docs_per_s": n / build_s, "size_mb": size / 1e6, "first_s": first_query_s,
            "holder": holder_t, "staff": staff_t, "update": update_t}


def bench_fts5(n: int, docs: list[dict], holders: list[str], workdir: Path, rng):
    path = workdir / "fts5.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE VIRTUAL TABLE fts USING fts5(id UNINDEXED, holder, unit, ids, title, procedure_name, "
                 "content, tokenize = 'unicode61 remove_diacritics 2')")
    start = time.perf_counter()
    conn.executemany("INSERT INTO fts VALUES (?, ?, ?, ?, ?, ?, ?)",
                     ((d["id"], d["holder_visible"], d["unit"].replace(".", "_"), d["ids"], *d["text"].split("\n", 2))
                      for d in docs))
    conn.commit()
    build_s = time.perf_counter() - start
    size = path.stat().st_size

    def fts_query(words: str) -> str:
        # FTS5's own syntax: every word required, phrases kept; unicode61 does not fold đ.
        if words.startswith('"'):
            return words
        return " AND ".join(f'"{w}"' for w in words.split())

    def timed(column, values, query_list, runs):
        times = []
        for _ in range(runs):
            value = rng.choice(values)
            q = rng.choice(query_list)
            match = f'{column}:"{value}" AND ({fts_query(q)})'
            t = time.perf_counter()
            conn.execute("SELECT id, snippet(fts, 6, '<mark>', '</mark>', ' … ', 24) FROM fts WHERE fts MATCH ? "
                         "ORDER BY rank LIMIT 20", (match,)).fetchall()
            times.append(time.perf_counter() - t)
        return times

    holder_t = timed("holder", holders, HOLDER_QUERIES, 400)
    staff_t = timed("unit", ["000_02_21_H48", "000_03_21_H48", "000_04_21_H48"], STAFF_QUERIES, 100)
    update_t = []
    for _ in range(40):
        d = rng.choice(docs)
        t = time.perf_counter()
        conn.execute("DELETE FROM fts WHERE id = ?", (d["id"],))
        conn.execute("INSERT INTO fts VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (d["id"], d["holder_visible"], d["unit"].replace(".", "_"), d["ids"],
                      *(d["text"] + " (cập nhật)").split("\n", 2)))
        conn.commit()
        update_t.append(time.perf_counter() - t)
    conn.close()
    return {"build_s": build_s, "docs_per_s": n / build_s, "size_mb": size / 1e6, "first_s": float("nan"),
            "holder": holder_t, "staff": staff_t, "update": update_t}


def bench_postgresql(n: int, docs: list[dict], holders: list[str], texts: dict, extra: dict, url: str,
                     workdir: Path, rng):
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    from portal import create_app
    from portal.config import database_url
    from portal.search import postgresql
    from portal.search.queries import Filters

    url = database_url(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PORTAL_DATA_DIR": str(workdir / "data"), "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(revision="0019")  # the revision before the search table's
    units = {code: i for i, (code, _name) in enumerate(cat.UNITS, start=1)}
    procedures = {p[0]: i for i, p in enumerate(cat.PROCEDURES, start=1)}
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            with cur.copy("COPY units (id, code, name, active, created_at) FROM STDIN") as copy:
                for code, name in cat.UNITS:
                    copy.write_row((units[code], code, name, True, "2026-01-01"))
            with cur.copy("COPY procedures (id, code, name, field, active, created_at) FROM STDIN") as copy:
                for p in cat.PROCEDURES:
                    copy.write_row((procedures[p[0]], p[0], p[1], p[2], True, "2026-01-01"))
            with cur.copy("COPY results (id, code, code_generated, procedure_id, unit_id, document_number, issue_date, "
                          "signer_name, signer_title, summary, holder_kind, holder_id, holder_name, holder_address, "
                          "valid_from, status, origin, formed_year, created_at, updated_at, version) "
                          "FROM STDIN") as copy:
                for d in docs:
                    i = int(d["id"])
                    holder_name, number, year = extra[i]
                    day = f"{year}-01-01"
                    copy.write_row((i + 1, d["code"], False, procedures[d["procedure"]], units[d["unit"]], number, day,
                                    "Trần Văn Hùng", "Giám đốc", texts[i][0], "person", d["holder_visible"],
                                    holder_name, "", day, "published", "digitized", year, "2026-01-01", "2026-01-01",
                                    1))
            with cur.copy("COPY stored_files (id, sha256, size, media_type, text, original_name, created_at) "
                          "FROM STDIN") as copy:
                for i in range(n):
                    copy.write_row((i + 1, f"{i:064x}", 1000, "application/pdf", texts[i][1], "", "2026-01-01"))
            with cur.copy("COPY result_files (id, result_id, file_id, role) FROM STDIN") as copy:
                for i in range(n):
                    copy.write_row((i + 1, i + 1, i + 1, "document"))
            for table in ("units", "procedures", "results", "stored_files", "result_files"):
                cur.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        raw.commit()
    finally:
        raw.close()
    start = time.perf_counter()
    with app.app_context():
        upgrade()  # 0020: the search table filled from the results, then indexed
    build_s = time.perf_counter() - start
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE result_search"))
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_total_relation_size('result_search')")).scalar()
    engine.dispose()

    holder_scope = [Scope(holder_id=h, statuses=frozenset(HOLDER_VISIBLE_STATUSES)) for h in holders]
    staff_units = [units[code] for code in ("000.02.21.H48", "000.03.21.H48", "000.04.21.H48")]
    with engine.connect() as conn:
        first_start = time.perf_counter()
        postgresql.hit_page(conn, rng.choice(holder_scope), rng.choice(HOLDER_QUERIES), Filters())
        first_query_s = time.perf_counter() - first_start

        def timed(scope_for, query_list, runs, candidates=postgresql.CANDIDATES):
            times = []
            for _ in range(runs):
                scope, q = scope_for(), rng.choice(query_list)
                t = time.perf_counter()
                postgresql.hit_page(conn, scope, q, Filters(), page=1, per_page=20, candidates=candidates)
                times.append(time.perf_counter() - t)
            conn.rollback()
            return times

        holder_t = timed(lambda: rng.choice(holder_scope), HOLDER_QUERIES, 400)
        staff_t = timed(lambda: Scope(unit_ids=frozenset({rng.choice(staff_units)})), STAFF_QUERIES, 100)
        plain_t = timed(lambda: Scope(unit_ids=frozenset({rng.choice(staff_units)})), STAFF_QUERIES, 20,
                        candidates=10**9)
        plain_holder_t = timed(lambda: rng.choice(holder_scope), HOLDER_QUERIES, 100, candidates=10**9)
        update_t = []
        for _ in range(40):
            result_id = rng.randrange(n) + 1
            t = time.perf_counter()
            conn.execute(text("UPDATE results SET summary = summary || ' (đã cập nhật)', version = version + 1 "
                              "WHERE id = :id"), {"id": result_id})
            postgresql.refresh(conn, [result_id])  # what the flush hook adds to the result's transaction
            conn.commit()
            update_t.append(time.perf_counter() - t)
    engine.dispose()
    plain = {"build_s": build_s, "docs_per_s": n / build_s, "size_mb": size / 1e6, "first_s": float("nan"),
             "holder": plain_holder_t, "staff": plain_t, "update": update_t}
    return {"build_s": build_s, "docs_per_s": n / build_s, "size_mb": size / 1e6, "first_s": first_query_s,
            "holder": holder_t, "staff": staff_t, "update": update_t, "plain": plain}


def row(name, n, r):
    return (f"| {name} | {n:,} | {r['docs_per_s']:,.0f} | {r['size_mb']:,.1f} | "
            f"{pct(r['holder'], 50):.1f} / {pct(r['holder'], 95):.1f} | "
            f"{pct(r['staff'], 50):.1f} / {pct(r['staff'], 95):.1f} | "
            f"{pct(r['update'], 50):.1f} / {pct(r['update'], 95):.1f} | "
            + ("—" if r['first_s'] != r['first_s'] else f"{r['first_s'] * 1000:,.0f}") + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--backend", nargs="+", choices=["whoosh", "postgresql", "fts5"], default=["whoosh", "fts5"])
    parser.add_argument("--database-url", help="PostgreSQL database for --backend postgresql (emptied!)")
    args = parser.parse_args()
    if "postgresql" in args.backend and not args.database_url:
        parser.error("--backend postgresql needs --database-url (a database the bench may empty)")
    lines = []
    for n in args.sizes:
        rng = random.Random(n)
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-search-{n}-"))
        try:
            pairs = list(synthetic(n))
            docs = [d for d, _ in pairs]
            holders = sorted({h for _, h in pairs})
            texts = {int(d["id"]): (d.pop("_title"), d.pop("_content")) for d in docs}
            extra = {int(d["id"]): (d.pop("_holder_name"), d.pop("_number"), d.pop("_year")) for d in docs}
            if "whoosh" in args.backend:
                print(f"{n:,} results: Whoosh…", flush=True)
                whoosh = bench_whoosh(n, docs, holders, texts, workdir, rng)
                lines.append(row("Whoosh (portal.search)", n, whoosh))
                print(lines[-1], flush=True)
            if "postgresql" in args.backend:
                print(f"{n:,} results: PostgreSQL…", flush=True)
                pg = bench_postgresql(n, docs, holders, texts, extra, args.database_url, workdir, random.Random(n))
                lines += [row("PostgreSQL (portal.search.postgresql)", n, pg),
                          row("PostgreSQL, every match ranked", n, pg["plain"])]
                print("\n".join(lines[-2:]), flush=True)
            if "fts5" in args.backend:
                print(f"{n:,} results: FTS5…", flush=True)
                fts = bench_fts5(n, docs, holders, workdir, random.Random(n))
                lines.append(row("SQLite FTS5 (baseline)", n, fts))
                print(lines[-1], flush=True)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    table = "\n".join([
        f"Run {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python {platform.python_version()}, "
        f"`bench/search.py --sizes {' '.join(map(str, args.sizes))} --backend {' '.join(args.backend)}`. "
        "Times in ms (p50 / p95); searches return the top 20 with highlighted snippets.",
        "",
        "| engine | results | indexed/s | size MB | holder search | staff search | one update | first query |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *lines,
    ])
    write_section(args.out, "search", table)


def write_section(path: Path, name: str, body: str) -> None:
    """Replace this benchmark's section of BENCHMARKS.md, keeping the others."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{begin}\n{body}\n{end}"
    if begin in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
