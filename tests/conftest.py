"""Test set-up: every test that uses `app` runs on SQLite and, when configured, on PostgreSQL.

The schema is made by the Alembic migrations once per backend and session; each test then gets
a fresh copy (SQLite) or emptied tables (PostgreSQL), and its own data directory on disk.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import g
from flask_migrate import upgrade
from PIL import Image
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from portal import create_app, search
from portal.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

if os.environ.get("REQUIRE_POSTGRES") == "1" and not PG_URL:
    raise RuntimeError("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "RATELIMIT_ENABLED": False,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    # Index work happens where the test can see it: at the first request, and on search.sync().
    "SEARCH_REBUILD_IN_BACKGROUND": False,
    "SEARCH_INDEXER_INTERVAL": 0,
    "JOBS_INTERVAL": 0,  # imports and OCR run where the test calls them
    "MIN_FREE_MB": 1,  # /healthz's "warning" on a test machine short of disk is not what most tests test
}


def make_app(db_url: str, data_dir: Path, **overrides):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": db_url, "PORTAL_DATA_DIR": str(data_dir),
                      **overrides})

    def forget_the_last_requests_user():
        # The tests hold one app context for a whole test, so `g` outlives a request there as it
        # never does in a server; Flask-Login keeps the user in `g`, Flask-WTF the CSRF token.
        g.pop("_login_user", None)
        g.pop("csrf_token", None)

    # First of all: the app's own first hook already asks who is asking (portal/views/gate.py).
    app.before_request_funcs.setdefault(None, []).insert(0, forget_the_last_requests_user)
    return app


VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
# A fixed instant for tests whose answer depends on the date or the hour.
CLOCK_START = datetime(2026, 6, 15, 10, 0, tzinfo=VIETNAM)
# Both sides of a new year in Vietnam, where a date taken in another zone is another day: in the last
# minute of 2026 (16:59 UTC) zones east of +07 (Pacific/Kiritimati, Asia/Tokyo) are in 2027 already;
# in the first minute of 2027 (17:00 UTC on 31 December) UTC and every zone west of +07 are still in 2026.
LAST_MINUTE_OF_A_YEAR = datetime(2026, 12, 31, 23, 59, tzinfo=VIETNAM)
FIRST_MINUTE_OF_A_YEAR = datetime(2027, 1, 1, 0, 0, tzinfo=VIETNAM)
INSTANTS = {"ordinary": CLOCK_START, "last-minute-of-a-year": LAST_MINUTE_OF_A_YEAR,
            "first-minute-of-a-year": FIRST_MINUTE_OF_A_YEAR}
# A date-sensitive test: it runs at CLOCK_START and on both sides of a Vietnamese new year (the clock
# runs on from each; every test needs well under the minute left before midnight).
at_every_instant = pytest.mark.parametrize("clock", list(INSTANTS.values()), ids=list(INSTANTS), indirect=True)


def vietnam_now() -> datetime:
    """The clock's time in Vietnam, computed here rather than by the code under test."""
    return datetime.now(VIETNAM)


class Clock:
    """time-machine's traveller, moved by `shift(timedelta)` and `move_to(datetime)`.

    Every destination is handed over as a bare instant: given a datetime in a ZoneInfo zone (or in
    UTC), time-machine would also switch the process to that zone, and a date wrongly taken in the
    machine's zone would then come out right. The machine keeps the zone it was started in (the
    suite is run with TZ=Pacific/Kiritimati and TZ=America/Los_Angeles as well)."""

    def __init__(self, traveller: time_machine.Traveller):
        self._traveller = traveller

    def shift(self, delta: timedelta | float) -> None:
        self._traveller.shift(delta)

    def move_to(self, destination: datetime | float, tick: bool | None = None) -> None:
        self._traveller.move_to(_instant(destination), tick)


def _instant(moment: datetime | float) -> float:
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError("a clock moves to an aware datetime: say in which zone it is")
        return moment.timestamp()
    return moment


def pytest_collection_modifyitems(items):
    # Every test on the clock is marked `dates`: CI runs them again with the machine in another zone.
    for item in items:
        if "clock" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.dates)


