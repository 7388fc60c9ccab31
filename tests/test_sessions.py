"""Logging in and staying logged in: throttled guesses that never lock the owner out, sessions that
end on the server (logout, password change, log out everywhere, idle, too long), only local
redirects after login, and the password rule."""

import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, select
from werkzeug import security

from portal.extensions import db
from portal.models import AuditEvent, LoginThrottle, UserSession
from portal.operations import accounts, sessions, throttle

from .conftest import PASSWORD, csrf_token, login

ELSEWHERE = {"REMOTE_ADDR": "10.1.2.3"}


def _try(client, username, password, environ=None, next_url=None):
    token = csrf_token(client, "/login")
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"csrf_token": token, "username": username, "password": password},
                       environ_base=environ or {})


def _text(response) -> str:
    return response.get_data(as_text=True)


# --- guessing passwords -------------------------------------------------------------------

def test_guesses_slow_down_the_guesser_and_never_lock_the_owner_out(clock, app, client, world):
    for _ in range(throttle.FREE_PER_ACCOUNT):
        assert sessions.WRONG in _text(_try(client, "staff_a", "sai-mat-khau"))
    assert sessions.WRONG in _text(_try(client, "staff_a", "sai-mat-khau"))  # counted: the next one waits
    waiting = _text(_try(client, "staff_a", PASSWORD))
    assert "Vui lòng chờ 2 giây" in waiting  # even the right password, from this address
    # The owner, at another address, logs in as usual: nobody can lock an account for everyone.
    assert _try(app.test_client(), "staff_a", PASSWORD, environ=ELSEWHERE).status_code == 302
    clock.shift(timedelta(seconds=3))
    assert _try(client, "staff_a", PASSWORD).status_code == 302
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("login.failed") == 4 and "login.throttled" in actions


def test_the_wait_doubles_with_each_failure_up_to_fifteen_minutes(clock, client, world):
    waits = []
    for _ in range(throttle.FREE_PER_ACCOUNT + 12):
        page = _text(_try(client, "reviewer_a", "sai-mat-khau"))
        assert sessions.WRONG in page or "Vui lòng chờ" in page
        wait = throttle.wait(throttle.login_keys("reviewer_a", "127.0.0.1"))
        if wait:
            waits.append(wait)
            clock.shift(timedelta(seconds=wait + 1))
    assert waits[:5] == [2, 4, 8, 16, 32] and max(waits) == 15 * 60 and waits[-1] == 15 * 60
    # An hour without failures and the count starts again.
    clock.shift(timedelta(hours=1, minutes=1))
    assert sessions.WRONG in _text(_try(client, "reviewer_a", "sai-mat-khau"))
    assert throttle.wait(throttle.login_keys("reviewer_a", "127.0.0.1")) is None


def test_unknown_and_known_usernames_get_the_same_answers(clock, client, world):
    def answers(username):
        seen = [_text(_try(client, username, "sai-mat-khau")) for _ in range(throttle.FREE_PER_ACCOUNT + 2)]
        return [("wrong" if sessions.WRONG in page else "wait" if "Vui lòng chờ" in page else "other")
                for page in seen]

    assert answers("khong-ton-tai") == answers("congdan-khong-co") == answers("staff_b")
    assert answers("staff_b")[-1] == "wait"


def test_one_address_trying_many_usernames_waits_too(clock, app, client, world):
    for n in range(throttle.FREE_PER_ADDRESS + 1):
        _try(client, f"thu-{n}", "sai-mat-khau")
    assert "Vui lòng chờ" in _text(_try(client, "staff_b", PASSWORD))
    assert _try(app.test_client(), "staff_b", PASSWORD, environ=ELSEWHERE).status_code == 302


def test_an_unknown_user_costs_a_password_hash_like_a_known_one(app, client, world, monkeypatch):
    """A quick "no" for an unknown username tells which usernames exist: both verify a hash."""
    calls = []
    real = security.check_password_hash
    monkeypatch.setattr(security, "check_password_hash", lambda *a: calls.append(a) or real(*a))
    monkeypatch.setattr(sessions, "check_password_hash", security.check_password_hash)
    from portal.models import users

    monkeypatch.setattr(users, "check_password_hash", security.check_password_hash)
    _try(client, "khong-ton-tai", "sai-mat-khau")
    _try(client, "staff_a", "sai-mat-khau")
    assert len(calls) == 2
    assert calls[0][0].split("$")[0] == calls[1][0].split("$")[0]  # the same method and cost


