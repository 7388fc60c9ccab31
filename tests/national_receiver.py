"""A national data store for the tests that misbehaves on request, run as its own process on 127.0.0.1
(`python -m tests.national_receiver --port-file FILE --log FILE`), like tests/oidc_provider.py.

Every POST it receives is appended to a log file (so the log survives the receiver being stopped and
started again on the same port: "down for a while") with its Idempotency-Key, body and the answer it
gave. `/_control` (JSON, for the tests only) sets how it misbehaves: `fail_every` N answers 500 to
every Nth message (without keeping it), `stall_every` N keeps every Nth and then stalls `stall_seconds`
before answering (past the sender's timeout, so the sender sends it again: a duplicate, answered 200 as
well, as an idempotent receiver does). `ReceiverHandle` is the tests' side of it.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

from tests.loopback_service import LoopbackService, announce_port

PATH = "/ket-qua"


def create_app(log_path: Path):
    from flask import Flask, jsonify, request

    app = Flask(__name__)
    state = {"fail_every": 0, "stall_every": 0, "stall_seconds": 0.0, "count": 0, "token": None}
    lock = threading.Lock()

    @app.post(PATH)
    def receive():
        key = request.headers.get("Idempotency-Key", "")
        body = request.get_json(silent=True)
        with lock:
            state["count"] += 1
            n = state["count"]
            authorized = state["token"] is None or request.headers.get("Authorization") == f"Bearer {state['token']}"
            fail = not authorized or (state["fail_every"] and n % state["fail_every"] == 0)
            stall = not fail and state["stall_every"] and n % state["stall_every"] == 0
            answer = 401 if not authorized else 500 if fail else 200
            with open(log_path, "a") as log:
                log.write(json.dumps({"key": key, "body": body, "answer": answer, "stalled": bool(stall),
                                      "authorization": request.headers.get("Authorization")}) + "\n")
        if stall:
            time.sleep(state["stall_seconds"])
        if answer != 200:
            return jsonify(error="lỗi thử nghiệm"), answer
        return jsonify(accepted=key)

    @app.post("/_control")
    def control():
        order = request.get_json(force=True)
        with lock:
            if order.get("reset"):
                state.update(fail_every=0, stall_every=0, stall_seconds=0.0, count=0, token=None)
                log_path.write_text("")
            for name in ("fail_every", "stall_every", "stall_seconds", "token"):
                if name in order:
                    state[name] = order[name]
            return jsonify(dict(state))

    return app


def serve(port: int, port_file: Path, log_path: Path) -> None:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, create_app(log_path), threaded=True)
    announce_port(server, port_file)
    server.serve_forever()


class ReceiverHandle(LoopbackService):
    """Start and stop the receiver (on the same port again), steer it, read what it received."""

    module, label = "tests.national_receiver", "receiver"

    def __init__(self, workdir: Path):
        super().__init__(workdir)
        self.log_path = workdir / "received.jsonl"

    @property
    def url(self) -> str:
        return f"{self.base}{PATH}"

    def arguments(self) -> list[str]:
        return ["--log", str(self.log_path)]

    def misbehave(self, **options) -> None:
        self.control(**options)

    def received(self) -> list[dict]:
        """Every message received, in order of arrival, with the answer given."""
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    def kept(self) -> list[dict]:
        """What it took in (answered 200, or would have but for the stall), in order of arrival."""
        return [r for r in self.received() if r["answer"] == 200]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    arguments = parser.parse_args()
    serve(arguments.port, arguments.port_file, arguments.log)
