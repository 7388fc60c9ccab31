"""Issue 12, what held: every holder, staff, admin and API route refuses anonymous callers, another
citizen, a removed business member and the other unit's staff; every form and the JSON API refuse
a missing or foreign CSRF token (and the API form-encoded and text/plain bodies).

Routes come from `app.url_map`, never from a list: a route added later is swept too, and one that
no class below covers fails `test_every_route_is_in_a_class` until it is classified.
"""

from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    ApiClient,
    CertifiedCopy,
    ClaimCode,
    CopyShare,
    CorrectionRequest,
    ImportBatch,
    InventoryCount,
    OutboxMessage,
    Procedure,
    Result,
    ResultFile,
    Setting,
    StoredFile,
    Unit,
    User,
)

from .conftest import PASSWORD, csrf_token, login
from .test_held_sessions import assert_security_headers

# (class, blueprint, path prefixes), first match wins: admin-only pages before the rest of /admin/.
CLASSES = [
    ("admin", "admin", ("/admin/units", "/admin/users", "/admin/procedures", "/admin/audit", "/admin/settings",
                        "/admin/api-clients",
                        "/admin/sync/")),  # /admin/sync (the list) is staff's; sending again is an admin's
    ("admin", "admin", ("/admin/archive",)),  # the transfer register (tests/test_archive.py)
    # /admin/jobs (the background queues) is staff's too: their unit's import jobs; the other queues
    # are shown to an admin only (tests/test_job_leases.py).
    ("staff", "admin", ("/admin/",)),
    ("holder", "me", ("/me/",)),
    ("api", "api", ("/api/v1/me/",)),
    ("public", "api", ("/api/v1/verify/", "/api/v1/openapi.json")),
    ("account", "account", ("/account/",)),
    ("public", "account", ("/login", "/logout", "/claim")),
    # The national data store fetches a file through a signed, expiring link (portal/national_store.py).
    ("public", "public", ("/national-store/files/",)),
    ("public", "public", ("/",)),
    # The privacy notice (issue 18): for anyone, before they have an account.
    ("public", "privacy", ("/quyen-rieng-tu",)),
    ("public", "verify", ("/verify",)),
    # A share link: whoever has its token (tests/test_shares.py), rate-limited.
    ("public", "shares", ("/share/",)),
    # A unit's one-stop-shop system: a bearer token only (tests/test_push.py); no session reaches these.
    ("client", "machine", ("/oauth/token", "/api/v1/results/")),
]
# Who is swept on each class. A signed-in caller's /account/ pages are their own account.
CALLERS = {
    "admin": ("anonymous", "holder_b", "removed_c", "staff_b", "reviewer_b"),
    "staff": ("anonymous", "holder_b", "removed_c", "staff_b", "reviewer_b"),
    "holder": ("anonymous", "holder_b", "removed_c", "staff_b", "reviewer_b"),
    "api": ("anonymous", "holder_b", "removed_c", "staff_b", "reviewer_b"),
    "account": ("anonymous", "removed_c"),
    "client": ("anonymous", "holder_b", "removed_c", "staff_b", "reviewer_b"),
}
# Bearer-token routes: a cookie counts for nothing there, so a forged cross-site request carries no
# credentials and the CSRF sweeps below do not apply (test_push.py checks their refusals instead).
NO_COOKIE_CLASSES = {"client"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_PAGE_WORDS = "Phiên làm việc đã hết hạn"


def routes(app):
    """(rule, method) for every route but the static files."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint != "static":
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def route_class(rule) -> str | None:
    blueprint = rule.endpoint.rpartition(".")[0]
    for name, owner, prefixes in CLASSES:
        if blueprint == owner and rule.rule.startswith(prefixes):
            return name
    return None


def param_values(rule, v) -> dict[str, list]:
    """Real ids and codes of the victims' things for each parameter of `rule`."""
    values = {
        "result_id": [r.id for r in v.results],
        "batch_id": [v.batch.id],
        "page_number": [1],
        "token": [held_token_of_staff_a(v)] if "<token>" in rule.rule else [],
        "unit_id": [v.unit_a.id],
        "client_id": [api_client_of_unit_a(v)] if "client_id" in rule.arguments else [],
        "procedure_id": [v.procedure.id],
        "slip_id": [v.slip.id],
        "share_id": shares_of_victims(v) if "share_id" in rule.arguments else [],
        "export_id": exports_of_victims(v) if "export_id" in rule.arguments else [],
        "correction_id": corrections_of_victims(v) if "correction_id" in rule.arguments else [],
        "message_id": [m.id for m in v.messages],
        "user_id": [m.id for m in v.members] if rule.rule.startswith("/me/") else [v.users[0].id],
        "code": ([c.verification_code for c in v.copies] if "/copies/<code>" in rule.rule
                 else [r.code for r in v.results]),
    }
    missing = set(rule.arguments) - set(values)
    assert not missing, f"{rule.rule}: give the parameters {sorted(missing)} a victim's value in param_values()"
    combos = [{}]
    for name in sorted(rule.arguments):
        combos = [{**combo, name: value} for combo in combos for value in values[name]]
    return combos


def held_token_of_staff_a(v) -> str:
    """A scan held for unit A's clerk (portal/operations/held.py): nobody else may see it."""
    if not hasattr(v, "held_token"):
        from portal.operations import held
        from portal.scans import Spooled, prepare
        from portal.storage import storage

        with storage().open_verified(v.draft.document.sha256) as fh:
            path, sha, size = storage().spool(fh)
        staff_a = db.session.scalars(select(User).where(User.username == "staff_a")).one()
        v.held_token = held.hold(staff_a, prepare(storage(), Spooled(path, sha, size, ""), "giu.pdf")).token
    return v.held_token


def api_client_of_unit_a(v) -> int:
    """Unit A's machine client (portal/operations/api_clients.py): only an admin rotates or revokes it."""
    if not hasattr(v, "api_client_id"):
        from portal.operations import api_clients

        v.api_client_id = api_clients.create_client(None, "Một cửa đơn vị A", v.unit_a.code)[0].id
    return v.api_client_id


def shares_of_victims(v) -> list[int]:
    """Share links of citizen A's and business C's copies (portal/operations/shares.py)."""
    if not hasattr(v, "share_ids"):
        from portal.operations import shares

        holder_a = db.session.scalars(select(User).where(User.username == "holder_a")).one()
        member_c = db.session.scalars(select(User).where(User.username == "member_c")).one()
        made = [shares.create(holder_a, v.copies[0], "Ngân hàng của nạn nhân A", 3),
                shares.create(member_c, v.copies[1], "Ngân hàng của doanh nghiệp C", 3)]
        v.share_ids = [m.share.id for m in made]
        v.markers += ["Ngân hàng của nạn nhân A", "Ngân hàng của doanh nghiệp C"]
    return v.share_ids


def exports_of_victims(v) -> list[int]:
    """Built exports of citizen A's and business C's data (portal/operations/mydata.py): only the
    account that asked downloads one."""
    if not hasattr(v, "export_ids"):
        from portal.models import DataExport
        from portal.operations import mydata

        owners = db.session.scalars(select(User).where(User.username.in_(("holder_a", "member_c")))).all()
        for owner in owners:
            mydata.request_export(owner)
        while (job := mydata.claim_next_export()) is not None:  # an attacker's own request may be queued too
            mydata.run_export(job)
        v.export_ids = db.session.scalars(select(DataExport.id).where(
            DataExport.user_id.in_([o.id for o in owners]), DataExport.status == "done")).all()
        assert len(v.export_ids) == 2
    return v.export_ids
def corrections_of_victims(v) -> list[int]:
    """Requests to correct citizen A's and business C's results (portal/operations/corrections.py)."""
    if not hasattr(v, "correction_ids"):
        from portal.operations import corrections

        holder_a, member_c = (db.session.scalars(select(User).where(User.username == name)).one()
                              for name in ("holder_a", "member_c"))
        v.correction_ids = [corrections.submit(holder_a, v.citizen, "holder_name", "Tên đúng của nạn nhân A").id,
                            corrections.submit(member_c, v.business, "summary", "Trích yếu đúng của C").id]
    return v.correction_ids


def urls_for(app, rule, v) -> list[str]:
    with app.test_request_context():
        return [url_for(rule.endpoint, **combo) for combo in param_values(rule, v)]


def own_token(client) -> str:
    """The caller's own CSRF token, so that what refuses them is the access rule, not the token."""
    page = client.get("/account/password")
    return csrf_token(client, "/account/password" if page.status_code == 200 else "/login")


def state() -> tuple:
    """Everything an attack could change (audit events aside: refusals are recorded)."""
    db.session.expire_all()
    rows = [
        db.session.execute(select(Result.id, Result.status, Result.summary, Result.holder_name, Result.unit_id,
                                  Result.updated_at).order_by(Result.id)).all(),
        db.session.execute(select(User.id, User.active, User.role, User.password_hash, User.business_manager,
                                  User.totp_secret, User.unit_id, User.holder_id, User.full_name)
                           .order_by(User.id)).all(),
        db.session.execute(select(Setting.key, Setting.value).order_by(Setting.key)).all(),
        db.session.execute(select(Unit.id, Unit.name, Unit.active, Unit.push_publishes).order_by(Unit.id)).all(),
        db.session.execute(select(ApiClient.id, ApiClient.secret_hash, ApiClient.revoked_at).order_by(ApiClient.id))
        .all(),
        db.session.execute(select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.next_attempt_at)
                           .order_by(OutboxMessage.id)).all(),
        db.session.execute(select(Procedure.id, Procedure.name, Procedure.field, Procedure.retention_years,
                                  Procedure.active).order_by(Procedure.id)).all(),
        db.session.execute(select(CopyShare.id, CopyShare.revoked_at, CopyShare.expires_at).order_by(CopyShare.id))
        .all(),
        db.session.execute(select(CorrectionRequest.id, CorrectionRequest.status, CorrectionRequest.replacement_id)
                           .order_by(CorrectionRequest.id)).all(),
    ]
    counts = [db.session.scalar(select(func.count()).select_from(model))
              for model in (CertifiedCopy, CopyShare, ClaimCode, ImportBatch, InventoryCount, ResultFile, StoredFile)]
    return tuple(map(tuple, rows)) + tuple(counts)