@pytest.mark.slow
def test_an_unknown_user_takes_as_long_as_a_known_one(app, world):
    """With the production hash (scrypt), a failure for an unknown username takes about as long as
    one for a real user (before: ~10 ms against ~106 ms). A generous bound: this compares, not times."""
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    world["staff_a"].set_password(PASSWORD)
    db.session.commit()

    def cost(username):
        start = time.perf_counter()
        with pytest.raises(sessions.OperationError):
            sessions.check_credentials(username, "sai-mat-khau")
        return time.perf_counter() - start

    known, unknown = [], []
    for n in range(5):  # interleaved, so that a busy moment costs both alike
        known.append(cost("staff_a"))
        unknown.append(cost(f"khong-ton-tai-{n}"))
        db.session.execute(delete(LoginThrottle))
        db.session.commit()
    assert statistics.median(unknown) > 0.5 * statistics.median(known)


# --- sessions end on the server ------------------------------------------------------------

def _cookie(client) -> str:
    return client.get_cookie("session").value


def _with_cookie(app, value):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_a_cookie_kept_from_before_logout_opens_nothing(app, client, world, pdfs):
    login(client, "holder_a")
    kept = _cookie(client)
    assert _with_cookie(app, kept).get("/me/results").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/me/results")})
    replay = _with_cookie(app, kept)
    assert replay.get("/me/results").status_code == 302
    assert replay.get("/api/v1/me/results").status_code == 401
    record = db.session.scalars(select(UserSession)).one()
    assert record.ended_at is not None and record.end_reason == "logout"


def test_a_new_cookie_at_login_and_nothing_kept_from_before(client, world):
    token_before = csrf_token(client, "/login")
    before = _cookie(client)
    login(client, "staff_a")
    assert _cookie(client) != before
    # A CSRF token known before the login (planted with a cookie, say) is worth nothing after it.
    stale = client.post("/account/logout-everywhere", data={"csrf_token": token_before})
    assert stale.status_code == 400
    assert client.get("/admin/results").status_code == 200


def test_password_change_ends_the_other_sessions(app, client, world):
    other = app.test_client()
    login(client, "holder_a")
    login(other, "holder_a")
    url = "/account/password"
    wrong = client.post(url, data={"csrf_token": csrf_token(client, url), "current": "sai",
                                   "new": "mot-mat-khau-moi", "confirm": "mot-mat-khau-moi"})
    assert "Mật khẩu hiện tại không đúng." in _text(wrong)
    mismatch = client.post(url, data={"csrf_token": csrf_token(client, url), "current": PASSWORD,
                                      "new": "mot-mat-khau-moi", "confirm": "mot-mat-khau-khac"})
    assert "không khớp" in _text(mismatch)
    done = client.post(url, data={"csrf_token": csrf_token(client, url), "current": PASSWORD,
                                  "new": "mot-mat-khau-moi", "confirm": "mot-mat-khau-moi"})
    assert done.status_code == 302
    assert client.get("/me/results").status_code == 200  # this session goes on
    assert other.get("/me/results").status_code == 302  # the other one has ended
    assert _try(app.test_client(), "holder_a", "mot-mat-khau-moi").status_code == 302


