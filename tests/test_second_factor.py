"""The second factor of staff accounts: enrolment with a QR code, codes at login (never twice),
recovery codes, throttled guesses, the admin's requirement, and an admin's reset."""

import base64
import io
import re
from datetime import datetime, timedelta

import pyotp
from PIL import Image
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, User, UserSession
from portal.operations import second_factor, settings, throttle

from .conftest import PASSWORD, csrf_token, login


def _text(response) -> str:
    return response.get_data(as_text=True)


def _enrol(client) -> tuple[str, list[str]]:
    """Turn the second factor on through the pages; returns the secret and the recovery codes."""
    page_url = "/account/second-factor"
    client.post("/account/second-factor/start", data={"csrf_token": csrf_token(client, page_url)})
    page = _text(client.get(page_url))
    secret = re.search(r'<code class="hash">([A-Z2-7]+)</code>', page).group(1)
    assert 'src="data:image/png;base64,' in page  # the QR code, inline (the CSP allows data: images)
    shown = _text(client.post("/account/second-factor/confirm", data={
        "csrf_token": csrf_token(client, page_url), "code": pyotp.TOTP(secret).now()}))
    codes = re.findall(r"<li><code>([A-Z0-9-]+)</code></li>", shown)
    assert "Đã bật xác thực hai bước" in shown and len(codes) == 10
    return secret, codes


def _password_step(client, username="staff_a"):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD})


def _code_step(client, code):
    token = csrf_token(client, "/login/second-factor")
    return client.post("/login/second-factor", data={"csrf_token": token, "code": code})


def test_enrol_then_every_login_asks_for_a_code(clock, app, client, world):
    login(client, "staff_a")
    secret, _codes = _enrol(client)
    user = db.session.scalars(select(User).where(User.username == "staff_a")).one()
    assert user.totp_enabled and secret not in user.totp_secret  # kept encrypted
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/results")})
    clock.shift(timedelta(seconds=30))  # the code that confirmed the enrolment is spent

    fresh = app.test_client()
    step = _password_step(fresh)
    assert step.headers["Location"].endswith("/login/second-factor")
    assert fresh.get("/admin/results").status_code == 302  # not logged in yet
    wrong = _code_step(fresh, _wrong_codes(secret, 1)[0])
    assert second_factor.WRONG_CODE in _text(wrong)
    code = pyotp.TOTP(secret).now()
    assert _code_step(fresh, code).status_code == 302
    assert fresh.get("/admin/results").status_code == 200
    assert db.session.scalars(select(UserSession).where(UserSession.ended_at.is_(None))).one().method == \
        "password+totp"
    # The same code cannot be used again, even within its 30 seconds.
    again = app.test_client()
    _password_step(again)
    assert second_factor.WRONG_CODE in _text(_code_step(again, code))
    clock.shift(timedelta(seconds=30))
    assert _code_step(again, pyotp.TOTP(secret).now()).status_code == 302


def test_a_recovery_code_stands_in_once(app, client, world):
    login(client, "reviewer_a")
    _secret, codes = _enrol(client)
    fresh = app.test_client()
    _password_step(fresh, "reviewer_a")
    done = _code_step(fresh, codes[0].lower())
    assert done.status_code == 302
    assert "còn 9 mã" in _text(fresh.get(done.headers["Location"], follow_redirects=True))
    other = app.test_client()
    _password_step(other, "reviewer_a")
    assert second_factor.WRONG_CODE in _text(_code_step(other, codes[0]))
    assert "totp.recovery_used" in db.session.scalars(select(AuditEvent.action)).all()


def _wrong_codes(secret, count):
    """Codes sure to be wrong now (none of the three the server accepts)."""
    totp = pyotp.TOTP(secret)
    valid = {totp.at(datetime.now() + timedelta(seconds=shift)) for shift in (-30, 0, 30)}
    return [c for c in (f"{n:06d}" for n in range(count + 3)) if c not in valid][:count]


def test_guessing_the_code_is_throttled_per_account(clock, app, client, world):
    login(client, "staff_a")
    secret, _codes = _enrol(client)
    attacker = app.test_client()
    wrong = _wrong_codes(secret, throttle.FREE_SECOND_FACTOR + 1)
    _password_step(attacker)
    for code in wrong[:-1]:  # five wrong codes: the page sends the guesser back to the password
        _code_step(attacker, code)
    _password_step(attacker)
    _code_step(attacker, wrong[-1])  # one more wrong code: from now on each one waits
    page = _text(_code_step(attacker, pyotp.TOTP(secret).now()))
    assert "Vui lòng chờ" in page  # even the right code waits: the right password does not reset it
    assert attacker.get("/admin/results").status_code == 302


