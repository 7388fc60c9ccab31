"""Issue 12, what held: SQL injection and search syntax in every search box and filter give no
error and never widen what the caller sees; XSS payloads in every metadata field are escaped on
every page, snippet, audit page and API answer and are literal text inside a certified copy, whose
renderer fetches nothing."""

from __future__ import annotations

import io
import re
import socket
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import User

from .conftest import CCCD_A, CCCD_B, MST_C, PASSWORD, csrf_token, login, make_result
from .test_held_access import routes

# --- SQL injection and search syntax ---------------------------------------------------------------

# By kind; each search box and filter gets every payload of EVERYWHERE and one of each other kind,
# a different one per route, so that the whole corpus is sent and the test stays fast.
KINDS = {
    "quotes and comments": ["'", '"', "''", "' OR '1'='1", '" OR "1"="1', "') OR ('1'='1", "x' --", "x' /* */",
                            "1#", "x';--"],
    "union, or 1=1, stacked": ["' UNION SELECT username, password_hash FROM users--",
                               "1 UNION ALL SELECT NULL,NULL,NULL--", "x' OR 1=1--", "1 OR 1=1",
                               "'; DROP TABLE results; --", "1; UPDATE users SET role='admin'--",
                               "' AND extractvalue(1, version())--", "$$ OR 1=1 $$"],
    "like wildcards and escapes": ["%", "_", "%%", "\\%", "\\", "[a-z]"],
    "whoosh wildcards, fuzzy, boost": ["*", "?", "a*", "*a", "te?t", "x~", "quang~2", "ngai^3", "^", "~"],
    "whoosh words, groups, ranges": ["AND", "OR NOT", "AND OR NOT", "NOT *", '"unbalanced', '""', "(((", ")",
                                     "[a TO z]", "{a TO}", "a:b:c", "+-!&&||"],
    "field names": [f"holder:{CCCD_B}", f"holder_visible:{CCCD_B}", "holder_visible:*", "unit:*", "status:draft",
                    "id:1", "text:*", f"ids:{MST_C}", "field:status"],
    "other holders' identifiers": [CCCD_B, MST_C, "703/GP-SKHCN", "88/GP-TĐC"],
    "numbers": ["-1", "0", "2147483648"],
    "very long": ["a" * 5000, "( " * 800, "x " * 1500],
    "control characters": ["\x01\x02\x1b[31m", "\r\n", "\t", "\x7f"],
    "unicode": ["Quảng Ngãi", "ＱＵＡＮＧ", "\u202e", "\ufeff", "🔥", "a\u0301", "İı", "مرحبا", "𝕏𝕐"],
}
# What broke before (PostgreSQL takes no NUL and 32-bit ids; SQLite stops at 2**63): sent everywhere.
EVERYWHERE = ["\x00", "a\x00b", "99999999999", "9" * 25, "'", "*"]


def payloads_for(route_number: int) -> list[str]:
    return EVERYWHERE + [values[route_number % len(values)] for values in KINDS.values()]


def _q(value: str) -> str:
    return quote(value, safe="")