HOSTILE = {"phase": "2", "results": "5", "pages": "9", "note": "x", "reason": "Lý do thử nghiệm",
           "return-reason": "Lý do thử nghiệm", "revoke-reason": "Lý do thử nghiệm", "username": "ke-gian",
           "password": "mat-khau-ke-gian-1", "full_name": "Kẻ gian", "current": PASSWORD, "new": "mat-khau-moi-12",
           "confirm": "mat-khau-moi-12", "role": "admin", "name": "Đổi tên", "field": "x", "code": "000.09.21.H48",
           "active": "y", "summary": "Sửa trái phép"}


def _refused(response) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


def test_every_route_is_in_a_class(app):
    unclassified = sorted({f"{rule.endpoint} {rule.rule}" for rule, _ in routes(app) if route_class(rule) is None})
    assert not unclassified, ("routes no access class covers; add them to CLASSES in this file (and their "
                              f"parameters to param_values): {unclassified}")
    swept = {route_class(rule) for rule, _ in routes(app)}
    assert {"admin", "staff", "holder", "api", "account", "public"} <= swept


def test_every_protected_route_refuses_every_stranger(app, victims):
    api_client_of_unit_a(victims)  # made before the state is taken
    shares_of_victims(victims)
    corrections_of_victims(victims)
    before = initial = state()
    failures, requests = [], 0
    for rule, method in routes(app):
        kind = route_class(rule)
        if kind not in CALLERS:
            continue
        parameterized = bool(set(rule.arguments) - {"page_number"})
        for url in urls_for(app, rule, victims):
            for who in CALLERS[kind]:
                client = victims.clients[who]
                kwargs = {}
                if method in STATE_CHANGING:
                    token = own_token(client)
                    kwargs = {"data": {**HOSTILE, "csrf_token": token, "unit_id": str(victims.unit_a.id),
                                       "result_id": [str(r.id) for r in victims.results]},
                              "headers": {"X-CSRFToken": token}}
                response = client.open(url, method=method, **kwargs)
                requests += 1
                assert_security_headers(response)
                where = f"{who} {method} {url} -> {response.status_code}"
                if response.status_code >= 500:
                    failures.append(where)
                elif not _refused(response):
                    body = response.get_data().decode(errors="replace")  # a report may be a spreadsheet
                    leaked = [m for m in victims.markers if m in body]
                    if parameterized or leaked:
                        failures.append(f"{where}: not refused; shows {leaked}")
                if method in STATE_CHANGING and state() != before:
                    failures.append(f"{where}: changed the database")
                    before = state()
    assert requests > 300
    assert not failures, "\n".join(failures)
    assert state() == initial  # nor did any GET


