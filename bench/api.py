"""Machine API benchmark: pushes per second through `PUT /api/v1/results/<code>`, and outbox messages per second.

    .venv/bin/python bench/api.py                    # 3 runs of 1,000 pushes a path, SQLite
    .venv/bin/python bench/api.py --slow-receiver-ms 100 --database-url postgresql://portal:portal@127.0.0.1/portal_bench

A throw-away portal (SQLite in a temporary directory; with `--database-url` the same again on an
EMPTY PostgreSQL database, emptied afterwards) with one unit and --clients machine clients of it,
served by a real gunicorn (gunicorn.conf.py, two sync workers), and a local national data store
that answers at once (a small HTTP/1.1 server in its own process). Each client takes a token at
/oauth/token, then the clients push 1-page PDFs (each file distinct, each result published at once)
as fast as answers come: pushes/s, p50/p95 latency.

- the portal: the push writes the national store's message into the outbox in its transaction and
  answers; after the pushes, `flask --app wsgi worker` posts every pending message (timed by the
  receiver, first arrival to last), then, all put back to pending, `outbox.send_due` in this
  process (what the worker and the web processes' jobs thread run): messages/s;
- the baseline, in the same run and on the same database: "naive send inside the request", the push
  posting its message itself before answering, no outbox (bench/api_naive_send.py, put in place in
  each gunicorn worker). Its messages/s is its pushes/s.

The paths run in turns (--runs of each), the machine being shared; `--slow-receiver-ms N` adds one
run of each with the store answering N ms late. Printed as it goes: each run's pushes/s, p50/p95
and CPU ms per push (gunicorn, the clients, the whole machine).

Figures go to docs/BENCHMARKS.md, between this benchmark's markers.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from copies import _percentiles as percentiles  # noqa: E402
from copies_served import run_together, start_gunicorn  # noqa: E402
from search import write_section  # noqa: E402

UNIT = "000.02.21.H48"
PROCEDURE = "1.010711"
RECEIVER_PATH = "/ket-qua"


# --- the national data store: answers at once ------------------------------------------------

def serve_receiver(port_file: Path) -> None:
    """A receiver that reads each message and answers 200 at once (HTTP/1.1: a sender may keep its
    connection); GET /_count says how many messages and distinct Idempotency-Keys it got."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    lock, keys, seen, arrivals, delay = threading.Lock(), set(), [0], [], [0.0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK wait when kept alive

        def _answer(self, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            key = self.headers.get("Idempotency-Key", "")
            with lock:
                seen[0] += 1
                keys.add(key)
                arrivals.append(time.monotonic())
            if delay[0]:
                time.sleep(delay[0])
            self._answer({"accepted": key})

        def do_GET(self):  # how many so far, and when the first and the last of them arrived
            with lock:
                if self.path == "/_reset":
                    arrivals.clear()
                elif self.path.startswith("/_delay/"):  # answer every message this many ms late
                    delay[0] = int(self.path.rsplit("/", 1)[1]) / 1000
                self._answer({"received": seen[0], "keys": len(keys),
                              "first": arrivals[0] if arrivals else None, "last": arrivals[-1] if arrivals else None})

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    temp = port_file.with_suffix(".tmp")
    temp.write_text(str(server.server_port))
    temp.replace(port_file)
    server.serve_forever()


class Receiver:
    def __init__(self, workdir: Path):
        port_file = workdir / "receiver-port"
        self.process = subprocess.Popen([sys.executable, __file__, "--serve-receiver", str(port_file)], cwd=ROOT)
        while not port_file.exists():
            if self.process.poll() is not None:
                raise SystemExit("the receiver did not start")
            time.sleep(0.05)
        self.base = f"http://127.0.0.1:{port_file.read_text()}"
        self.url = self.base + RECEIVER_PATH

    def count(self, reset: bool = False) -> dict:
        import requests

        return requests.get(self.base + ("/_reset" if reset else "/_count"), timeout=10).json()

    def answer_late(self, ms: int) -> None:
        import requests

        requests.get(f"{self.base}/_delay/{ms}", timeout=10).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# --- the portal -----------------------------------------------------------------------------

def _setup(data_dir: Path, database_url: str | None, receiver_url: str, clients: int):
    from flask_migrate import upgrade

    from portal import create_app, search
    from portal.config import database_url as driver_url
    from portal.operations import accounts, api_clients

    url = driver_url(database_url) if database_url else f"sqlite:///{data_dir / 'bench.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PORTAL_DATA_DIR": str(data_dir / "data"),
                      "SECRET_KEY": "bench", "SEARCH_INDEXER_INTERVAL": 0, "SEARCH_REBUILD_IN_BACKGROUND": False,
                      "JOBS_INTERVAL": 0, "NATIONAL_STORE_URL": receiver_url})
    context = app.app_context()
    context.push()
    from sqlalchemy import inspect

    from portal.extensions import db

    if database_url and inspect(db.engine).get_table_names():
        raise SystemExit(f"{database_url} is not empty: the bench fills an empty database (and empties it again)")
    upgrade()
    search.search_index().create_empty()
    accounts.create_unit(None, UNIT, "Phòng Quản lý chuyên ngành")
    accounts.save_procedure(None, PROCEDURE, "Cấp giấy phép tiến hành công việc bức xạ - Sử dụng thiết bị X-quang "
                            "chẩn đoán trong y tế", "An toàn bức xạ và hạt nhân", None)
    made = [api_clients.create_client(None, f"Một cửa {i + 1}", UNIT) for i in range(clients)]
    return app, context, [(client.client_id, secret) for client, secret in made]