def test_injection_and_search_syntax_give_no_error_and_never_widen_a_search(app, victims, world):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 is a failure listed below, not the end of the test
    holder, staff_b, admin, anonymous = (app.test_client() for _ in range(4))
    login(holder, "holder_a")
    login(staff_b, "staff_b")
    login(admin, "admin")
    mine = {victims.citizen.code}
    # What citizen A must never see, and what unit B's staff must never see.
    not_holders = [victims.draft.code, victims.business.code, victims.own_b.code, "703/GP-SKHCN", "88/GP-TĐC",
                   "Trần Thị Lan", "Minh Phát"]
    not_unit_b = [r.code for r in victims.results] + ["701/GP-SKHCN", "702/GP-SKHCN", "703/GP-SKHCN",
                                                      "Phạm Minh Khánh", "Minh Phát"]
    token = csrf_token(anonymous, "/")  # one session, one token for all its forms
    staff_token = csrf_token(staff_b, "/admin/review")
    users = db.session.scalar(select(func.count(User.id)))

    def filters(p):
        return f"field={p}&year={p}&status={p}&page={p}&per_page={p}"

    def staff_filters(p):
        return f"{filters(p)}&unit={p}&procedure={p}&phase={p}"

    def api_codes(response):
        return {r["code"] for r in response.get_json()["results"]} if response.status_code == 200 else set()

    # (label, request, what it must not show); `p` is the payload quoted for a URL, `v` as typed.
    targets = [
        ("holder page", lambda p, v: holder.get(f"/me/results?q={p}"), not_holders),
        ("holder filters", lambda p, v: holder.get(f"/me/results?{filters(p)}"), not_holders),
        ("holder api", lambda p, v: holder.get(f"/api/v1/me/results?q={p}&{filters(p)}"), not_holders),
        ("my copies", lambda p, v: holder.get(f"/me/copies?page={p}"), not_holders),
        ("who looked", lambda p, v: holder.get(f"/me/access?page={p}"), not_holders),
        ("staff search", lambda p, v: staff_b.get(f"/admin/results?q={p}&{staff_filters(p)}"), not_unit_b),
        ("staff list", lambda p, v: staff_b.get(f"/admin/results?{staff_filters(p)}&unit={victims.unit_a.id}"),
         not_unit_b),
        ("review queue", lambda p, v: staff_b.get(f"/admin/review?batch={p}&page={p}"), not_unit_b),
        ("bulk publish", lambda p, v: staff_b.post("/admin/review/publish", data={
            "csrf_token": staff_token, "result_id": [v, str(victims.draft.id)]}), not_unit_b),
        ("copies register", lambda p, v: staff_b.get(f"/admin/copies?year={p}&page={p}"), not_unit_b),
        ("admin search", lambda p, v: admin.get(f"/admin/results?q={p}&{staff_filters(p)}"), ()),
        ("admin list", lambda p, v: admin.get(f"/admin/results?{staff_filters(p)}"), ()),
        ("audit log", lambda p, v: admin.get("/admin/audit?" + urlencode(
            dict.fromkeys(("action", "actor", "target", "ip", "since", "until", "page"), v))), ()),
        ("look-up", lambda p, v: anonymous.post("/lookup", data={"csrf_token": token, "result_code": v,
                                                                 "holder_id": v}), ()),
        ("look-up, right code", lambda p, v: anonymous.post("/lookup", data={
            "csrf_token": token, "result_code": victims.citizen.code, "holder_id": v}), ()),
        ("look-up, right ID", lambda p, v: anonymous.post("/lookup", data={
            "csrf_token": token, "result_code": v, "holder_id": CCCD_A}), ()),
        ("verify page", lambda p, v: anonymous.get(f"/verify/{p}"), ()),
        ("verify api", lambda p, v: anonymous.get(f"/api/v1/verify/{p}"), ()),
        ("verify form", lambda p, v: anonymous.post("/verify", data={"csrf_token": token, "code": v}), ()),
        ("claim", lambda p, v: anonymous.post("/claim", data={
            "csrf_token": token, "code": v, "holder_id": v, "username": v, "full_name": v,
            "password": "mat-khau-dai-du", "confirm": "mat-khau-dai-du"}), ()),
        ("login", lambda p, v: anonymous.post("/login", data={"csrf_token": token, "username": v, "password": v}),
         ()),
    ]
    failures, sent = [], set()
    for number, (label, send, hidden) in enumerate(targets):
        for payload in payloads_for(number):
            sent.add(payload)
            response = send(_q(payload), payload)
            where = f"{label} {payload[:40]!r}"
            if response.status_code >= 500:
                failures.append(f"{where}: {response.status_code}")
                db.session.rollback()  # the test's session outlives the request, as a server's never does
                continue
            body = response.get_data(as_text=True)
            shown = [m for m in hidden if m in body and m not in payload]
            if shown:
                failures.append(f"{where}: shows {shown}")
            if label == "holder api" and not api_codes(response) <= mine:
                failures.append(f"{where}: {response.get_json()['results']}")
            if label.startswith("look-up") and "Tình trạng hôm nay" in body:
                failures.append(f"{where}: found a result")
            if label == "login" and response.status_code == 302:
                failures.append(f"{where}: logged in")
    assert not failures, "\n".join(failures)
    assert sent == set(EVERYWHERE).union(*KINDS.values()), "some payloads were never sent: add routes or payloads"
    assert db.session.scalar(select(func.count(User.id))) == users  # no claim opened an account
    # Still answering as before: nothing was dropped or rewritten.
    assert api_codes(holder.get("/api/v1/me/results")) == mine

