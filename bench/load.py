"""Mixed-load benchmark: a province's day, over two web nodes, next to one node.

    .venv/bin/python bench/load.py                                   # SQLite, 50 clients, 60 s
    .venv/bin/python bench/load.py --database-url postgresql://… --search-backend postgresql
    .venv/bin/python bench/load.py --clients 20 --seconds 20          # a quick look

Sets up a throw-away portal (its own database and data directory) with --holders holders of
--results-each published results each, issues a certified copy of some of them (for the
verifications), then runs the same load twice, each time on fresh gunicorn processes
(gunicorn.conf.py, two workers a node): on one node, and on two nodes with the clients' requests
dealt round-robin between them as a load balancer would (sessions live in the database, so any
node answers any request). Each of --clients logged-in holders sends, one request after another for
--seconds: 70 % searches of their own results (the holder's search page), 20 % result pages,
5 % certified copies (the holder API, rendered and signed), 5 % verifications of a copy (the
public API). Any answer other than 200/201 is an error; the run's figure is bounded: 0 errors.

Both nodes run on this machine (the figure shows what a second node costs or gains on the same
cores, not a second machine's worth) and share its data directory when files are local; with
object storage (--storage s3 and the PORTAL_S3_* settings in the environment) they share nothing
but the services. Figures go to docs/BENCHMARKS.md, between this benchmark's markers.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import random
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from copies_served import PASSWORD, Client, run_together, start_gunicorn  # noqa: E402
from search import write_section  # noqa: E402

KINDS = (("search", 70), ("result", 20), ("copy", 5), ("verify", 5))
WORDS = ["giay phep", "x quang", "bức xạ", "chan doan", "thiết bị", "quang ngai", "dang ky", "2019"]


def holder_id(n: int) -> str:
    return f"051089{n:06d}"


def setup(data_dir: Path, database_url: str | None, holders: int, each: int, search_backend: str, storage: str):
    from copies import new_portal

    from portal.demo.documents import Spec, render_many
    from portal.operations import accounts
    from portal.operations import results as ops
    from portal.scans import Spooled, prepare
    from portal.storage import storage as store

    app, unit, procedure, staff, reviewer = new_portal(data_dir, database_url, JOBS_INTERVAL=0,
                                                       SEARCH_BACKEND=search_backend, STORAGE=storage)
    specs, owners = [], []
    for h in range(holders):
        accounts.create_user(None, f"holder{h}", "holder", PASSWORD, holder_id=holder_id(h))
        for r in range(each):
            number = f"{h * each + r + 1}/GP-SKHCN"
            specs.append(Spec(
                department="Sở Khoa học và Công nghệ tỉnh Quảng Ngãi", province="Quảng Ngãi", number=number,
                issue_date=date(2019, 5, 1), title="GIẤY PHÉP TIẾN HÀNH CÔNG VIỆC BỨC XẠ",
                holder_label="Người được cấp", holder_name=f"Chủ {h}", holder_id=holder_id(h),
                address="Số 12 Hùng Vương, Quảng Ngãi", signer_name="Trần Văn Hùng", signer_title="Giám đốc",
                body=["Thiết bị X-quang chẩn đoán."] * 3, pages=1))
            owners.append(h)
    codes: dict[int, list[str]] = defaultdict(list)
    verifications: list[str] = []
    for n, (spec, pdf, h) in enumerate(zip(specs, render_many(specs), owners, strict=True)):
        path, sha, size = store().spool(io.BytesIO(pdf))
        scan = prepare(store(), Spooled(path, sha, size, ""), f"{n}.pdf")
        data = ops.ResultInput(
            procedure=procedure, unit=unit, document_number=spec.number, issue_date=spec.issue_date,
            signer_name=spec.signer_name, signer_title=spec.signer_title,
            summary=f"Giấy phép tiến hành công việc bức xạ (thiết bị X-quang chẩn đoán) cấp cho Chủ {h}",
            holder_kind="person", holder_id=holder_id(h), holder_name=f"Chủ {h}", formed_year=2019,
            valid_until=None)
        draft = ops.create_draft(staff, data, scan)
        result = ops.publish(reviewer, draft, seen_version=draft.version)
        codes[h].append(result.code)
        if n % each == 0 and len(verifications) < 20:
            verifications.append(_issue_as_holder(h, result))
    return app, codes, verifications


def _issue_as_holder(h: int, result) -> str:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import User
    from portal.operations import copies as copy_ops

    holder = db.session.scalars(select(User).where(User.username == f"holder{h}")).one()
    return copy_ops.issue_copy(holder, result).verification_code


def run_load(bases: list[str], codes: dict[int, list[str]], verifications: list[str], clients: int,
             seconds: float, seed: int) -> tuple[dict, float]:
    """`clients` holders sending mixed requests for `seconds`, dealt round-robin over `bases`."""
    logged: list[tuple[int, list[Client]]] = []
    for c in range(clients):
        h = c % len(codes)
        # One login, on the first node; its session cookie is then sent to every node.
        first = Client(bases[0]).login(f"holder{h}")
        same = [first] + [_sharing(first, base) for base in bases[1:]]
        logged.append((h, same))
    times: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    lock = threading.Lock()
    deadline_box: list[float] = []

    def client_task(h: int, nodes: list[Client], rng: random.Random):
        def task():
            turn = rng.randrange(len(nodes))
            mine = codes[h]
            while time.perf_counter() < deadline_box[0]:
                node = nodes[turn % len(nodes)]
                turn += 1
                kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
                started = time.perf_counter()
                if kind == "search":
                    q = urllib.parse.quote(rng.choice(WORDS))
                    status = node.request(f"/me/results?q={q}")[0]
                elif kind == "result":
                    status = node.request(f"/me/results/{rng.choice(mine)}")[0]
                elif kind == "copy":
                    status = node.request(f"/api/v1/me/results/{rng.choice(mine)}/copies", b"",
                                          {"X-CSRFToken": node.token})[0]
                else:
                    status = node.request(f"/api/v1/verify/{rng.choice(verifications)}")[0]
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    times[kind].append(elapsed)
                    if status not in (200, 201):
                        errors[kind].append(str(status))
        return task

    rng = random.Random(seed)
    tasks = [client_task(h, nodes, random.Random(rng.random())) for h, nodes in logged]
    deadline_box.append(time.perf_counter() + 10**9)

    def arm_then_go(task):
        def go():
            if len(deadline_box) == 1:
                with lock:
                    if len(deadline_box) == 1:
                        deadline_box[0] = time.perf_counter() + seconds
                        deadline_box.append(0)
            task()
        return go

    wall = run_together([arm_then_go(t) for t in tasks])
    return {kind: (times[kind], errors[kind]) for kind, _ in KINDS}, wall


def _sharing(first: Client, base: str) -> Client:
    """A client of another node with the same cookies (what a browser behind a load balancer has:
    one site, whichever node answers; cookies do not tell ports apart)."""
    other = Client(base)
    other.opener, other.token = first.opener, first.token
    return other


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


def table_rows(label: str, figures: dict, wall: float) -> list[str]:
    rows = []
    total = sum(len(times) for times, _ in figures.values())
    total_errors = sum(len(errs) for _, errs in figures.values())
    rows.append(f"| {label} | all | {total:,} | {total / wall:.1f} | | | | {total_errors} |")
    for kind, _ in KINDS:
        times, errs = figures[kind]
        rows.append(f"| {label} | {kind} | {len(times):,} | {len(times) / wall:.1f} | {percentile(times, .5):.0f} "
                    f"| {percentile(times, .95):.0f} | {percentile(times, .99):.0f} | {len(errs)} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--holders", type=int, default=50)
    parser.add_argument("--results-each", type=int, default=4)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--search-backend", default="whoosh", choices=["whoosh", "postgresql"])
    parser.add_argument("--storage", default="local", choices=["local", "s3"])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers a node")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    from sqlalchemy import func, select

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp, _bucket(args.storage, Path(tmp)):
        data_dir = Path(tmp) / "data"
        print(f"setting up {args.holders} holders × {args.results_each} results …", flush=True)
        app, codes, verifications = setup(data_dir, args.database_url, args.holders, args.results_each,
                                          args.search_backend, args.storage)
        from portal.extensions import db
        from portal.models import Result

        published = db.session.scalar(select(func.count(Result.id)))
        env = {"GUNICORN_WORKERS": str(args.workers), "PORTAL_VERIFY_RATE_LIMIT": "1000000 per minute",
               "PORTAL_LOOKUP_RATE_LIMIT": "1000000 per minute", "PORTAL_SEARCH_BACKEND": args.search_backend,
               "PORTAL_STORAGE": args.storage, "PORTAL_INPROCESS_JOBS": "0"}
        rows = []
        for label, count in (("one node", 1), ("two nodes", 2)):
            servers = []
            try:
                for n in range(count):
                    servers.append(start_gunicorn(app, Path(tmp) / f"gunicorn-{label}-{n}.log", env=env))
                print(f"{label}: {args.clients} clients for {args.seconds:.0f} s …", flush=True)
                figures, wall = run_load([base for _, base in servers], codes, verifications, args.clients,
                                         args.seconds, args.seed)
            finally:
                for server, _ in servers:
                    server.terminate()
                    server.wait(timeout=60)
            rows += table_rows(label, figures, wall)
            for kind, (_, errs) in figures.items():
                if errs:
                    print(f"  {kind}: {len(errs)} errors, e.g. {sorted(set(errs))[:5]}")
    database = "PostgreSQL" if args.database_url else "SQLite"
    lines = [
        f"Run {date.today().isoformat()} on {platform.machine()}, Python {platform.python_version()}, "
        f"`bench/load.py --clients {args.clients} --seconds {args.seconds:.0f}` on {database}, search "
        f"{args.search_backend}, files {args.storage}; {published} published results of {args.holders} holders, "
        f"gunicorn with {args.workers} workers a node, all on this machine's {_cores()} cores. "
        "Latencies in ms; an error is any answer but 200/201.",
        "",
        "| nodes | kind | requests | per s | p50 | p95 | p99 | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(args.out, "load", text)


@contextlib.contextmanager
def _bucket(storage: str, workdir: Path):
    """With --storage s3 and no PORTAL_S3_BUCKET in the environment: the tests' S3 server (moto) on
    a free loopback port, for the bench's life."""
    if storage != "s3" or os.environ.get("PORTAL_S3_BUCKET"):
        yield
        return
    from tests.s3_service import S3Server

    (workdir / "s3").mkdir()
    server = S3Server(workdir / "s3")
    server.start()
    os.environ.update(server.environ(prefix="bench"))
    try:
        yield
    finally:
        server.stop()


def _cores() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