# --- CSRF ------------------------------------------------------------------------------------------

LEGIT = {"public": "anonymous", "account": "holder_a", "holder": "holder_a", "api": "holder_a", "staff": "reviewer_a",
         "admin": "admin"}
LEGIT_BY_ENDPOINT = {"me.members": "member_c", "me.remove_member": "member_c", "me.member_manager": "member_c",
                     "account.logout": "holder_a"}


def legit_url(app, rule, v) -> str:
    """The route as its rightful user would post to it."""
    values = {"result_id": v.draft.id, "unit_id": v.unit_a.id, "procedure_id": v.procedure.id,
              "user_id": v.members[1].id if rule.rule.startswith("/me/") else v.users[1].id,
              "code": v.copies[0].verification_code if rule.rule.startswith("/verify/") or "/copies/<code>" in rule.rule
              else v.citizen.code,
              "share_id": shares_of_victims(v)[0] if "share_id" in rule.arguments else None,
              "correction_id": corrections_of_victims(v)[0] if "correction_id" in rule.arguments else None,
              "page_number": 1, "batch_id": v.batch.id, "slip_id": v.slip.id, "message_id": v.messages[0].id,
              "client_id": api_client_of_unit_a(v) if "client_id" in rule.arguments else None}
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})


def _csrf_refusal(response, kind) -> bool:
    if response.status_code != 400:
        return False
    if kind == "api":
        return response.is_json and response.get_json()["error"] == "csrf"
    return CSRF_PAGE_WORDS in response.get_data(as_text=True)


