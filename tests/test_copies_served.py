"""Copies issued by a real gunicorn (gunicorn.conf.py, two workers) to many clients at once,
on PostgreSQL: every request gets its copy, the register numbers stay unique and gap-free, and
`kill -9` of the server while copies render leaves no process behind and no hole for good.

The server runs on a clock of its own, as the tests' `clock` fixture does here: started at
CLOCK_START (plus the time the test has run) through time-machine, so that a year's register
is one year whatever today's date, and a server started later than the others' lease sees
their abandoned reservations as such.
"""

from __future__ import annotations

import http.client
import os
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
import uuid
from datetime import timedelta
from http.cookiejar import CookieJar
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import CertifiedCopy, CopyNumberReservation, StoredFile

from .conftest import CLOCK_START, PASSWORD, PG_URL, make_result

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)"),
              pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]

# gunicorn's own entry point, on the clock the test gives it.
BOOT = """
import os, sys
import time_machine
time_machine.travel(float(os.environ["TEST_SERVER_CLOCK"]), tick=True).start()
from gunicorn.app.wsgiapp import run
sys.argv[0] = "gunicorn"
run()
"""
CLIENTS = 30
HOLDERS = [f"05109000{n:04d}" for n in range(1, 7)]  # six citizens, two results each
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


class Server:
    """`gunicorn -c gunicorn.conf.py wsgi:app`, two workers, on a free loopback port."""

    def __init__(self, app, log: Path, started: float):
        self.app, self.log, self.started = app, log, started
        self.process: subprocess.Popen | None = None
        self.url = self.marker = ""

    def start(self, later: timedelta = timedelta(0)) -> Server:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = self.app.config
        clock = CLOCK_START + timedelta(seconds=time.monotonic() - self.started) + later
        env = {**os.environ, "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
               "PORTAL_DATA_DIR": config["PORTAL_DATA_DIR"], "SECRET_KEY": "served-test",
               "PORTAL_SIGNING_P12": config["SIGNING_P12"],
               "PORTAL_SIGNING_P12_PASSWORD": config["SIGNING_P12_PASSWORD"],
               "PORTAL_TRUST_ROOTS": config["TRUST_ROOTS"], "PORTAL_LOGIN_RATE_LIMIT": "10000 per minute",
               "PORTAL_JOBS_INTERVAL": "0", "PORTAL_INDEXER_INTERVAL": "0", "PORTAL_COPY_PROCESSES": "1",
               "GUNICORN_WORKERS": "2", "GUNICORN_BIND": f"127.0.0.1:{port}",
               "TEST_SERVER_CLOCK": str(clock.timestamp()), "TEST_SERVER_ID": uuid.uuid4().hex}
        self.marker = env["TEST_SERVER_ID"]  # inherited by every process the server starts
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", BOOT, "-c", "gunicorn.conf.py", "--no-control-socket", "wsgi:app"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_tail()
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"gunicorn did not answer\n{self.log_tail()}")

    def processes(self) -> list[psutil.Process]:
        """The master, its workers, and what they started (rendering processes, their tracker)."""
        master = psutil.Process(self.process.pid)
        return [master, *master.children(recursive=True)]

    def workers(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()

    def leftovers(self) -> list[psutil.Process]:
        """Every process still running that this server started, wherever it was reparented."""
        found = []
        for process in psutil.process_iter():
            try:
                if process.environ().get("TEST_SERVER_ID") == self.marker and process.status() != "zombie":
                    found.append(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return found

    def rendering(self) -> list[psutil.Process]:
        return [p for p in self.processes() if _is_rendering(p)]

    def kill(self) -> int:
        """SIGKILL the master, then its workers, as `kill -9` would; answer how many rendering
        processes they leave behind (to end by themselves)."""
        workers = self.workers()
        rendering = len(self.rendering())
        os.kill(self.process.pid, signal.SIGKILL)  # first, so that it cannot start new workers
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        return rendering

    def stop(self) -> None:
        """A graceful stop (SIGTERM)."""
        self.process.terminate()
        self.process.wait(timeout=60)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _is_rendering(process: psutil.Process) -> bool:
    try:
        return "spawn_main" in " ".join(process.cmdline())  # a multiprocessing child (copies/worker.py)
    except psutil.NoSuchProcess:
        return False


def assert_all_gone(server: Server) -> None:
    """Every process the server started ends by itself (helpers watch their parent)."""
    deadline = time.monotonic() + 20
    while (alive := server.leftovers()) and time.monotonic() < deadline:
        time.sleep(0.2)
    described = [" ".join(p.cmdline())[:120] for p in alive]
    for process in alive:
        process.kill()  # not to leave them to the next test; still a failure
    assert not alive, f"left running: {described}\n{server.log_tail()}"


class Client:
    """One person with a browser's cookie jar: logs in, then asks the API for copies."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), self._NoRedirect)
        self.token = ""

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, str, dict]:
        call = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(call, timeout=120) as answer:
                return answer.status, answer.read().decode(), dict(answer.headers)
        except urllib.error.HTTPError as answer:
            return answer.code, answer.read().decode(), dict(answer.headers)

    def _token_of(self, path: str) -> str:
        """The CSRF token of the page at `path`, the redirects followed as a browser does."""
        status, page, headers = self.request(path)
        for _ in range(5):
            if status not in (301, 302, 303):
                break
            status, page, headers = self.request(urllib.parse.urlsplit(headers["Location"]).path or "/")
        match = TOKEN.search(page)
        assert status == 200 and match, (path, status)
        return match.group(1) or match.group(2)

    def login(self, username: str) -> Client:
        token = self._token_of("/login")
        form = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": PASSWORD}).encode()
        status, _page, headers = self.request("/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, status
        self.token = self._token_of(urllib.parse.urlsplit(headers["Location"]).path)  # where the browser lands
        return self

    def ask_copy(self, result_code: str) -> tuple[int, str]:
        status, body, _ = self.request(f"/api/v1/me/results/{result_code}/copies", b"",
                                       {"X-CSRFToken": self.token, "Accept": "application/json"})
        return status, body


@pytest.fixture
def server(app, tmp_path):
    """The server (not started); whatever happens in the test, nothing it started outlives it."""
    served = Server(app, tmp_path / "gunicorn.log", time.monotonic())
    yield served
    if served.process is not None and served.process.poll() is None:
        served.process.kill()
        served.process.wait(timeout=10)
    for process in served.leftovers():
        process.kill()


@pytest.fixture
def holders_results(world, pdfs):
    """Published results of several holders, each holder with a password account."""
    from portal.operations import accounts

    codes = {}
    for n, cccd in enumerate(HOLDERS):
        accounts.create_user(None, f"congdan{n}", "holder", PASSWORD, holder_id=cccd)
        codes[f"congdan{n}"] = [make_result(world, pdfs[2 * n + k], reviewer="reviewer_a", holder_id=cccd,
                                            holder_name=f"Công dân số {n}", valid_until=None,
                                            document_number=f"{2 * n + k + 1}/GP-SKHCN").code for k in (0, 1)]
    return codes


def _log_in_all(base: str, holders_results: dict, count: int) -> list[tuple[Client, list[str]]]:
    names = list(holders_results)
    clients = [None] * count

    def log_in(i: int) -> None:
        name = names[i % len(names)]
        clients[i] = (Client(base).login(name), holders_results[name])

    threads = [threading.Thread(target=log_in, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(clients), "a client could not log in"
    return clients


def _register_numbers() -> dict[int, list[int]]:
    db.session.rollback()  # see what the server committed
    numbers: dict[int, list[int]] = {}
    for year, number in db.session.execute(select(CertifiedCopy.year, CertifiedCopy.number)):
        numbers.setdefault(year, []).append(number)
    return {year: sorted(found) for year, found in numbers.items()}


def _assert_register_sound(app) -> None:
    """No number or verification code twice, and every registered copy's file is there, intact."""
    from portal.storage import LocalStorage

    db.session.rollback()
    for column in ((CertifiedCopy.year, CertifiedCopy.number), (CertifiedCopy.verification_code,)):
        twice = db.session.execute(select(*column).group_by(*column).having(func.count() > 1)).all()
        assert twice == [], twice
    files = LocalStorage(Path(app.config["PORTAL_DATA_DIR"]) / "files")
    for copy in db.session.scalars(select(CertifiedCopy)):
        assert files.hash_of_stored(copy.sha256) == copy.sha256, copy.register_number


def test_thirty_clients_at_once_all_get_their_copy_and_the_register_has_no_gap(app, server, holders_results):
    server.start()
    try:
        clients = _log_in_all(server.url, holders_results, CLIENTS)
        answers = [None] * CLIENTS
        gate = threading.Barrier(CLIENTS)

        def ask(i: int) -> None:
            client, codes = clients[i]
            gate.wait()  # all at once
            answers[i] = client.ask_copy(codes[i % 2])

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    assert_all_gone(server)
    assert [status for status, _ in answers] == [201] * CLIENTS, [a for a in answers if a[0] != 201][:3]
    assert _register_numbers() == {CLOCK_START.year: list(range(1, CLIENTS + 1))}
    codes = {re.search(r'"verification_code": ?"([^"]+)"', body).group(1) for _, body in answers}
    assert len(codes) == CLIENTS
    _assert_register_sound(app)
    assert db.session.scalar(select(func.count()).select_from(CopyNumberReservation)) == 0
    # Each copy was rendered once: no file of a render that lost its number was left behind.
    objects = Path(app.config["PORTAL_DATA_DIR"]) / "files" / "objects"
    stored = {path.name for path in objects.rglob("*") if path.is_file()}
    assert stored == set(db.session.scalars(select(StoredFile.sha256))) | set(
        db.session.scalars(select(CertifiedCopy.sha256)))


def test_kill_9_of_the_server_while_copies_render_leaves_no_process_no_duplicate_and_in_the_end_no_gap(
        app, server, holders_results):
    for _round in range(5):
        server.start()
        clients = _log_in_all(server.url, holders_results, 6)
        stop = threading.Event()
        threads = [threading.Thread(target=_keep_asking, args=(*pair, stop)) for pair in clients]
        for thread in threads:
            thread.start()
        _wait_for_copies_in_flight(server)
        rendering = server.kill()
        stop.set()
        assert rendering > 0, "no rendering process was left to end by itself"
        assert_all_gone(server)
        for thread in threads:
            thread.join(timeout=30)
        _assert_register_sound(app)

    # Later copies, from a server started after the killed ones' lease ran out, take over
    # every number they left reserved: the register ends gap-free.
    from portal.copies.numbers import LEASE

    db.session.rollback()
    abandoned = db.session.scalar(select(func.count()).select_from(CopyNumberReservation))
    assert abandoned > 0  # the kills did interrupt copies being made
    server.start(later=LEASE + timedelta(minutes=1))
    try:
        clients = _log_in_all(server.url, holders_results, 2)
        for i in range(abandoned + 2):
            client, codes = clients[i % 2]
            assert client.ask_copy(codes[1])[0] == 201
    finally:
        server.stop()
    assert_all_gone(server)
    _assert_register_sound(app)
    numbers = _register_numbers()
    assert list(numbers) == [CLOCK_START.year] and numbers[CLOCK_START.year] == list(
        range(1, len(numbers[CLOCK_START.year]) + 1))
    assert db.session.scalar(select(func.count()).select_from(CopyNumberReservation)) == 0


def _keep_asking(client: Client, codes: list[str], stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            client.ask_copy(codes[0])
        except (OSError, http.client.HTTPException):
            return  # the server is gone


def _wait_for_copies_in_flight(server: Server) -> None:
    """Until a copy is being rendered: its number reserved and held, a rendering process up."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        db.session.rollback()
        held = db.session.scalar(select(func.count()).select_from(CopyNumberReservation)
                                 .where(CopyNumberReservation.held_by.is_not(None)))
        if held and server.rendering():
            return
        time.sleep(0.05)
    raise AssertionError(f"no copy was being rendered\n{server.log_tail()}")