@pytest.fixture
def clock(request):
    """Time as a fixture: the clock starts at CLOCK_START (or, with `at_every_instant`, at each of
    INSTANTS) and runs on from there, so that Whoosh's lock timeouts still pass; a test moves it with
    `clock.shift(timedelta)` or `clock.move_to(datetime)`. Fixtures that make dated data ask for it
    first, so that the data are made at the clock's time."""
    start = getattr(request, "param", CLOCK_START)
    with time_machine.travel(_instant(start), tick=True) as traveller:
        yield Clock(traveller)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "portal.db"
    app = make_app(f"sqlite:///{path}", path.parent / "data")
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_migrated(tmp_path_factory):
    from portal.config import database_url

    url = database_url(PG_URL)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    app = make_app(url, tmp_path_factory.mktemp("pgdata"))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def backend(request):
    if request.param == "postgresql" and not PG_URL:  # a test pinned to PostgreSQL, run without one
        pytest.skip("PostgreSQL only: set TEST_DATABASE_URL")
    return request.param


@pytest.fixture
def db_url(backend, request, tmp_path):
    if backend == "sqlite":
        path = tmp_path / "portal.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_migrated")
    yield url
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [row[0] for row in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"))]
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


# The test certificates' validity starts before any instant a test travels to. Copies are signed (and
# uploads checked) in the rendering process, which time-machine does not reach: there it is today, for
# real. A test that checks a signature itself does so at the clock's time, maybe months before today.
# So the keys are not made inside a clock (made at an instant after today, they would not be valid yet
# in the rendering process); they are made today, valid from this date on.
CERTIFICATES_VALID_FROM = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory):
    """One demo CA and signing certificate for the whole run, made as `make run` makes them (but
    valid from CERTIFICATES_VALID_FROM)."""
    from portal.copies.keys import DEMO_CA, DEMO_P12, DEMO_PASSWORD, ensure_demo_keys

    folder = tmp_path_factory.mktemp("signing")
    ensure_demo_keys(folder, "Sở Khoa học và Công nghệ tỉnh Quảng Ngãi", "Quảng Ngãi",
                     valid_from=CERTIFICATES_VALID_FROM)
    return {"SIGNING_P12": str(folder / DEMO_P12), "SIGNING_P12_PASSWORD": DEMO_PASSWORD,
            "TRUST_ROOTS": str(folder / DEMO_CA)}


@pytest.fixture
def search_backend():
    """The app's search backend: Whoosh, unless a test module parametrizes it (tests/test_search.py)."""
    return "whoosh"


@pytest.fixture
def app(db_url, tmp_path, signing_keys, search_backend):
    app = make_app(db_url, tmp_path / "data", SEARCH_BACKEND=search_backend, **signing_keys)
    with app.app_context():
        search.search_index().create_empty()  # as `make run` does with `reindex`
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


# --- the people and things most tests need ---------------------------------------------------

PASSWORD = "Mat-khau-thu-nghiem"
UNIT_A, UNIT_B = "000.02.21.H48", "000.04.21.H48"
CCCD_A, CCCD_B = "051089004217", "051195000321"
MST_C = "0100112437"


@pytest.fixture
def world(app):
    """Two units, a procedure, and a user of every kind."""
    from portal.operations import accounts as ops

    ops.create_unit(None, UNIT_A, "Phòng Quản lý chuyên ngành")
    ops.create_unit(None, UNIT_B, "Chi cục Tiêu chuẩn Đo lường Chất lượng")
    ops.save_procedure(None, "1.010711", "Cấp giấy phép tiến hành công việc bức xạ - Sử dụng thiết bị X-quang "
                       "chẩn đoán trong y tế", "An toàn bức xạ và hạt nhân", None)
    ops.save_procedure(None, "2.002131", "Đăng ký hợp đồng chuyển giao công nghệ", "Chuyển giao công nghệ", 50)
    users = {
        "admin": ops.create_user(None, "admin", "admin", PASSWORD, full_name="Quản trị"),
        "staff_a": ops.create_user(None, "staff_a", "staff", PASSWORD, unit_code=UNIT_A, full_name="Cán bộ A"),
        "reviewer_a": ops.create_user(None, "reviewer_a", "reviewer", PASSWORD, unit_code=UNIT_A,
                                      full_name="Kiểm tra A"),
        "staff_b": ops.create_user(None, "staff_b", "staff", PASSWORD, unit_code=UNIT_B, full_name="Cán bộ B"),
        "reviewer_b": ops.create_user(None, "reviewer_b", "reviewer", PASSWORD, unit_code=UNIT_B,
                                      full_name="Kiểm tra B"),
        "holder_a": ops.create_user(None, "holder_a", "holder", PASSWORD, holder_id=CCCD_A),
    }
    return users