def _one_page_pdf() -> bytes:
    from portal.demo.documents import Spec, render_many

    return render_many([Spec(
        department="Sở Khoa học và Công nghệ tỉnh Quảng Ngãi", province="Quảng Ngãi", number="1/GP-SKHCN",
        issue_date=date(2019, 5, 2), title="GIẤY PHÉP TIẾN HÀNH CÔNG VIỆC BỨC XẠ", holder_label="Người được cấp",
        holder_name="Phạm Minh Khánh", holder_id="051089004217", address="Số 12 Hùng Vương, Quảng Ngãi",
        signer_name="Trần Văn Hùng", signer_title="Giám đốc", body=["Thiết bị X-quang chẩn đoán."] * 3,
        pages=1)])[0]


class Bodies:
    """Push bodies made ahead (so the clients spend nothing building them): each a distinct file
    (bytes after %%EOF change its hash, not its page) and a distinct result code and number."""

    def __init__(self, pdf: bytes):
        self.pdf, self.serial = pdf, 0

    def make(self, day: date, count: int) -> list[tuple[str, bytes, str]]:
        from urllib3.filepost import encode_multipart_formdata

        made = []
        for n in range(1, count + 1):
            self.serial += 1
            code = f"{UNIT}-{day:%y%m%d}-{n:04d}-KQ1"
            metadata = {"procedure_code": PROCEDURE, "document_number": f"{self.serial}/GP-SKHCN",
                        "issue_date": day.isoformat(), "signer_name": "Trần Văn Hùng", "signer_title": "Giám đốc",
                        "summary": f"Giấy phép tiến hành công việc bức xạ số {self.serial}",
                        "holder_id": "051089004217", "holder_name": "Phạm Minh Khánh", "valid_until": "2029-05-02"}
            body, content_type = encode_multipart_formdata({
                "metadata": json.dumps(metadata, ensure_ascii=False),
                "file": ("ket-qua.pdf", self.pdf + f"\n% bench {self.serial}\n".encode(), "application/pdf")})
            made.append((code, body, content_type))
        return made