def test_ids_past_what_the_database_holds_are_not_found(app, victims, world):
    """Every `<int:...>` of every route, with numbers past PostgreSQL's integer and SQLite's."""
    clients = {}
    for who in ("admin", "holder_a", "member_c"):
        clients[who] = app.test_client()
        login(clients[who], who)
    swept = 0
    for rule, method in routes(app):
        numbers = re.findall(r"<int:(\w+)>", rule.rule)
        if not numbers or method != "GET":
            continue
        for big in (2**31, 10**20):
            values = dict.fromkeys(rule.arguments, victims.citizen.code) | dict.fromkeys(numbers, big)
            with app.test_request_context():
                url = rule.build(values)[1]
            for client in clients.values():
                response = client.get(url)
                assert response.status_code in (302, 404), (url, response.status_code)
                swept += 1
    assert swept >= 30


# --- XSS -------------------------------------------------------------------------------------------

class _Page(HTMLParser):
    """The tags, attributes and text of a page, as a browser would read them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.chunks: list[str] = []
        self.feed(html)
        self.close()
        self.text = "".join(self.chunks)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.chunks.append(data)


def unsafe_markup(html: str, allowed_tags: set | None = None) -> list[str]:
    """What in `html` would run or fetch something: scripts of our own and local links only."""
    found = []
    for tag, attrs in _Page(html).tags:
        if allowed_tags is not None and tag not in allowed_tags:
            found.append(f"<{tag}>")
        if tag in ("iframe", "object", "embed", "style", "base", "frame", "link") and not (
                tag == "link" and attrs.get("href", "").startswith("/static/")):
            found.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                found.append(f"<{tag} {name}>")
            if name in ("href", "src", "action", "formaction", "srcset") and value.strip().lower().startswith(
                    ("javascript:", "http:", "https:", "file:", "//")) and tag != "a":
                found.append(f"<{tag} {name}={value[:40]}>")
            if name == "href" and value.strip().lower().startswith("javascript:"):
                found.append(f"<{tag} href=javascript:>")
        if tag == "script" and not attrs.get("src", "").startswith("/static/"):
            found.append("<script> not ours")
        if tag == "img" and not attrs.get("src", "").startswith(("/", "data:")):
            found.append(f"<img src={attrs.get('src', '')[:40]}>")
    return found


@pytest.fixture
def listener():
    """A real socket on 127.0.0.1 that a payload points at: the test sees whether anyone connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def _connections(server) -> int:
    count = 0
    while True:
        try:
            connection, _ = server.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


def hostile_metadata(port: int) -> dict:
    """Every text field of a result, its procedure, its unit and its people, each carrying a payload."""
    return {
        "unit": f'Phòng <img src="http://127.0.0.1:{port}/unit.png"> thử',
        "procedure_name": '<iframe src="file:///etc/passwd"></iframe> Cấp giấy phép thử',
        "field": f'<style>@import "http://127.0.0.1:{port}/field.css";</style> Lĩnh vực thử',
        "summary": '<script>alert("summary")</script> Giấy phép bức xạ',
        "holder_name": '"><img src=x onerror=alert("holder")>',
        "holder_address": 'javascript:alert("address")',
        "signer_name": f'<img src="http://127.0.0.1:{port}/signer.png">',
        "signer_title": '<link rel=stylesheet href="file:///etc/passwd">',
        "document_number": "9/GP&LT&GT-SKHCN",  # legacy entities: shown as "<>" if left unescaped
        "staff": '<script>alert("staff")</script>',
        "reviewer": "'><svg onload=alert('reviewer')>",
        "holder_account": '<a href="javascript:alert(1)">holder</a>',
        "reason": "<b onmouseover=alert('reason')>thu hồi</b>",
        "login": '<img src=x onerror=alert("login")>',
        "verify": '<svg onload=alert("verify")>',  # no slash: it is a path segment
    }


