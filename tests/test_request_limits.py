"""Who may send a body, and how large: decided before anything reads it.

The quick cases go through Flask's test client; the real one streams a few hundred megabytes
over a socket to gunicorn started by the test, and measures what the server wrote meanwhile.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from .conftest import PASSWORD, csrf_token, login

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
IMPORT_LIMIT_MB = 8  # the real server's


def _page(response) -> str:
    return response.get_data(as_text=True)


# --- quick cases: Flask's test client ----------------------------------------------------------

def _big_form(size: int) -> dict:
    return {"csrf_token": "x", "upload": (io.BytesIO(b"\0" * size), "lo.zip")}


def test_a_login_form_takes_a_few_kilobytes(client, app):
    limit = app.config["MAX_FORM_BYTES"]
    assert limit <= 64 * 1024
    response = client.post("/login", data={"username": "a" * (limit + 1), "password": "x"})
    assert response.status_code == 413
    assert "Dữ liệu gửi lên quá lớn" in _page(response) and f"{limit // 1024} KB" in _page(response)


def test_an_anonymous_import_is_sent_to_log_in_before_its_body_is_read(client, world):
    response = client.post("/admin/imports", data=_big_form(2 * MB), content_type="multipart/form-data")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_holder_posting_to_the_department_finds_nothing(client, world):
    login(client, "holder_a")
    response = client.post("/admin/imports", data=_big_form(2 * MB), content_type="multipart/form-data")
    assert response.status_code == 404 and "Không tìm thấy" in _page(response)


def test_the_import_limit_is_only_for_staff_on_the_import_page(app, client, world):
    app.config["IMPORT_MAX_ZIP_MB"] = 4
    login(client, "staff_a")
    token = csrf_token(client, "/admin/imports")
    # 2 MB: over a scan's form elsewhere, under the import limit on the import page.
    body = {"csrf_token": token, "upload": (io.BytesIO(b"\0" * (2 * MB)), "lo.csv")}
    accepted = client.post("/admin/imports", data=body, content_type="multipart/form-data")
    assert accepted.status_code == 302 and "/admin/imports/" in accepted.headers["Location"]  # the job's page
    body = {"csrf_token": token, "upload": (io.BytesIO(b"\0" * (2 * MB)), "lo.csv")}
    elsewhere = client.post("/admin/review/publish", data=body, content_type="multipart/form-data")
    assert elsewhere.status_code == 413 and "Dữ liệu gửi lên quá lớn" in _page(elsewhere)
    body = {"csrf_token": token, "upload": (io.BytesIO(b"\0" * (5 * MB)), "lo.zip")}
    over = client.post("/admin/imports", data=body, content_type="multipart/form-data")
    assert over.status_code == 413 and "giới hạn 4 MB" in _page(over)


def test_a_scan_upload_has_the_upload_limit(app, client, world):
    app.config["MAX_UPLOAD_BYTES"] = 1 * MB
    login(client, "staff_a")
    token = csrf_token(client, "/admin/results/new")
    data = {"csrf_token": token, "file": (io.BytesIO(b"%PDF-" + b"\0" * (2 * MB)), "scan.pdf")}
    response = client.post("/admin/results/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 413 and "giới hạn 1 MB" in _page(response)


# --- the real thing: gunicorn, a socket, hundreds of megabytes -------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(app, world, db_url, tmp_path):
    """The test's database and data directory served by gunicorn (one sync worker, as in
    production), with a temporary directory of its own."""
    port = _free_port()
    temp_dir = tmp_path / "server-tmp"
    temp_dir.mkdir()
    env = {**os.environ, "DATABASE_URL": db_url, "PORTAL_DATA_DIR": app.config["PORTAL_DATA_DIR"],
           "SECRET_KEY": "test-secret", "PORTAL_JOBS_INTERVAL": "0", "PORTAL_INDEXER_INTERVAL": "0",
           "TMPDIR": str(temp_dir), "GUNICORN_WORKERS": "1", "GUNICORN_BIND": f"127.0.0.1:{port}",
           "PORTAL_IMPORT_MAX_ZIP_MB": str(IMPORT_LIMIT_MB)}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                    probe.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
                    if probe.recv(100).split(b" ")[1:2] == [b"200"]:
                        break
            except OSError:
                pass
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        worker = int(Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()[0])
        yield {"port": port, "worker": worker, "temp": temp_dir}
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()


def _written(pid: int) -> int:
    """Bytes the process has passed to write() so far: files and sockets alike."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise AssertionError("no wchar in /proc/PID/io")


BOUNDARY = "grenze"


def _multipart_chunks(total: int):
    """A ZIP upload of `total` bytes, made on the fly (never in memory at once)."""
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"lo.zip\"\r\n"
           "Content-Type: application/zip\r\n\r\n").encode()
    block = b"\0" * MB
    for _ in range(total // MB):
        yield block


def stream_post(port: int, path: str, total: int, *, chunked: bool, cookie: str = "") -> tuple[int, str, int]:
    """POST a body of `total` bytes as a browser would, stopping as soon as the server answers
    (as browsers do); returns (status, page, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)  # a failure, never a hang
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    sock.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n{length}\r\n"
                  f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                  + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n").encode())
    sent = 0
    try:
        for chunk in _multipart_chunks(total):
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass  # it answered and closed; read the answer
    response = http.client.HTTPResponse(sock)
    response.begin()
    page = response.read().decode("utf-8", "replace")
    sock.close()
    return response.status, page, sent


def _session_of(port: int, username: str) -> str:
    """Log in over HTTP as a browser does; the session cookie."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", "/login")
    response = connection.getresponse()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.read().decode()).group(1)
    cookie = response.getheader("Set-Cookie").split(";")[0]
    connection.request("POST", "/login", body=urlencode({"csrf_token": token, "username": username,
                                                         "password": PASSWORD}),
                       headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    assert response.status == 302
    connection.close()
    return next(c.split(";")[0] for c in response.headers.get_all("Set-Cookie") if c.startswith("session="))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # bodies are the web server's and Flask's business
def test_hundreds_of_megabytes_are_never_written(server, app):
    data_dir = Path(app.config["PORTAL_DATA_DIR"])
    before_files = sorted(p for p in data_dir.rglob("*") if p.is_file())
    staff = _session_of(server["port"], "staff_a")
    for chunked in (False, True):  # with a Content-Length, and without one
        before = _written(server["worker"])
        status, _page, _sent = stream_post(server["port"], "/admin/imports", 300 * MB, chunked=chunked)
        assert status == 302  # to the login page, as any page of the department's for somebody unknown
        status, page, _sent = stream_post(server["port"], "/login", 300 * MB, chunked=chunked)
        assert status == 413 and "Dữ liệu gửi lên quá lớn" in page
        written = _written(server["worker"]) - before
        assert written < MB, f"the server wrote {written} bytes"

        # Staff may send an import up to its own limit, and not a byte more is read or kept.
        before = _written(server["worker"])
        status, page, _sent = stream_post(server["port"], "/admin/imports", 300 * MB, chunked=chunked, cookie=staff)
        assert status == 413 and f"giới hạn {IMPORT_LIMIT_MB} MB" in page
        written = _written(server["worker"]) - before
        assert written < (IMPORT_LIMIT_MB + 1) * MB, f"the server wrote {written} bytes"

        assert not any(server["temp"].iterdir())
        assert sorted(p for p in data_dir.rglob("*") if p.is_file()) == before_files