def test_every_form_and_the_api_refuse_a_missing_or_foreign_csrf_token(app, victims, world):
    clients = {"anonymous": app.test_client()}
    for who in ("holder_a", "member_c", "reviewer_a", "admin"):
        clients[who] = app.test_client()
        login(clients[who], who)
    stranger = app.test_client()
    foreign = csrf_token(stranger, "/login")  # a token of another session
    api_client_of_unit_a(victims)  # made before the state is taken
    shares_of_victims(victims)
    corrections_of_victims(victims)
    before = state()
    failures, posted = [], set()
    for rule, method in routes(app):
        if method not in STATE_CHANGING:
            continue
        kind = route_class(rule)
        if kind in NO_COOKIE_CLASSES:
            continue
        who = LEGIT_BY_ENDPOINT.get(rule.endpoint) or LEGIT[kind]
        client, url = clients[who], legit_url(app, rule, victims)
        csrf_token(client, "/login" if who == "anonymous" else "/account/password")  # the session has its own
        body = {**HOSTILE, "username": "holder_a", "password": PASSWORD, "result_code": victims.citizen.code,
                "unit_id": str(victims.unit_a.id),
                "holder_id": victims.citizen.holder_id, "result_id": [str(victims.draft.id)]}
        attempts = {
            "no token": {"data": body},
            "foreign token": {"data": {**body, "csrf_token": foreign}, "headers": {"X-CSRFToken": foreign}},
        }
        for label, kwargs in attempts.items():
            response = client.open(url, method=method, **kwargs)
            if not _csrf_refusal(response, kind):
                failures.append(f"{who} {method} {url} with {label}: {response.status_code}")
            if state() != before:
                failures.append(f"{who} {method} {url} with {label}: changed the database")
                before = state()
        posted.add(rule.endpoint)
    assert len(posted) >= 20, posted
    assert not failures, "\n".join(failures)
    # The sessions the refusals rode on are still open: nothing was done in their name, not even a logout.
    assert clients["holder_a"].get("/me/results").status_code == 200


def test_the_api_refuses_form_encoded_and_text_plain_bodies(app, victims, world):
    """What a cross-site form can send (no custom header) never changes state through the API."""
    client = app.test_client()
    login(client, "holder_a")
    own = own_token(client)
    foreign = csrf_token(app.test_client(), "/login")
    shares_of_victims(victims)
    corrections_of_victims(victims)
    before = state()
    api_routes = [(rule, method) for rule, method in routes(app)
                  if route_class(rule) == "api" and method in STATE_CHANGING]
    assert api_routes
    for rule, method in api_routes:
        url = legit_url(app, rule, victims)
        for content_type, data in (
            ("application/x-www-form-urlencoded", "x=1"),
            ("application/x-www-form-urlencoded", f"csrf_token={foreign}"),
            ("text/plain", '{"recipient": "ke-gian", "days": 30}'),
            ("text/plain", f"csrf_token={own}"),  # a text/plain form: not a form field to Flask
            ("application/json", '{"recipient": "ke-gian", "days": 30}'),
        ):
            response = client.open(url, method=method, data=data, content_type=content_type)
            assert response.status_code == 400 and response.get_json()["error"] == "csrf", (url, content_type, data)
            assert response.mimetype == "application/json"
            assert state() == before, (url, content_type)

