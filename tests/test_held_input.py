"""Issue 12, what held: SQL injection and search syntax in every search box and filter give no
error and never widen what the caller sees; XSS payloads in every metadata field are escaped on
every page, snippet, audit page and API answer and are literal text inside a certified copy, whose
renderer fetches nothing."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import User

from .conftest import CCCD_A, CCCD_B, MST_C, csrf_token, login
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
