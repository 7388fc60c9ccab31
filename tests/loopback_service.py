"""A test service in its own process on 127.0.0.1: started, stopped ("down") and started again on the
same port, steered through its JSON `/_control`. The OpenID provider and the national data store's
receiver are both this (tests/oidc_provider.py, tests/national_receiver.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def announce_port(server, port_file: Path) -> None:
    """Tell the starter which port the server took (written whole, then renamed: never read half)."""
    temp = port_file.with_suffix(".tmp")
    temp.write_text(str(server.server_port))
    temp.replace(port_file)


class LoopbackService:
    """The tests' side of a service: `module` is run with `--port`, `--port-file` and `arguments()`."""

    module = ""
    label = "service"

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def arguments(self) -> list[str]:
        return []

    def start(self) -> None:
        port_file = self.workdir / f"{self.label}-port"
        port_file.unlink(missing_ok=True)
        with open(self.workdir / f"{self.label}.log", "ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module, "--port", str(self.port), "--port-file", str(port_file),
                 *self.arguments()], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 20
        while not port_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the test {self.label} did not start; see {self.workdir}/{self.label}.log")
            time.sleep(0.05)
        self.port = int(port_file.read_text())

    def stop(self) -> None:
        """Down: connections are refused until start() (same port)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def control(self, **order) -> dict:
        request = urllib.request.Request(f"{self.base}/_control", data=json.dumps(order).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)

    def reset(self) -> None:
        self.control(reset=True)

    def fresh(self):
        """For a function fixture: the service running and reset for the test, running again after it
        (a test may have stopped it)."""
        if self.process is None:
            self.start()
        self.reset()
        yield self
        if self.process is None:
            self.start()
