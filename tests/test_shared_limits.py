"""Rate limits that hold across the nodes of a province (issue 16, item 4): two web nodes (gunicorn,
one worker each, separate data directories, the same database) count logins in one Redis, so 11
login attempts spread over both trip the limit of 10 a minute, where per-process counting would let
20 through. A Redis that goes down loosens the limits for a while; it never takes the login with it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from .redis_service import free_port, stop_process

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


class Node:
    """One web node: gunicorn serving wsgi:app on its own port and data directory."""

    def __init__(self, db_url: str, data_dir: Path, storage_uri: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": db_url, "PORTAL_DATA_DIR": str(data_dir), "SECRET_KEY": "two-nodes",
               "RATELIMIT_STORAGE_URI": storage_uri, "GUNICORN_WORKERS": "1",
               "GUNICORN_BIND": f"127.0.0.1:{self.port}", "PORTAL_JOBS_INTERVAL": "0", "PORTAL_INDEXER_INTERVAL": "0"}
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = data_dir / "gunicorn.log"
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--no-control-socket", "wsgi:app"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.http = requests.Session()
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.http.get(f"{self.base}/login", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the node did not start; see {self.log}")
            time.sleep(0.2)

    def try_login(self) -> int:
        """A wrong password, as a guesser sends it (the login form's CSRF token first)."""
        page = self.http.get(f"{self.base}/login", timeout=10).text
        token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        answer = self.http.post(f"{self.base}/login", timeout=10, allow_redirects=False,
                                data={"csrf_token": token, "username": "holder_a", "password": "đoán-thử"})
        return answer.status_code

    def stop(self) -> None:
        stop_process(self.process, grace=20)


@pytest.fixture
def nodes(db_url, tmp_path, world):
    started = []

    def start(storage_uri: str) -> tuple[Node, Node]:
        pair = (Node(db_url, tmp_path / f"node-a-{len(started)}", storage_uri),
                Node(db_url, tmp_path / f"node-b-{len(started)}", storage_uri))
        started.extend(pair)
        return pair

    yield start
    for node in started:
        node.stop()


def test_logins_spread_over_two_nodes_share_one_limit_in_redis(nodes, redis_url):
    a, b = nodes(redis_url)
    answers = [(a if n % 2 == 0 else b).try_login() for n in range(11)]
    assert answers[:10] == [200] * 10, answers  # the form again, "wrong password"
    assert answers[10] == 429
    assert b.try_login() == 429 and a.try_login() == 429  # on either node


def test_without_shared_storage_each_node_counts_alone(nodes):
    """Why Redis: counted in each process, the same 11 attempts never reach any node's limit."""
    a, b = nodes("memory://")
    assert [(a if n % 2 == 0 else b).try_login() for n in range(11)] == [200] * 11


def test_a_redis_that_goes_down_loosens_the_limits_and_keeps_the_login(nodes, redis_url, redis_server):
    a, b = nodes(redis_url)
    assert a.try_login() == 200
    redis_server.stop()
    try:
        assert [a.try_login(), b.try_login()] == [200, 200]  # counted in each process meanwhile
    finally:
        redis_server.start()