class Pusher:
    """A unit's one-stop-shop system: its token, then PUTs. http.client, not requests: the clients
    share the machine's two cores with the portal, so they should cost it as little as they can
    (gunicorn's sync workers close each connection: nothing to keep alive)."""

    def __init__(self, base: str, client_id: str, secret: str):
        import requests

        answer = requests.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                               auth=(client_id, secret), timeout=60)
        assert answer.status_code == 200, answer.text
        self.authorization = f"Bearer {answer.json()['access_token']}"
        self.host, _, port = base.removeprefix("http://").partition(":")
        self.port = int(port)

    def put(self, code: str, body: bytes, content_type: str) -> int:
        from http.client import HTTPConnection

        connection = HTTPConnection(self.host, self.port, timeout=120)
        try:
            connection.request("PUT", f"/api/v1/results/{code}", body=body,
                               headers={"Authorization": self.authorization, "Content-Type": content_type})
            answer = connection.getresponse()
            answer.read()
            return answer.status
        finally:
            connection.close()


def _push_all(pushers: list[Pusher], jobs: list) -> tuple[list[float], list[int], float]:
    """Every job pushed by the clients at once, each taking the next job as its answer comes."""
    latencies, statuses, lock = [], [], threading.Lock()
    queue = iter(jobs)

    def work(pusher: Pusher) -> None:
        while True:
            with lock:
                job = next(queue, None)
            if job is None:
                return
            start = time.perf_counter()
            status = pusher.put(*job)
            with lock:
                latencies.append((time.perf_counter() - start) * 1000)
                statuses.append(status)

    wall = run_together([functools.partial(work, pusher) for pusher in pushers])
    return latencies, statuses, wall


def _run_pushes(app, credentials, bodies: Bodies, day: date, pushes: int, install: str | None, log: Path,
                env: dict) -> dict:
    server, url = start_gunicorn(app, log, install, env)
    try:
        pushers = [Pusher(url, *pair) for pair in credentials]
        # Both workers' first requests (index opened, PDF checking process started): not counted.
        _push_all(pushers, bodies.make(day - timedelta(days=100), 4 * len(pushers)))
        jobs = bodies.make(day, pushes)
        cpu = _cpu_seconds(server.pid)
        latencies, statuses, wall = _push_all(pushers, jobs)
        cpu = {who: seconds - cpu[who] for who, seconds in _cpu_seconds(server.pid).items()}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    created = statuses.count(201)
    if created != len(statuses):
        print(f"  answers other than 201: { {s: statuses.count(s) for s in set(statuses)} }; see {log}")
    p50, p95 = percentiles(latencies)
    return {"pushes": len(statuses), "created": created, "per_second": created / wall, "p50": p50, "p95": p95,
            "latencies": latencies,
            **{f"cpu_{who}": seconds * 1000 / len(statuses) for who, seconds in cpu.items()}}


