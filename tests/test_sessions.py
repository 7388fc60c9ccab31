"""Accounts that are safe to use: lockout, password change, logging out everywhere."""

from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent

from .conftest import PASSWORD, VIETNAM, at_every_instant, csrf_token, login


def _try(client, username, password):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"csrf_token": token, "username": username, "password": password})


@at_every_instant
def test_lockout_after_five_failures_with_a_clear_message(clock, client, world):
    for _ in range(4):
        assert "không đúng" in _try(client, "staff_a", "sai-mat-khau").get_data(as_text=True)
    fifth = _try(client, "staff_a", "sai-mat-khau").get_data(as_text=True)
    assert "tạm khóa vì đăng nhập sai 5 lần liên tiếp" in fifth
    # The message says until when, in Vietnam's time (in the last minute of a year: 00:14 on 1 January).
    user = world["staff_a"]
    db.session.refresh(user)
    until = user.locked_until.astimezone(VIETNAM)
    assert f"Hãy thử lại sau {until:%H:%M} ngày {until:%d/%m/%Y}" in fifth
    # Even the right password is refused while locked, fourteen minutes later too.
    locked = _try(client, "staff_a", PASSWORD)
    assert locked.status_code == 200 and "tạm khóa" in locked.get_data(as_text=True)
    clock.shift(timedelta(minutes=14))
    assert "tạm khóa" in _try(client, "staff_a", PASSWORD).get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "login.locked" in actions
    # When the fifteen minutes have passed, the right password works and the count starts again.
    clock.shift(timedelta(minutes=1, seconds=1))
    assert _try(client, "staff_a", PASSWORD).status_code == 302
    db.session.refresh(user)
    assert user.failed_logins == 0 and user.locked_until is None


def test_unknown_usernames_get_the_generic_answer(client, world):
    for _ in range(7):
        page = _try(client, "khong-ton-tai", "x").get_data(as_text=True)
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in page and "tạm khóa" not in page


def test_password_change_ends_the_other_sessions(app, client, world):
    other = app.test_client()
    login(client, "holder_a")
    login(other, "holder_a")
    url = "/account/password"
    wrong = client.post(url, data={"csrf_token": csrf_token(client, url), "current": "sai",
                                   "new": "mot-mat-khau-moi", "confirm": "mot-mat-khau-moi"})
    assert "Mật khẩu hiện tại không đúng." in wrong.get_data(as_text=True)
    mismatch = client.post(url, data={"csrf_token": csrf_token(client, url), "current": PASSWORD,
                                      "new": "mot-mat-khau-moi", "confirm": "mot-mat-khau-khac"})
    assert "không khớp" in mismatch.get_data(as_text=True)
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
    token = csrf_token(client, "/account/password")
    assert client.post("/account/logout-everywhere", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/results").status_code == 302
    assert other.get("/admin/results").status_code == 302
    login(client, "staff_a")
    assert client.get("/admin/results").status_code == 200


def test_session_cookie_is_httponly_and_samesite(client, world):
    response = login(client, "staff_a")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_session_moved_to_another_address_ends(client, world):
    # Flask-Login's strong session protection: a stolen cookie used elsewhere is worthless.
    login(client, "staff_a")
    assert client.get("/admin/results").status_code == 200
    assert client.get("/admin/results", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 302
