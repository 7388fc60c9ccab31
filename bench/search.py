"""Search benchmark: the portal's Whoosh index against SQLite FTS5 on the same data and queries.

    .venv/bin/python bench/search.py                 # 10k and 100k results
    .venv/bin/python bench/search.py --sizes 1000000 # 1M (takes a while)

Generates N synthetic results with Vietnamese text, builds the index with the portal's own schema
and analysis (portal.search), then times holder searches (the holder term AND-ed into the query,
top 20 with highlights), staff searches (a unit's results, top 20 with highlights) and single-result
updates. The baseline, in the same run: SQLite FTS5 with `unicode61 remove_diacritics 2`.
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

from portal.demo import catalogue as cat  # noqa: E402
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
            "_title": summary, "_content": body,
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
    args = parser.parse_args()
    lines = []
    for n in args.sizes:
        rng = random.Random(n)
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-search-{n}-"))
        try:
            pairs = list(synthetic(n))
            docs = [d for d, _ in pairs]
            holders = sorted({h for _, h in pairs})
            texts = {int(d["id"]): (d.pop("_title"), d.pop("_content")) for d in docs}
            print(f"{n:,} results: Whoosh…", flush=True)
            whoosh = bench_whoosh(n, docs, holders, texts, workdir, rng)
            print(f"{n:,} results: FTS5…", flush=True)
            fts = bench_fts5(n, docs, holders, workdir, random.Random(n))
            lines += [row("Whoosh (portal.search)", n, whoosh), row("SQLite FTS5 (baseline)", n, fts)]
            print("\n".join(lines[-2:]), flush=True)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    table = "\n".join([
        f"Run {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python {platform.python_version()}, "
        f"`bench/search.py --sizes {' '.join(map(str, args.sizes))}`. Times in ms (p50 / p95); "
        "searches return the top 20 with highlighted snippets.",
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
