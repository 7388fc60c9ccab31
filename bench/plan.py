"""Plan dashboard benchmark: the progress figures and the yearly report over N results.

    .venv/bin/python bench/plan.py                      # 100,000 results
    .venv/bin/python bench/plan.py --sizes 100000 1000000

Fills a throw-away SQLite database with N results spread over 10 units and the plan's phases
(results, their stored files and links inserted in bulk), then times `plan.progress` (the
dashboard's figures: one GROUP BY over results joined to their page counts, plus the month
series) and `plan.yearly_report` for an admin (every unit). The baseline, in the same run: the
naive way, one COUNT query per unit, phase and figure. Figures go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search import write_section  # noqa: E402


def _fill(n: int):
    from sqlalchemy import insert, select

    from portal.extensions import db
    from portal.models import Procedure, Result, ResultFile, StoredFile, Unit, User
    from portal.operations import accounts

    for u in range(10):
        accounts.create_unit(None, f"000.{u + 10:02d}.21.H48", f"Đơn vị {u + 1}")
    accounts.save_procedure(None, "1.010711", "Cấp giấy phép", "An toàn bức xạ", None)
    admin = accounts.create_user(None, "admin", "admin", "Bench-password-1")
    units = db.session.scalars(select(Unit.id)).all()
    procedure = db.session.scalars(select(Procedure.id)).one()
    rng = random.Random(7)
    now = datetime.now(UTC)
    batch = 20_000
    for start in range(0, n, batch):
        results, files, links = [], [], []
        for i in range(start, min(n, start + batch)):
            formed = rng.randint(1985, 2025)
            digitized = now - timedelta(days=rng.randint(0, 1500))
            published = digitized + timedelta(days=2) if rng.random() < 0.8 else None
            pages = rng.randint(1, 6)
            results.append(dict(id=i + 1, code=f"C{i}", procedure_id=procedure, unit_id=rng.choice(units),
                                document_number=f"{i}/GP", issue_date=date(formed, 1, 1), signer_name="A",
                                signer_title="B", summary="s", holder_kind="person", holder_id="051089004217",
                                holder_name="X", holder_address="", valid_from=date(formed, 1, 1),
                                status="published" if published else "draft", origin="born_digital" if formed >= 2022
                                else "digitized", formed_year=formed, code_generated=False, digitized_at=digitized,
                                page_count=pages,
                                checked_at=published, published_at=published, created_at=now, updated_at=now))
            files.append(dict(id=i + 1, sha256=f"{i:064x}", size=1, media_type="application/pdf",
                              page_count=pages, original_name="", created_at=now))
            links.append(dict(result_id=i + 1, file_id=i + 1, role="document"))
        db.session.execute(insert(Result), results)
        db.session.execute(insert(StoredFile), files)
        db.session.execute(insert(ResultFile), links)
        db.session.commit()
    return db.session.get(User, admin.id)


def _naive_progress(user):
    """One COUNT per unit, phase and figure: what a first version would do."""
    from sqlalchemy import func, select

    from portal import plan
    from portal.extensions import db
    from portal.identifiers import PHASES
    from portal.models import Result

    figures = {}
    for unit in plan.units_for(user):
        for phase, start, end, _d in PHASES:
            era = (Result.formed_year <= end) & ((Result.formed_year >= start) if start else True)
            base = select(func.count(Result.id)).where(Result.unit_id == unit.id, Result.origin == "digitized", era)
            figures[(unit.id, phase)] = (db.session.scalar(base),
                                         db.session.scalar(base.where(Result.checked_at.is_not(None))),
                                         db.session.scalar(base.where(Result.published_at.is_not(None))))
    return figures


def _time(fn, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", default=None,
                        help="an EMPTY PostgreSQL database to fill (it is emptied again); default: SQLite")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    args = parser.parse_args()
    from flask_migrate import upgrade

    from portal import create_app, plan
    from portal.config import database_url

    engine = "PostgreSQL" if args.database_url else "SQLite"
    lines = [f"Run {date.today().isoformat()} on {platform.machine()}, Python {platform.python_version()}, "
             f"`bench/plan.py --sizes {' '.join(map(str, args.sizes))}` ({engine}, 10 units). Times in ms (p50 / p95).",
             "",
             "| results | dashboard figures (`plan.progress`) | yearly report "
             "| baseline: a COUNT per unit, phase, figure |",
             "| ---: | ---: | ---: | ---: |"]
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
            url = database_url(args.database_url) if args.database_url else f"sqlite:///{tmp}/bench.db"
            app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PORTAL_DATA_DIR": f"{tmp}/data",
                              "SECRET_KEY": "bench", "SEARCH_INDEXER_INTERVAL": 0, "JOBS_INTERVAL": 0})
            with app.app_context():
                upgrade()
                admin = _fill(n)
                progress = _time(lambda admin=admin: plan.progress(admin), args.runs)
                report = _time(lambda admin=admin: plan.yearly_report(admin, date.today().year, 2000), args.runs)
                naive = _time(lambda admin=admin: _naive_progress(admin), max(1, args.runs // 2))
                from portal.extensions import db

                db.session.remove()
                if args.database_url:
                    with db.engine.begin() as conn:
                        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
                db.engine.dispose()
        print(f"{n:,}: progress {progress[0]:.0f} ms, report {report[0]:.0f} ms, naive {naive[0]:.0f} ms")
        lines.append(f"| {n:,} | {progress[0]:.0f} / {progress[1]:.0f} | {report[0]:.0f} / {report[1]:.0f} | "
                     f"{naive[0]:.0f} / {naive[1]:.0f} |")
    write_section(args.out, f"plan-{engine.lower()}", "\n".join(lines))


if __name__ == "__main__":
    main()