def _cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of gunicorn (its master, workers and their helpers), of this process (the
    clients), and of the whole machine (the database server and the rest too)."""
    import psutil

    def used(times) -> float:
        return times.user + times.system

    server = psutil.Process(server_pid)
    gunicorn = used(server.cpu_times())
    for child in server.children(recursive=True):
        try:
            gunicorn += used(child.cpu_times())
        except psutil.NoSuchProcess:
            pass
    machine = psutil.cpu_times()
    return {"server": gunicorn, "clients": used(psutil.Process().cpu_times()),
            "machine": sum(machine) - machine.idle - machine.iowait}


def _cpu_line(run: dict) -> str:
    return (f"CPU ms per push: gunicorn {run['cpu_server']:.1f}, clients {run['cpu_clients']:.1f}, "
            f"machine {run['cpu_machine']:.1f}")


def _send_in_process() -> dict:
    """Every pending message posted by `outbox.send_due` in this process."""
    from portal import outbox
    from portal.extensions import db

    db.session.remove()
    pending = outbox.counts()["pending"]
    start = time.perf_counter()
    sent = 0
    while sent < pending:
        done = outbox.send_due(limit=pending - sent)
        if not done:
            break
        sent += done
    wall = time.perf_counter() - start
    db.session.remove()
    left = outbox.counts()
    return {"pending": pending, "sent": sent, "per_second": sent / wall, "left": left["pending"] + left["failing"]}


def _send_by_worker(app, receiver: Receiver, log: Path) -> dict:
    """Every pending message posted by `flask --app wsgi worker` (all background work, 20 messages a
    turn), timed by the receiver: from the first message's arrival to the last's."""
    import os

    from portal import outbox
    from portal.extensions import db

    db.session.remove()
    pending = outbox.counts()["pending"]
    before = receiver.count(reset=True)["received"]
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "PORTAL_DATA_DIR": app.config["PORTAL_DATA_DIR"], "SECRET_KEY": "bench",
           "PORTAL_NATIONAL_STORE_URL": receiver.url}
    with open(log, "ab") as out:
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--interval", "0.2"],
                                  cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while (got := receiver.count())["received"] - before < pending and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    sent = got["received"] - before
    return {"pending": pending, "sent": sent, "per_second": (sent - 1) / max(got["last"] - got["first"], 1e-6)}


def _requeue_all() -> None:
    """Every message pending again, as the reconciliation does for what the receiver lost."""
    from sqlalchemy import update

    from portal.extensions import db
    from portal.models import OutboxMessage
    from portal.models.outbox import PENDING
    from portal.timeutil import utcnow

    db.session.execute(update(OutboxMessage).values(status=PENDING, sent_at=None, next_attempt_at=utcnow()))
    db.session.commit()


def _summary(runs: list[dict]) -> dict:
    import statistics

    latencies = [ms for run in runs for ms in run["latencies"]]
    p50, p95 = percentiles(latencies)
    rates = sorted(run["per_second"] for run in runs)
    return {"pushes": sum(r["pushes"] for r in runs), "created": sum(r["created"] for r in runs),
            "per_second": statistics.median(rates), "low": rates[0], "high": rates[-1], "p50": p50, "p95": p95,
            **{k: statistics.mean(r[k] for r in runs) for k in ("cpu_server", "cpu_machine")}}


NAIVE, OUTBOX = "naive send inside the request (baseline)", "outbox (portal)"


def measure(backend: str, database_url: str | None, args, pdf: bytes) -> list[str]:
    from portal.extensions import db

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        receiver = Receiver(Path(tmp))
        try:
            app, context, credentials = _setup(Path(tmp), database_url, receiver.url, args.clients)
            # Production's indexing (the web process's indexer every 2 s); nothing sent by the web
            # processes: the outbox's messages wait for the sender, timed on its own below.
            env = {"PORTAL_NATIONAL_STORE_URL": receiver.url, "PORTAL_API_CLIENT_RATE_LIMIT": "1000000 per minute",
                   "PORTAL_INDEXER_INTERVAL": "2", "PORTAL_JOBS_INTERVAL": "0"}
            bodies, log = Bodies(pdf), Path(tmp) / "gunicorn.log"
            runs: dict[str, list[dict]] = {NAIVE: [], OUTBOX: []}
            naive_messages = 0
            for n in range(args.runs):
                for i, path in enumerate((NAIVE, OUTBOX) if n % 2 == 0 else (OUTBOX, NAIVE)):
                    before = receiver.count()["received"]
                    run = _run_pushes(app, credentials, bodies, date(2019, 5, 1) + timedelta(days=10 * n + i),
                                      args.pushes, "api_naive_send" if path == NAIVE else None, log, env)
                    if path == NAIVE:
                        naive_messages += receiver.count()["received"] - before
                    runs[path].append(run)
                    print(f"{backend}, {path}, run {n + 1}: {run['per_second']:.1f} pushes/s, p50 {run['p50']:.0f} "
                          f"ms, p95 {run['p95']:.0f} ms; {_cpu_line(run)}", flush=True)
            worker = _send_by_worker(app, receiver, Path(tmp) / "worker.log")
            print(f"{backend}, flask worker: {worker['sent']} of {worker['pending']} messages, "
                  f"{worker['per_second']:.0f} messages/s", flush=True)
            _requeue_all()
            sender = _send_in_process()
            print(f"{backend}, outbox.send_due: {sender['sent']} of {sender['pending']} messages, "
                  f"{sender['per_second']:.0f} messages/s, {sender['left']} left", flush=True)
            naive, portal = _summary(runs[NAIVE]), _summary(runs[OUTBOX])
            slow = {}
            if args.slow_receiver_ms:
                # The same two paths once more, the store answering each message late.
                receiver.answer_late(args.slow_receiver_ms)
                for i, path in enumerate((NAIVE, OUTBOX)):
                    slow[path] = _run_pushes(app, credentials, bodies, date(2019, 4, 1) + timedelta(days=i),
                                             args.pushes, "api_naive_send" if path == NAIVE else None, log, env)
                    print(f"{backend}, {path}, receiver {args.slow_receiver_ms} ms late: "
                          f"{slow[path]['per_second']:.1f} pushes/s, p50 {slow[path]['p50']:.0f} ms, "
                          f"p95 {slow[path]['p95']:.0f} ms", flush=True)
                receiver.answer_late(0)
            rows = []
            assert naive_messages >= naive["created"], "the naive path's messages did not all arrive"
            for path, s, sent in ((NAIVE, naive, "each posted by its request"),
                                  (OUTBOX, portal, f"{sender['per_second']:.0f}/s (`send_due`), "
                                                   f"{worker['per_second']:.0f}/s (`flask worker`)")):
                rows.append(f"| {backend} | {path} | {s['pushes']:,} | {s['created']:,} | "
                            f"{s['per_second']:.1f} ({s['low']:.1f}-{s['high']:.1f}) | {s['p50']:.0f} | "
                            f"{s['p95']:.0f} | {s['cpu_server']:.1f} / {s['cpu_machine']:.1f} | {sent} |")
            for path, run in slow.items():
                rows.append(f"| {backend} | {path}, receiver answering in {args.slow_receiver_ms} ms | "
                            f"{run['pushes']:,} | {run['created']:,} | {run['per_second']:.1f} | {run['p50']:.0f} | "
                            f"{run['p95']:.0f} | {run['cpu_server']:.1f} / {run['cpu_machine']:.1f} | "
                            f"{'each posted by its request' if path == NAIVE else 'later, by the sender'} |")
            db.session.remove()
            if database_url:
                with db.engine.begin() as conn:
                    conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            db.engine.dispose()
            context.pop()
        finally:
            receiver.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pushes", type=int, default=1000, help="pushes timed per path (at most 9,999)")
    parser.add_argument("--clients", type=int, default=8, help="machine clients pushing at once")
    parser.add_argument("--runs", type=int, default=3, help="runs of each path, in turns (at most 5)")
    parser.add_argument("--slow-receiver-ms", type=int, default=0,
                        help="also one run of each path with the store answering this many ms late")
    parser.add_argument("--database-url", help="an EMPTY PostgreSQL database, measured after SQLite (emptied again)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--serve-receiver", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_receiver:
        serve_receiver(args.serve_receiver)
        return
    pdf = _one_page_pdf()
    rows = measure("SQLite", None, args, pdf)
    if args.database_url:
        rows += measure("PostgreSQL", args.database_url, args, pdf)
    backends = "SQLite and PostgreSQL" if args.database_url else "SQLite"
    command = f"bench/api.py --pushes {args.pushes} --runs {args.runs}" + (
        f" --slow-receiver-ms {args.slow_receiver_ms}" if args.slow_receiver_ms else "") + (
        " --database-url …" if args.database_url else "")
    lines = [f"Run {date.today().isoformat()} on {platform.machine()}, Python {platform.python_version()}, "
             f"`{command}` ({backends}): gunicorn (gunicorn.conf.py, 2 sync workers), {args.clients} machine "
             "clients of one unit pushing distinct 1-page PDFs (each published at once) as fast as answers come, "
             "the two paths in turns; a local receiver answering at once (last rows: late). "
             "Pushes/s: median of the runs (range); "
             "latency in ms over all the pushes of a path; CPU ms per push: gunicorn (workers and their helpers) / "
             "the whole machine (the clients, the database server, and whatever else ran).", "",
             "| database | path | pushes | 201 | pushes/s | p50 | p95 | CPU ms per push | messages to the receiver |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |", *rows]
    write_section(args.out, "api", "\n".join(lines))


if __name__ == "__main__":
    main()