def csrf_token(client, url: str) -> str:
    page = client.get(url)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


# --- real files ----------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A file system of its own, 16 MB, for a test to fill up: a tmpfs mounted for the test (root
    may mount; REQUIRE_MOUNT=1, as CI sets, turns a refusal into a failure instead of a skip)."""
    import subprocess

    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("REQUIRE_MOUNT") == "1":
            raise RuntimeError(f"REQUIRE_MOUNT=1 but a tmpfs cannot be mounted: {done.stderr}")
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def fill_disk(folder: Path, leave: int = 0) -> Path:
    """Fill the file system of `folder` to the last byte, then free `leave` bytes of it."""
    filler = folder / "filler"
    block = b"\0" * (1024 * 1024)
    with open(filler, "wb", buffering=0) as out:
        for size in (len(block), 4096, 1):
            try:
                while True:
                    out.write(block[:size])
            except OSError:
                pass
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


@pytest.fixture(scope="session")
def pdfs():
    """Twelve distinct real PDFs with a Vietnamese text layer; pdfs[2] has two pages."""
    from datetime import date

    from portal.demo.documents import Spec, render_many

    specs = [
        Spec(department="Sở Khoa học và Công nghệ tỉnh Quảng Ngãi", province="Quảng Ngãi",
             number=f"{n}/GP-SKHCN", issue_date=date(2019, 5, 1 + n), title="GIẤY PHÉP TIẾN HÀNH CÔNG VIỆC BỨC XẠ",
             holder_label="Người được cấp", holder_name="Phạm Minh Khánh", holder_id=CCCD_A,
             address="Số 12 Hùng Vương, phường Trần Phú, thành phố Quảng Ngãi",
             signer_name="Trần Văn Hùng", signer_title="Giám đốc",
             body=[f"Thiết bị X-quang chẩn đoán số {n}."], pages=2 if n == 3 else 1)
        for n in range(1, 13)
    ]
    return render_many(specs)


def image_bytes(fmt: str, dpi: int = 300, color=(200, 30, 30), size=(600, 800)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt, dpi=(dpi, dpi))
    return out.getvalue()


def result_form(**overrides) -> dict:
    """A valid upload form for unit A's radiation procedure; override any field."""
    data = {
        "procedure_code": "1.010711", "document_number": "125/gp-skhcn", "issue_date": "15/03/2019",
        "signer_name": "Trần Văn Hùng", "signer_title": "Giám đốc",
        "summary": "Giấy phép tiến hành công việc bức xạ cho Phòng khám Đa khoa Thiện Nhân",
        "holder_id": CCCD_A, "holder_name": "Phạm Minh Khánh", "holder_address": "Quảng Ngãi",
        "valid_until": "15/03/2022", "origin": "digitized", "retention_years": "procedure",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def upload(client, content: bytes, filename: str = "scan.pdf", unit_id: int | None = None, **fields):
    token = csrf_token(client, "/admin/results/new")
    data = result_form(**fields)
    data["csrf_token"] = token
    if unit_id is not None:
        data["unit_id"] = str(unit_id)
    data["file"] = (io.BytesIO(content), filename)
    return client.post("/admin/results/new", data=data, content_type="multipart/form-data")


def make_result(world, pdf: bytes, *, staff="staff_a", reviewer=None, replaces=None, **fields):
    """A result created through the operations (and published if a reviewer is named)."""
    from sqlalchemy import select

    from portal import search
    from portal.identifiers import normalize_document_number, normalize_holder_id, parse_date
    from portal.models import Procedure, Unit
    from portal.operations import results as ops
    from portal.scans import Spooled, prepare
    from portal.storage import storage

    form = result_form(**fields)
    actor = world[staff]
    procedure = db.session.scalars(select(Procedure).where(Procedure.code == form["procedure_code"])).one()
    kind, holder = normalize_holder_id(form["holder_id"])
    path, sha, size = storage().spool(io.BytesIO(pdf))
    scan = prepare(storage(), Spooled(path, sha, size, ""), "scan.pdf")
    issue = parse_date(form["issue_date"])
    data = ops.ResultInput(
        procedure=procedure, unit=actor.unit or db.session.scalars(select(Unit).where(Unit.code == UNIT_A)).one(),
        document_number=normalize_document_number(form["document_number"]),
        issue_date=issue, signer_name=form["signer_name"], signer_title=form["signer_title"],
        summary=form["summary"], holder_kind=kind, holder_id=holder, holder_name=form["holder_name"],
        formed_year=issue.year, valid_until=parse_date(form["valid_until"]) if form.get("valid_until") else None,
    )
    result = ops.create_draft(actor, data, scan, replaces=replaces)
    if reviewer:
        ops.publish(world[reviewer], result, seen_version=result.version)
    search.sync()  # what a web request does after it commits
    return result


# --- what an attacker is after (tests/test_held_*.py) ------------------------------------------

@pytest.fixture
def victims(app, world, pdfs):
    """Unit A's results, batch and copies, owned by citizen A and business C, and the callers
    who must not reach them: another citizen (B, whose own result unit B issued), a business
    member removed while logged in, unit B's staff. `markers` are strings of the victims' data
    that no page of these callers may show."""
    from types import SimpleNamespace

    from sqlalchemy import select

    from portal.models import ImportBatch, Procedure, Unit, User
    from portal.operations import claims
    from portal.operations.accounts import create_user
    from portal.operations.copies import issue_copy

    citizen = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None, document_number="701/GP-SKHCN")
    draft = make_result(world, pdfs[1], document_number="702/GP-SKHCN")
    business = make_result(world, pdfs[2], reviewer="reviewer_a", valid_until=None, holder_id=MST_C,
                           holder_name="Công ty TNHH Thiết bị Y tế Minh Phát", document_number="703/GP-SKHCN")
    own_b = make_result(world, pdfs[3], staff="staff_b", reviewer="reviewer_b", holder_id=CCCD_B, valid_until=None,
                        holder_name="Trần Thị Lan", document_number="88/GP-TĐC")
    for name in ("holder_b", "member_c", "removed_c"):
        world[name] = create_user(None, name, "holder", PASSWORD, holder_id=CCCD_B if name == "holder_b" else MST_C)
    copies = [issue_copy(world["holder_a"], citizen), issue_copy(world["member_c"], business)]
    batch = ImportBatch(source="web", name="lo-don-vi-a.csv", manifest_sha256="0" * 64, files_dir="", status="done",
                        unit_id=world["staff_a"].unit_id, created_by_id=world["staff_a"].id)
    db.session.add(batch)
    slip = _victim_slip(world["reviewer_a"], citizen)
    messages = [_victim_message(citizen)]
    db.session.commit()

    clients = {"anonymous": app.test_client()}
    for who in ("holder_b", "removed_c", "staff_b", "reviewer_b"):
        clients[who] = app.test_client()
        login(clients[who], who)
    claims.remove_member(world["member_c"], world["removed_c"])  # removed while logged in
    markers = [citizen.code, draft.code, business.code, "701/GP-SKHCN", "702/GP-SKHCN", "703/GP-SKHCN",
               "Phạm Minh Khánh", "Minh Phát", CCCD_A, MST_C, batch.name]
    for copy in copies:
        markers += [copy.verification_code, copy.display_code, copy.register_number]
    return SimpleNamespace(
        citizen=citizen, draft=draft, business=business, own_b=own_b, copies=copies, batch=batch, slip=slip,
        messages=messages,
        results=[citizen, draft, business], clients=clients, markers=markers,
        unit_a=db.session.get(Unit, world["staff_a"].unit_id),
        procedure=db.session.scalars(select(Procedure).order_by(Procedure.id)).first(),
        members=[world["member_c"], world["removed_c"]],
        users=db.session.scalars(select(User).order_by(User.id)).all(),
    )


