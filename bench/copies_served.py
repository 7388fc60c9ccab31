"""`bench/copies.py --concurrent N`: certified copies issued by a real gunicorn under load.

Two runs on the same data, each on an empty register: the retry path as the baseline (register
number max + 1 chosen before rendering, rendered again on a conflict, 5 attempts;
bench/copies_retry_path.py, put in place before gunicorn loads the app) and the portal as it
is (numbers reserved before rendering). Each run starts `gunicorn -c gunicorn.conf.py wsgi:app`
with two workers, logs N clients in (GET /login, POST /login), and has them ask
`POST /api/v1/me/results/<code>/copies` for --requests copies in all, as fast as answers come.
"""

from __future__ import annotations

import functools
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench-password-1"
BOOT = """
import importlib, os, sys
if os.environ.get("BENCH_INSTALL"):  # a bench-only path put in place before the app is loaded
    sys.path.insert(0, "bench")
    importlib.import_module(os.environ["BENCH_INSTALL"]).install()
from gunicorn.app.wsgiapp import run
sys.argv[0] = "gunicorn"
run()
"""
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    def __init__(self, base: str):
        self.base, self.token = base, ""
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect)

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None):
        call = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(call, timeout=300) as answer:
                return answer.status, answer.read().decode(), answer.headers
        except urllib.error.HTTPError as answer:
            return answer.code, answer.read().decode(), answer.headers

    def page_token(self, path: str) -> str:
        status, page, headers = self.request(path)
        while status in (301, 302, 303):
            status, page, headers = self.request(urllib.parse.urlsplit(headers["Location"]).path)
        match = TOKEN.search(page)
        return match.group(1) or match.group(2)

    def login(self, username: str) -> Client:
        form = {"csrf_token": self.page_token("/login"), "username": username, "password": PASSWORD}
        status, _page, headers = self.request("/login", urllib.parse.urlencode(form).encode(),
                                              {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, f"login answered {status}"
        self.token = self.page_token(urllib.parse.urlsplit(headers["Location"]).path)
        return self

    def ask_copy(self, code: str) -> int:
        return self.request(f"/api/v1/me/results/{code}/copies", b"", {"X-CSRFToken": self.token})[0]


def run_together(tasks: list) -> float:
    """Every task in its own thread, all let go at the same instant; seconds until the last ends."""
    gate = threading.Barrier(len(tasks) + 1)

    def begin(task) -> None:
        gate.wait()
        task()

    threads = [threading.Thread(target=begin, args=(task,)) for task in tasks]
    for thread in threads:
        thread.start()
    gate.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def start_gunicorn(app, log: Path, install: str | None = None, env: dict | None = None
                   ) -> tuple[subprocess.Popen, str]:
    """gunicorn -c gunicorn.conf.py wsgi:app with two workers on the bench's database and data
    directory, on a free port; `install` names a bench module whose install() replaces a path of
    the portal in each worker (a baseline), `env` adds settings. (the process, its base URL)"""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "PORTAL_DATA_DIR": app.config["PORTAL_DATA_DIR"], "SECRET_KEY": "bench",
           "PORTAL_LOGIN_RATE_LIMIT": "100000 per minute", "PORTAL_JOBS_INTERVAL": "0",
           "PORTAL_INDEXER_INTERVAL": "0", "GUNICORN_WORKERS": "2", "GUNICORN_BIND": f"127.0.0.1:{port}",
           **(env or {})}
    if install:
        env["BENCH_INSTALL"] = install
    with open(log, "ab") as out:
        server = subprocess.Popen([sys.executable, "-c", BOOT, "-c", "gunicorn.conf.py", "--no-control-socket",
                                   "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5):
                return server, url
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"gunicorn did not start; see {log}")


def _empty_register() -> None:
    from sqlalchemy import delete

    from portal.extensions import db
    from portal.models import CertifiedCopy, CopyNumberCounter, CopyNumberReservation

    for model in (CertifiedCopy, CopyNumberReservation, CopyNumberCounter):
        db.session.execute(delete(model))
    db.session.commit()


def _run(app, code: str, clients: int, requests: int, retry_path: bool, log: Path) -> dict:
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.models import CertifiedCopy

    objects = Path(app.config["PORTAL_DATA_DIR"]) / "files" / "objects"
    server, url = start_gunicorn(app, log, "copies_retry_path" if retry_path else None)
    try:
        logged_in = [Client(url).login("holder") for _ in range(clients)]
        warming = [threading.Thread(target=c.ask_copy, args=(code,)) for c in logged_in[:4]]
        for thread in warming:  # both workers' rendering processes up and their fonts loaded: not counted
            thread.start()
        for thread in warming:
            thread.join()
        _empty_register()
        files_before = sum(1 for p in objects.rglob("*") if p.is_file())
        shares = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]
        latencies, statuses, lock = [], [], threading.Lock()

        def ask(client: Client, count: int) -> None:
            for _ in range(count):
                start = time.perf_counter()
                status = client.ask_copy(code)
                with lock:
                    latencies.append((time.perf_counter() - start) * 1000)
                    statuses.append(status)

        wall = run_together([functools.partial(ask, client, count) for client, count in zip(logged_in, shares)])
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    db.session.rollback()
    copies = db.session.scalar(select(func.count()).select_from(CertifiedCopy))
    renders = sum(1 for p in objects.rglob("*") if p.is_file()) - files_before  # every render is stored
    return {"requests": len(statuses), "ok": statuses.count(201), "refused": len(statuses) - statuses.count(201),
            "wall": wall, "latencies": latencies, "copies": copies, "renders": renders}


def run_concurrent(args, setup, percentiles) -> str:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-copies-served-") as tmp:
        app, _holder, results = setup(Path(tmp), args.database_url)
        code = results[1].code
        backend = "PostgreSQL" if args.database_url else "SQLite"
        rows = []
        for name, retry_path in (("retry path (before)", True), ("reserved numbers (now)", False)):
            run = _run(app, code, args.concurrent, args.requests, retry_path, Path(tmp) / "gunicorn.log")
            p50, p95 = percentiles(run["latencies"])
            rows.append(f"| {name} | {run['requests']} | {run['ok']} | {run['refused']} | "
                        f"{run['ok'] / run['wall']:.1f} | {p50:.0f} | {p95:.0f} | "
                        f"{run['renders'] / max(run['copies'], 1):.2f} |")
            print(rows[-1], flush=True)
    lines = [f"Run {date.today().isoformat()} on {platform.machine()}, Python {platform.python_version()}, "
             f"`bench/copies.py --concurrent {args.concurrent} --requests {args.requests}` ({backend}): "
             f"gunicorn (gunicorn.conf.py, 2 sync workers, one rendering process each), {args.concurrent} clients "
             "logged in, asking the API for copies of a 1-page result all at once. Latency in ms.", "",
             "| issuing | requests | 201 | refused (422) | copies/s | p50 | p95 | renders per copy |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", *rows]
    return "\n".join(lines)