@pytest.fixture
def hostile(app, world, pdfs, listener):
    from portal.operations import accounts
    from portal.operations import results as ops

    payload = hostile_metadata(listener.getsockname()[1])
    accounts.create_unit(None, "000.09.21.H48", payload["unit"])
    accounts.save_procedure(None, "1.099999", payload["procedure_name"], payload["field"], None)
    world["staff_x"] = accounts.create_user(None, "staff_x", "staff", PASSWORD, unit_code="000.09.21.H48",
                                            full_name=payload["staff"])
    world["reviewer_x"] = accounts.create_user(None, "reviewer_x", "reviewer", PASSWORD, unit_code="000.09.21.H48",
                                               full_name=payload["reviewer"])
    world["holder_x"] = accounts.create_user(None, "holder_x", "holder", PASSWORD, holder_id=CCCD_B,
                                             full_name=payload["holder_account"])
    fields = {name: payload[name] for name in ("summary", "holder_name", "signer_name", "signer_title",
                                                "document_number")}
    result = make_result(world, pdfs[4], staff="staff_x", procedure_code="1.099999", holder_id=CCCD_B,
                         valid_until=None, **fields)
    result.holder_address = payload["holder_address"]  # make_result leaves the address out
    db.session.commit()
    revoked = make_result(world, pdfs[5], staff="staff_x", reviewer="reviewer_x", procedure_code="1.099999",
                          holder_id=CCCD_B, valid_until=None, **{**fields, "document_number": "10/GP-SKHCN"})
    ops.revoke(world["reviewer_x"], revoked, payload["reason"])
    return payload, result, revoked


