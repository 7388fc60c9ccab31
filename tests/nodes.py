"""Web nodes for the tests that run the portal as a province does: gunicorn processes serving
wsgi:app on ports of their own, each with its own data directory, sharing only what `env` names
(the database, Redis, the S3-protocol server)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import requests

from .conftest import PASSWORD
from .redis_service import free_port, stop_process

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


class Node:
    """One web node: gunicorn serving wsgi:app on its own port and data directory."""

    def __init__(self, data_dir: Path, env: dict[str, str]):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "gunicorn.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        full_env = {**os.environ, "PORTAL_DATA_DIR": str(data_dir), "SECRET_KEY": "two-nodes", "GUNICORN_WORKERS": "1",
                    "GUNICORN_BIND": f"127.0.0.1:{self.port}", "PORTAL_JOBS_INTERVAL": "0",
                    "PORTAL_INDEXER_INTERVAL": "0", **env}
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--no-control-socket", "wsgi:app"],
                cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{self.base}/login", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the node did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def user(self, username: str | None = None) -> Visitor:
        """A visitor of this node, logged in as `username` when one is named."""
        visitor = Visitor(self)
        if username:
            visitor.login(username)
        return visitor

    def stop(self) -> None:
        stop_process(self.process, grace=20)


class Visitor:
    """A browser without JavaScript: cookies, and the CSRF token of the last form it read. Its
    cookies go to whichever node it is pointed at (`on`), as behind a load balancer."""

    def __init__(self, node: Node):
        self.node, self.http = node, requests.Session()

    def on(self, node: Node) -> Visitor:
        other = Visitor(node)
        other.http = self.http
        return other

    def url(self, path: str) -> str:
        return self.node.base + path

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.url(path), timeout=60, allow_redirects=False, **kwargs)

    def token(self, path: str) -> str:
        match = TOKEN.search(self.http.get(self.url(path), timeout=60).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1) or match.group(2)

    def post_form(self, path: str, data: dict, form_page: str | None = None, **kwargs) -> requests.Response:
        data = {"csrf_token": self.token(form_page or path), **data}
        return self.http.post(self.url(path), data=data, timeout=120, allow_redirects=False, **kwargs)

    def login(self, username: str, password: str = PASSWORD) -> requests.Response:
        return self.post_form("/login", {"username": username, "password": password})