def _victim_message(result):
    """A message about unit A's result to the national data store, failing (portal/outbox.py)."""
    from portal.models import OutboxMessage

    message = OutboxMessage(result=result, version=1, state="hieu_luc", status="failing", attempts=40,
                            payload={"MaKetQua": result.code, "PhienBan": 1, "TrangThai": "hieu_luc"},
                            last_status_code=500, last_answer="lỗi")
    db.session.add(message)
    return message


def _victim_slip(reviewer, result):
    """Hand-over slips reviewer A made (a PDF of claim codes, for them alone)."""
    import hashlib
    from datetime import timedelta

    from portal.models import HandoverSlip
    from portal.storage import SLIPS, storage
    from portal.timeutil import utcnow

    data = b"%PDF-1.4 victim's hand-over slips"
    slip = HandoverSlip(created_by_id=reviewer.id, unit_id=reviewer.unit_id, expires_at=utcnow() + timedelta(days=7),
                        slip_count=1, result_codes=[result.code], sha256=hashlib.sha256(data).hexdigest())
    storage(SLIPS).put_bytes(data)
    db.session.add(slip)
    return slip


# Browser journeys (tests/browser_kit.py holds what they share).
@pytest.fixture
def live_server(app, world):
    """The test's app served over HTTP from a thread, on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


# One Chromium per module, not per session: Playwright's sync API keeps an asyncio loop running in
# the main thread while it is started, and pyHanko's validation (run from later tests) then fails.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


# Redis, as the nodes of a province share it (rate limits): tests/redis_service.py.
@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    from .redis_service import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """Redis running and empty at the start of the test (started again if a test stopped it)."""
    if not redis_server.answers():
        redis_server.start()
    redis_server.flush()
    return redis_server.url


# The national identity's OpenID Connect service, played by tests/oidc_provider.py in its own process.
@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    from .oidc_provider import ProviderHandle

    handle = ProviderHandle(tmp_path_factory.mktemp("oidc"))
    handle.start()
    yield handle
    handle.stop()


@pytest.fixture
def provider(oidc_provider):
    """The provider, behaving normally at the start of the test (and running, if a test stopped it)."""
    yield from oidc_provider.fresh()


# The national data store, played by tests/national_receiver.py in its own process.
@pytest.fixture(scope="session")
def national_receiver(tmp_path_factory):
    from .national_receiver import ReceiverHandle

    handle = ReceiverHandle(tmp_path_factory.mktemp("national-store"))
    handle.start()
    yield handle
    handle.stop()


@pytest.fixture
def receiver(national_receiver):
    """The receiver, running, behaving, with an empty log at the start of the test."""
    yield from national_receiver.fresh()


# An S3-protocol server (moto's standalone server), as a province's nodes share a bucket: tests/s3_service.py.
@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    from .s3_service import S3Server

    server = S3Server(tmp_path_factory.mktemp("s3"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_env(s3_server, monkeypatch):
    """The settings that make an app keep its files in the (emptied) test bucket, the credentials
    in the environment where boto3 reads them."""
    from .s3_service import ACCESS_KEY, SECRET_KEY

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    s3_server.empty()
    return s3_server.config(prefix="portal")


@pytest.fixture
def s3_app(db_url, tmp_path, signing_keys, s3_env):
    """The portal with its files in the bucket (a test module uses it as its `app`)."""
    app = make_app(db_url, tmp_path / "data", **signing_keys, **s3_env)
    with app.app_context():
        search.search_index().create_empty()
        yield app
        db.session.remove()
        db.engine.dispose()
