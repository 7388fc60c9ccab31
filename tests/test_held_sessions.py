"""Issue 12, what held: strict CSP, frame, nosniff, referrer and cache headers on every kind of page;
the session cookie's flags; a new cookie at login; a password change and "log out everywhere" end
the cookies kept from before them."""

from __future__ import annotations

import pytest

from portal.views import CSP

from .conftest import PASSWORD, csrf_token, login, make_app


def assert_security_headers(response) -> None:
    headers = response.headers
    where = f"{response.request.method} {response.request.path} ({response.status_code})"
    assert headers.get("Content-Security-Policy") == CSP, where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "same-origin", where
    if not response.request.path.startswith("/static/"):
        assert headers.get("Cache-Control") == "no-store", where


def test_the_policy_is_strict():
    directives = dict(part.strip().split(" ", 1) for part in CSP.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'" and directives["form-action"] == "'self'"
    assert "unsafe" not in CSP and "*" not in CSP


def test_every_kind_of_page_carries_the_security_headers(app, victims, world):
    citizen = victims.citizen
    pages = {
        None: ["/", "/login", "/claim", "/verify", f"/verify/{victims.copies[0].verification_code}",
               "/verify/KHONGCOMA", "/healthz", "/api/v1/openapi.json", "/me/results",
               f"/api/v1/verify/{victims.copies[0].verification_code}", "/khong-co-trang-nay"],
        "holder_a": ["/me/results", f"/me/results/{citizen.code}", f"/me/results/{citizen.code}/file",
                     f"/me/results/{citizen.code}/pages/1.png", "/me/copies",
                     f"/me/copies/{victims.copies[0].verification_code}.pdf", "/me/access", "/account/password",
                     "/api/v1/me/results", "/api/v1/me/copies", "/api/v1/me/results/nope/copies"],
        "staff_a": ["/admin/results", f"/admin/results/{citizen.id}", f"/admin/results/{citizen.id}/file",
                    f"/admin/results/{citizen.id}/pages/1.png", "/admin/review", "/admin/copies", "/admin/plan",
                    "/admin/plan/report?format=csv", f"/admin/imports/{victims.batch.id}/report.csv",
                    "/admin/units"],
        "admin": ["/admin/units", "/admin/users", "/admin/procedures", "/admin/audit"],
    }
    seen = set()
    for who, urls in pages.items():
        client = app.test_client()
        if who:
            login(client, who)
        for url in urls:
            response = client.get(url)
            assert_security_headers(response)
            seen.add(response.status_code)
    assert {200, 302, 403, 404, 405} <= seen
    static = app.test_client().get("/static/portal.css")
    assert static.status_code == 200
    assert_security_headers(static)


def test_the_session_cookie_is_httponly_lax_and_secure_when_asked(db_url, tmp_path, world, monkeypatch):
    monkeypatch.setenv("PORTAL_SECURE_COOKIES", "1")
    secure = make_app(db_url, tmp_path / "secure")
    client = secure.test_client()
    token = csrf_token(client, "https://localhost/login")
    response = client.post("https://localhost/login", data={"csrf_token": token, "username": "staff_a",
                                                            "password": PASSWORD},
                           headers={"Referer": "https://localhost/login"})  # CSRF checks it over HTTPS
    assert response.status_code == 302
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    flags = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")[1:]}
    assert "httponly" in flags and "secure" in flags and flags["samesite"].strip() == "SameSite=Lax", cookie
    assert client.get("https://localhost/admin/results").status_code == 200

    monkeypatch.setenv("PORTAL_SECURE_COOKIES", "0")
    plain = make_app(db_url, tmp_path / "plain")
    cookie = next(c for c in login(plain.test_client(), "staff_a").headers.getlist("Set-Cookie")
                  if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _with_cookie(app, value: str):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_logging_in_gives_a_new_cookie_and_the_one_from_before_opens_nothing(app, client, world):
    csrf_token(client, "/login")
    before = _cookie(client)
    login(client, "holder_a")
    after = _cookie(client)
    assert after != before
    assert client.get("/me/results").status_code == 200
    replayed = _with_cookie(app, before).get("/me/results")
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]


@pytest.mark.parametrize("how", ["password change", "log out everywhere"])
def test_cookies_kept_from_before_a_password_change_or_logging_out_everywhere_open_nothing(app, client, world, how):
    login(client, "holder_a")
    kept = _cookie(client)
    other_device = app.test_client()
    login(other_device, "holder_a")
    kept_elsewhere = _cookie(other_device)
    assert _with_cookie(app, kept).get("/me/results").status_code == 200
    token = csrf_token(client, "/account/password")
    if how == "password change":
        done = client.post("/account/password", data={"csrf_token": token, "current": PASSWORD,
                                                       "new": "mot-mat-khau-moi", "confirm": "mot-mat-khau-moi"})
    else:
        done = client.post("/account/logout-everywhere", data={"csrf_token": token})
    assert done.status_code == 302
    for value in (kept, kept_elsewhere):
        replayed = _with_cookie(app, value).get("/me/results")
        assert replayed.status_code == 302 and "/login" in replayed.headers["Location"], how
        api = _with_cookie(app, value).get("/api/v1/me/results")
        assert api.status_code == 401, how