def test_too_many_wrong_codes_send_back_to_the_password(app, client, world):
    login(client, "staff_a")
    _enrol(client)
    fresh = app.test_client()
    _password_step(fresh)
    for n in range(4):
        _code_step(fresh, f"12345{n}")
    last = _code_step(fresh, "123459")
    assert last.headers["Location"].endswith("/login")


def test_the_password_step_expires(clock, app, client, world):
    login(client, "staff_a")
    secret, _codes = _enrol(client)
    fresh = app.test_client()
    _password_step(fresh)
    token = csrf_token(fresh, "/login/second-factor")
    clock.shift(timedelta(minutes=6))
    late = fresh.post("/login/second-factor", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert late.headers["Location"].endswith("/login")
    assert fresh.get("/admin/results").status_code == 302


def test_an_admin_can_require_it_for_staff(app, client, world):
    admin = app.test_client()
    login(admin, "admin")
    url = "/admin/settings"
    page = _text(admin.get(url))
    assert "Chưa bật: 5 tài khoản cán bộ" in page
    others = {"copy_fee": "0", "tax_code_id_type": "3",
              **{key: settings.DEFAULTS[key]
                 for key in (settings.HELP_PHONE, settings.HELP_ADDRESS, settings.HELP_HOURS)}}
    admin.post(url, data={"csrf_token": csrf_token(admin, url), "require_second_factor": "y", **others})
    assert settings.get(settings.REQUIRE_SECOND_FACTOR) is True
    # A digitizer without it is sent to set it up, and can do nothing else first.
    response = login(client, "staff_b")
    assert response.headers["Location"].endswith("/account/second-factor")
    blocked = client.get("/admin/results")
    assert blocked.status_code == 302 and blocked.headers["Location"].endswith("/account/second-factor")
    _enrol(client)
    assert client.get("/admin/results").status_code == 200
    # It cannot be turned off while required.
    refused = client.post("/account/second-factor/off", data={
        "csrf_token": csrf_token(client, "/account/second-factor"), "password": PASSWORD, "code": "000000"},
        follow_redirects=True)
    assert "không tắt được" in _text(refused)
    # Holders are not concerned.
    holder = app.test_client()
    login(holder, "holder_a")
    assert holder.get("/me/results").status_code == 200
    assert "setting.update" in db.session.scalars(select(AuditEvent.action)).all()


def test_an_admin_resets_a_lost_phone_and_the_owner_turns_it_off(clock, app, client, world):
    login(client, "staff_a")
    secret, _codes = _enrol(client)
    admin = app.test_client()
    login(admin, "admin")
    user_id = world["staff_a"].id
    url = f"/admin/users/{user_id}"
    admin.post(url, data={"csrf_token": csrf_token(admin, url), "username": "staff_a", "full_name": "Cán bộ A",
                          "role": "staff", "unit_code": "000.02.21.H48", "active": "y",
                          "reset_second_factor": "y"})
    user = db.session.get(User, user_id)
    db.session.refresh(user)
    assert not user.totp_enabled and user.totp_secret is None
    assert client.get("/admin/results").status_code == 302  # the sessions ended with the reset
    # Enrolled again, the owner turns it off with password and a code.
    login(client, "staff_a")
    secret, _codes = _enrol(client)
    clock.shift(timedelta(seconds=30))
    client.post("/account/second-factor/off", data={
        "csrf_token": csrf_token(client, "/account/second-factor"), "password": PASSWORD,
        "code": pyotp.TOTP(secret).now()})
    db.session.refresh(user)
    assert not user.totp_enabled


def test_holders_have_no_second_factor_page_to_use(client, world):
    login(client, "holder_a")
    assert client.get("/account/second-factor").status_code == 302
    client.post("/account/second-factor/start", data={"csrf_token": csrf_token(client, "/account/password")})
    db.session.refresh(world["holder_a"])
    assert world["holder_a"].totp_secret is None


def test_the_enrolment_qr_code_reads_back_as_the_secret(client, world):
    """zbar reads the page's QR code as the otpauth URI of the secret shown beside it."""
    from pyzbar.pyzbar import decode

    login(client, "staff_a")
    client.post("/account/second-factor/start", data={"csrf_token": csrf_token(client, "/account/second-factor")})
    page = _text(client.get("/account/second-factor"))
    secret = re.search(r'<code class="hash">([A-Z2-7]+)</code>', page).group(1)
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1))
    uri = decode(Image.open(io.BytesIO(png)))[0].data.decode()
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri and "staff_a" in uri