def test_logout_everywhere(app, client, world):
    other = app.test_client()
    login(client, "staff_a")
    login(other, "staff_a")
    page = _text(client.get("/account/password"))
    assert page.count('<tr><td data-label="Đăng nhập lúc">') == 2 and "(phiên này)" in page  # both sessions listed
    token = csrf_token(client, "/account/password")
    assert client.post("/account/logout-everywhere", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/results").status_code == 302
    assert other.get("/admin/results").status_code == 302
    login(client, "staff_a")
    assert client.get("/admin/results").status_code == 200


def test_an_account_closed_or_changed_by_an_admin_ends_its_sessions(app, client, world):
    login(client, "staff_b")
    accounts.update_user(world["admin"], world["staff_b"], role="staff", full_name="", active=False,
                         unit_code="000.04.21.H48")
    assert client.get("/admin/results").status_code == 302


@pytest.mark.parametrize("who, idle", [("staff_a", 30), ("holder_a", 60)])
def test_an_idle_session_ends_by_itself(clock, client, world, who, idle):
    login(client, who)
    home = "/admin/results" if who == "staff_a" else "/me/results"
    clock.shift(timedelta(minutes=idle - 1))
    assert client.get(home).status_code == 200  # still there, and this request counts as activity
    clock.shift(timedelta(minutes=idle - 1))
    assert client.get(home).status_code == 200
    clock.shift(timedelta(minutes=idle + 1))
    response = client.get(home)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "lâu không thao tác" in _text(client.get(response.headers["Location"]))
    record = db.session.scalars(select(UserSession)).one()
    assert record.end_reason == "idle"


def test_idle_limits_are_settings(clock, app, client, world):
    app.config["SESSION_IDLE_MINUTES_STAFF"] = 5
    login(client, "staff_a")
    clock.shift(timedelta(minutes=6))
    assert client.get("/admin/results").status_code == 302


def test_a_session_ends_after_twelve_hours_however_busy(clock, client, world):
    login(client, "holder_a")
    for _ in range(12 * 3):
        clock.shift(timedelta(minutes=20))
        if client.get("/me/results").status_code != 200:
            break
    assert client.get("/me/results").status_code == 302
    assert db.session.scalars(select(UserSession)).one().end_reason == "expired"


def test_a_session_moved_to_another_address_ends(client, world):
    # Flask-Login's strong session protection: a stolen cookie used elsewhere is worthless.
    login(client, "staff_a")
    assert client.get("/admin/results").status_code == 200
    assert client.get("/admin/results", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, world):
    response = login(client, "staff_a")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- where a login leads -------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "/%09/evil.example", "/%0a", "/%0d%0aSet-Cookie:x=1", "//evil.example", "https://evil.example/",
    "/\\evil.example", "%2F%2Fevil.example", "javascript:alert(1)", "/%5Cevil.example", "/khong-co-trang-nay",
    "/static/../..//evil.example", "/static/%2e%2e/%2e%2e//evil.example",
])
def test_login_never_leads_outside_the_portal(client, world, target):
    response = _try(client, "holder_a", PASSWORD, next_url=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location in ("/", "http://localhost/"), location


def test_login_leads_back_to_the_page_asked_for(client, world):
    asked = client.get("/me/results?q=giay%20phep")
    assert asked.status_code == 302
    response = client.post(asked.headers["Location"], data={
        "csrf_token": csrf_token(client, "/login"), "username": "holder_a", "password": PASSWORD})
    assert response.headers["Location"] == "/me/results?q=giay%20phep"


# --- the password rule ---------------------------------------------------------------------

@pytest.mark.parametrize("password, why", [
    ("ngan-qua", "ít nhất 10 ký tự"),
    ("aaaaaaaaaa", "một ký tự lặp lại"),
    ("1234567890", "dãy ký tự liền nhau"),
    ("0987654321", "dãy ký tự liền nhau"),
    ("qwertyuiop", "dãy ký tự liền nhau"),
    ("123123123123", "cụm ký tự ngắn lặp lại"),
    ("Holder_A-2026", "chứa tên đăng nhập"),
    ("password123", "mật khẩu phổ biến"),
    ("iloveyou2026!", "mật khẩu phổ biến"),
    ("anhyeuem123", "mật khẩu phổ biến"),
])
def test_weak_passwords_are_refused_with_the_reason(client, world, password, why):
    login(client, "holder_a")
    url = "/account/password"
    page = _text(client.post(url, data={"csrf_token": csrf_token(client, url), "current": PASSWORD,
                                        "new": password, "confirm": password}))
    assert why in page
    assert world["holder_a"].check_password(PASSWORD)


def test_the_password_rule_holds_everywhere_a_password_is_set(app, world):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["create-user", "nguoi-moi", "--role", "staff", "--unit", "000.02.21.H48",
                                  "--password", "1234567890"])
    assert refused.exit_code != 0 and "dãy ký tự liền nhau" in refused.output
    with pytest.raises(sessions.OperationError, match="tên đăng nhập"):
        accounts.update_user(world["admin"], world["staff_a"], role="staff", full_name="", active=True,
                             unit_code="000.02.21.H48", new_password="staff_a-mat-khau")
    ok = runner.invoke(args=["create-user", "nguoi-moi", "--role", "staff", "--unit", "000.02.21.H48",
                             "--password", "Cay-Mia-Tra-Bong-7"])
    assert ok.exit_code == 0, ok.output