def _holds_as_text(pdf: bytes, words: list[str]) -> None:
    """The certification page says each payload as it was typed; nothing was loaded into the copy."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    first = "".join(reader.pages[0].extract_text().split())  # lines wrap where the page ends
    missing = [w for w in words if "".join(w.split()) not in first]
    assert not missing, f"not in the copy as text: {missing}"
    passwd = Path("/etc/passwd").read_text().splitlines()[0]
    assert passwd not in "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages[0].images) <= 1  # the QR code, and no image fetched from a payload


def _shows_as_text(html: str, words: list[str], where: str) -> None:
    page = _Page(html)
    assert not unsafe_markup(html), (where, unsafe_markup(html))
    missing = [w for w in words if w not in page.text]
    assert not missing, f"{where}: not shown as text: {missing}"


def test_payloads_in_every_field_are_escaped_on_every_page_and_come_back_as_text_from_the_api(
        app, world, hostile, listener):
    from portal.models import AuditEvent

    payload, result, revoked = hostile
    p = payload
    staff, reviewer, holder, admin = (app.test_client() for _ in range(4))
    login(reviewer, "reviewer_x")
    queue = reviewer.get("/admin/review").get_data(as_text=True)
    _shows_as_text(queue, [p["document_number"], p["procedure_name"], p["signer_name"], p["signer_title"],
                           p["holder_name"], p["summary"], p["staff"]], "review queue")
    from portal.operations import results as ops

    ops.publish(world["reviewer_x"], result, seen_version=result.version)
    from portal import search

    search.sync()
    login(staff, "staff_x")
    login(holder, "holder_x")
    login(admin, "admin")
    # Staff, holder and anonymous looks, a wrong login and a bogus verification code: audit entries.
    staff_pages = {
        "admin list": ("/admin/results", [p["document_number"], p["holder_name"], p["unit"]]),
        "admin search": ("/admin/results?q=alert+summary", [p["document_number"], "summary"]),
        "admin result": (f"/admin/results/{result.id}", [
            p["summary"], p["procedure_name"], p["field"], p["unit"], p["signer_name"], p["signer_title"],
            p["holder_name"], p["holder_address"], p["document_number"], p["staff"], p["reviewer"]]),
        "revoked result": (f"/admin/results/{revoked.id}", [p["reason"], p["reviewer"]]),
        "plan": ("/admin/plan", [p["unit"]]),
    }
    for where, (url, words) in staff_pages.items():
        _shows_as_text(staff.get(url).get_data(as_text=True), words, where)

    holder_pages = {
        "holder list": ("/me/results", [p["summary"], p["document_number"], p["unit"], p["procedure_name"]]),
        "holder search": ("/me/results?q=alert+summary", [p["document_number"], "summary"]),
        "holder result": (f"/me/results/{result.code}", [
            p["summary"], p["procedure_name"], p["field"], p["unit"], p["signer_name"], p["signer_title"],
            p["holder_name"], p["holder_address"], p["document_number"]]),
        "revoked, holder": (f"/me/results/{revoked.code}", [p["reason"]]),
    }
    for where, (url, words) in holder_pages.items():
        _shows_as_text(holder.get(url).get_data(as_text=True), words, where)
    # The search snippets: the summary's words marked, nothing else but text.
    for client, url in ((staff, "/admin/results?q=alert+summary"), (holder, "/me/results?q=alert+summary")):
        html = client.get(url).get_data(as_text=True)
        assert '<mark class="match' in html and "&lt;script&gt;" in html, url

    token = csrf_token(holder, f"/me/results/{result.code}")
    issued = holder.post(f"/api/v1/me/results/{result.code}/copies", headers={"X-CSRFToken": token})
    assert issued.status_code == 201, issued.get_data(as_text=True)
    copy = issued.get_json()
    assert _connections(listener) == 0  # the renderer fetched nothing
    pdf = holder.get(f"/me/copies/{copy['verification_code'].replace('-', '')}.pdf")
    assert pdf.status_code == 200
    _holds_as_text(pdf.data, [p[name] for name in ("procedure_name", "field", "document_number", "summary", "unit",
                                                   "signer_name", "signer_title", "holder_name", "holder_account")])

    anonymous = app.test_client()
    anonymous.get(f"/verify/{quote(p['verify'], safe='')}")
    anonymous.post("/login", data={"csrf_token": csrf_token(anonymous, "/login"), "username": p["login"],
                                   "password": "x"})
    verify = anonymous.get(f"/verify/{copy['verification_code']}").get_data(as_text=True)
    _shows_as_text(verify, [p["procedure_name"], p["document_number"], p["unit"]], "verify page")
    _shows_as_text(holder.get("/me/copies").get_data(as_text=True), [p["document_number"], p["procedure_name"]],
                   "my copies")
    _shows_as_text(holder.get("/me/access").get_data(as_text=True), [p["staff"], p["unit"]],
                   "who looked")
    _shows_as_text(staff.get("/admin/copies").get_data(as_text=True),
                   [p["holder_name"], p["holder_account"], p["document_number"]], "copies register")
    assert db.session.scalars(select(AuditEvent.target).where(AuditEvent.action == "copy.verify")).first()
    admin_pages = {
        "audit log": ("/admin/audit", [p["staff"], p["reviewer"], p["holder_account"], p["login"], p["verify"]]),
        "audit, filtered": (f"/admin/audit?actor={quote(p['staff'])}", [p["staff"]]),
        "units": ("/admin/units", [p["unit"]]),
        "users": ("/admin/users", [p["staff"], p["reviewer"], p["holder_account"]]),
        "procedures": ("/admin/procedures", [p["procedure_name"], p["field"]]),
    }
    for where, (url, words) in admin_pages.items():
        _shows_as_text(admin.get(url).get_data(as_text=True), words, where)

    # The API gives the values back exactly, as JSON; a snippet's only markup is <mark>.
    listed = holder.get("/api/v1/me/results")
    assert listed.mimetype == "application/json"
    item = next(r for r in listed.get_json()["results"] if r["code"] == result.code)
    assert (item["title"], item["document_number"], item["procedure_name"], item["field"], item["unit"]) == (
        p["summary"], p["document_number"], p["procedure_name"], p["field"], p["unit"])
    found = holder.get("/api/v1/me/results?q=alert+summary").get_json()["results"]
    snippet = next(r["snippet"] for r in found if r["code"] == result.code)
    assert "<mark" in snippet and not unsafe_markup(snippet, allowed_tags={"mark"})
    assert _Page(snippet).text in p["summary"] or p["summary"] in _Page(snippet).text
    copies = holder.get("/api/v1/me/copies")
    assert copies.mimetype == "application/json"
    verified = anonymous.get(f"/api/v1/verify/{copy['verification_code']}")
    assert verified.mimetype == "application/json"
    facts = verified.get_json()["result"]
    assert (facts["title"], facts["document_number"]) == (p["procedure_name"], p["document_number"])
    assert facts["issuing_unit"].startswith(p["unit"])
    assert _connections(listener) == 0
