"""Issue 14: log in with the national identity (VNeID through the national portal's OpenID Connect),
against the real test provider (tests/oidc_provider.py), on every backend.

1. the flow (discovery, state, nonce, PKCE, the ID token's checks, key rotation; the login page);
2. accounts follow the identity (citizens linked or opened, businesses' members, password turned off);
3. the assurance level with the session (copies); 4. logout through the provider; 5. staff stay local;
6. bad and hostile input, each refused with a Vietnamese page, nothing changed, an audit event.
"""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest
from sqlalchemy import func, select

from portal import national_identity
from portal.extensions import db
from portal.models import AuditEvent, CertifiedCopy, NationalIdentity, User, UserSession
from portal.operations import claims
from portal.operations.accounts import create_user

from .conftest import CCCD_A, CCCD_B, MST_C, PASSWORD, csrf_token, login, make_app, make_result

CCCD_D = "079203001234"  # a citizen with no account anywhere
NAME_D = "Lê Thị Hồng Nhung"


@pytest.fixture
def national(app, world, provider):
    """The portal pointed at the test provider; the Flask test client's address is http://localhost."""
    app.config.update(provider.config(), BASE_URL="http://localhost", OIDC_TIMEOUT=2)
    return provider


def begin(client, next_url: str | None = None) -> str:
    response = client.get("/login/oidc", query_string={"next": next_url} if next_url else None)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def callback(client, provider, back: str):
    """Follow the provider's redirect back to the portal (the test client's own path)."""
    parts = urllib.parse.urlsplit(back)
    assert f"{parts.scheme}://{parts.netloc}" == "http://localhost", back
    return client.get(f"{parts.path}?{parts.query}")


def national_login(client, provider, next_url=None, **claims):
    return callback(client, provider, provider.sign_in(begin(client, next_url), **claims))


def citizen(client, provider, number=CCCD_D, name=NAME_D, level=2, **more):
    return national_login(client, provider, SoDinhDanh=number, HoVaTen=name, CapDoXacThuc=level, **more)


def snapshot() -> tuple:
    db.session.expire_all()
    return (db.session.execute(select(User.id, User.username, User.active, User.password_hash, User.password_login,
                                      User.business_manager, User.holder_id, User.full_name).order_by(User.id)).all(),
            db.session.execute(select(NationalIdentity.id, NationalIdentity.user_id, NationalIdentity.last_login_at)
                               .order_by(NationalIdentity.id)).all(),
            db.session.scalar(select(func.count()).select_from(UserSession)))


def refusals() -> list[str]:
    return [e.details.get("reason") for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "login.national_refused").order_by(AuditEvent.id))]


def current_session() -> UserSession:
    return db.session.scalars(select(UserSession).order_by(UserSession.id.desc())).first()


# --- 1. the flow ----------------------------------------------------------------------------------

def test_the_login_page_offers_vneid_first_only_when_configured(app, client, world, provider):
    page = client.get("/login").get_data(as_text=True)
    assert "Cổng Dịch vụ công quốc gia / VNeID" not in page and "/claim" in page
    assert client.get("/login/oidc").status_code == 404
    app.config.update(provider.config(), BASE_URL="http://localhost")
    page = client.get("/login").get_data(as_text=True)
    button = page.index("Đăng nhập bằng tài khoản Cổng Dịch vụ công quốc gia / VNeID")
    assert button < page.index('name="username"') and "/claim" in page


def test_the_request_carries_state_nonce_and_pkce_and_returns_to_base_url(app, client, national):
    url = begin(client, next_url="/me/copies")
    parts = urllib.parse.urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{national.issuer}/authorize"
    args = dict(urllib.parse.parse_qsl(parts.query))
    assert args["redirect_uri"] == "http://localhost/login/oidc/callback"
    assert args["code_challenge_method"] == "S256" and len(args["code_challenge"]) >= 43
    assert len(args["state"]) >= 20 and len(args["nonce"]) >= 20 and "openid" in args["scope"].split()
    assert args["client_id"] == national.client_id and args["response_type"] == "code"
    # The redirect URI comes from BASE_URL, never from the Host the request names.
    other = app.test_client().get("/login/oidc", headers={"Host": "ke-gian.example"}).headers["Location"]
    assert dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(other).query))["redirect_uri"] == \
        "http://localhost/login/oidc/callback"


def test_a_citizen_logs_in_and_lands_where_they_were_going(client, national):
    done = citizen(client, national, next_url="/me/copies")
    assert done.status_code == 302 and done.headers["Location"] == "/me/copies"
    assert client.get("/me/copies").status_code == 200
    record = current_session()
    assert record.method == "vneid" and record.assurance_level == 2 and record.id_token.count(".") == 2


def test_an_unsafe_next_is_dropped_as_the_password_login_drops_it(app, national):
    client = app.test_client()
    done = citizen(client, national, next_url="//ke-gian.example/x")
    assert done.headers["Location"] == "/me/results"


def test_a_rotated_key_is_fetched_again(app, national):
    assert citizen(app.test_client(), national).status_code == 302  # the keys are cached now
    national.rotate_keys()
    assert citizen(app.test_client(), national).status_code == 302
    assert refusals() == []


def test_alg_none_is_refused_even_when_the_metadata_offers_it(app, client, national):
    provider_client = national_identity._client()
    provider_client.load_server_metadata()["id_token_signing_alg_values_supported"] = ["none", "RS256", "HS256"]
    national.misbehave("alg_none")
    before = snapshot()
    response = citizen(client, national)
    assert response.status_code == 400 and snapshot() == before
    assert refusals() == ["untrusted_token"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login.national_refused")).one()
    assert event.details["detail"] == "algorithm_refused"


# --- 2. accounts follow the identity ----------------------------------------------------------------

def test_a_new_citizen_gets_an_account_with_no_password_once(app, client, national, pdfs, world):
    result = make_result(world, pdfs[0], reviewer="reviewer_a", holder_id=CCCD_D, holder_name=NAME_D,
                         document_number="41/GP-SKHCN")
    citizen(client, national)
    user = db.session.scalars(select(User).where(User.holder_id == CCCD_D)).one()
    assert user.username == f"vneid-{CCCD_D}" and user.role == "holder" and user.full_name == NAME_D
    assert not user.password_login and not user.check_password("")
    assert result.code in client.get("/me/results").get_data(as_text=True)
    link = db.session.scalars(select(NationalIdentity)).one()
    assert (link.issuer, link.person_number, link.tax_code, link.user_id) == (national.issuer, CCCD_D, "", user.id)
    # Again, from another browser: the same account, no other.
    citizen(app.test_client(), national)
    assert db.session.scalar(select(func.count()).select_from(User).where(User.holder_id == CCCD_D)) == 1
    assert db.session.scalar(select(func.count()).select_from(NationalIdentity)) == 1


def test_a_username_someone_took_does_not_block_or_capture_the_login(client, national, world):
    squatter = create_user(None, f"vneid-{CCCD_D}", "holder", PASSWORD, holder_id=CCCD_B)
    citizen(client, national)
    user = db.session.scalars(select(User).where(User.holder_id == CCCD_D)).one()
    assert user.username == f"vneid-{CCCD_D}-2" and user.id != squatter.id
    assert db.session.get(User, squatter.id).holder_id == CCCD_B


def test_an_existing_holder_account_is_linked_and_its_password_works_until_turned_off(app, client, national, world):
    holder = world["holder_a"]
    citizen(client, national, number=CCCD_A, name="Phạm Minh Khánh")
    assert db.session.scalar(select(func.count()).select_from(User).where(User.holder_id == CCCD_A)) == 1
    assert db.session.scalars(select(NationalIdentity)).one().user_id == holder.id
    assert current_session().user_id == holder.id
    password_client = app.test_client()
    login(password_client, "holder_a")  # still works
    # The holder turns the password off: the password's sessions end, the password is refused, saying why.
    page = client.get("/account/password").get_data(as_text=True)
    assert "Tắt đăng nhập bằng mật khẩu" in page
    client.post("/account/password-login/off", data={"off-csrf_token": csrf_token(client, "/account/password")})
    assert not db.session.get(User, holder.id).password_login
    assert password_client.get("/me/results").status_code == 302
    refused = app.test_client()
    page = refused.post("/login", data={"csrf_token": csrf_token(refused, "/login"), "username": "holder_a",
                                        "password": PASSWORD}).get_data(as_text=True)
    assert "đã tắt đăng nhập bằng mật khẩu" in page and "VNeID" in page
    # A wrong password still says only "wrong": nobody learns the password was right or the account linked.
    page = refused.post("/login", data={"csrf_token": csrf_token(refused, "/login"), "username": "holder_a",
                                        "password": "sai-mat-khau-1"}).get_data(as_text=True)
    assert "không đúng" in page and "đã tắt" not in page
    assert client.get("/me/results").status_code == 200  # the VNeID session goes on
    # Turning it back on means a new password (the old one never returns).
    client.post("/account/password-login/on", data={"csrf_token": csrf_token(client, "/account/password"),
                                                    "new": "Mat-khau-moi-2026", "confirm": "Mat-khau-moi-2026"})
    assert db.session.get(User, holder.id).password_login
    login(app.test_client(), "holder_a", "Mat-khau-moi-2026")
    again = app.test_client()
    assert again.post("/login", data={"csrf_token": csrf_token(again, "/login"), "username": "holder_a",
                                      "password": PASSWORD}).status_code == 200


def test_only_a_linked_account_turns_its_password_off_and_only_vneid_turns_it_on(client, world):
    login(client, "holder_a")
    client.post("/account/password-login/off", data={"off-csrf_token": csrf_token(client, "/account/password")})
    assert db.session.get(User, world["holder_a"].id).password_login
    client.post("/account/password-login/on", data={"csrf_token": csrf_token(client, "/account/password"),
                                                    "new": "Mat-khau-moi-2026", "confirm": "Mat-khau-moi-2026"})
    assert db.session.get(User, world["holder_a"].id).check_password(PASSWORD)


def test_a_business_login_opens_the_business_store_and_the_first_manages(app, national, world, pdfs):
    result = make_result(world, pdfs[2], reviewer="reviewer_a", holder_id=MST_C, document_number="77/GP-SKHCN",
                         holder_name="Công ty TNHH Thiết bị Y tế Minh Phát")
    first = app.test_client()
    national_login(first, national, SoDinhDanh=CCCD_D, HoVaTen=NAME_D, MaSoThue=MST_C, CapDoXacThuc=2)
    manager = db.session.scalars(select(User).where(User.holder_id == MST_C)).one()
    assert manager.username == f"{MST_C}.le-thi-hong-nhung" and manager.business_manager
    assert manager.holder_kind == "organisation" and not manager.password_login
    assert result.code in first.get("/me/results").get_data(as_text=True)
    assert first.get("/me/members").status_code == 200
    # The same person's own account is another one (their number), made only when they log in as themself.
    assert db.session.scalar(select(User.id).where(User.holder_id == CCCD_D)) is None
    second = app.test_client()
    national_login(second, national, SoDinhDanh=CCCD_B, HoVaTen="Trần Thị Lan", MaSoThue=MST_C, CapDoXacThuc=2)
    member = db.session.scalars(select(User).where(User.holder_id == MST_C, User.id != manager.id)).one()
    assert not member.business_manager and member.username == f"{MST_C}.tran-thi-lan"
    # Removed by the manager: VNeID does not bring the member back, nor open a new account.
    claims.remove_member(manager, member)
    before = snapshot()
    page = national_login(app.test_client(), national, SoDinhDanh=CCCD_B, HoVaTen="Trần Thị Lan", MaSoThue=MST_C)
    assert page.status_code == 403 and "người quản lý" in page.get_data(as_text=True)
    assert snapshot() == before and refusals() == ["member_removed"]


def test_a_business_with_accounts_gets_a_member_not_a_manager(app, national, world):
    existing = create_user(None, "minh-phat", "holder", PASSWORD, holder_id=MST_C)
    assert existing.business_manager
    national_login(app.test_client(), national, SoDinhDanh=CCCD_D, HoVaTen=NAME_D, MaSoThue=f" {MST_C} ")
    member = db.session.scalars(select(User).where(User.holder_id == MST_C, User.id != existing.id)).one()
    assert not member.business_manager


def test_a_link_that_no_longer_matches_the_asserted_number_opens_nothing(client, national, world):
    citizen(client, national)  # links (issuer, sub) to CCCD_D's account
    link = db.session.scalars(select(NationalIdentity)).one()
    sub = link.subject
    before = snapshot()
    # The same subject now asserting another number (CCCD_A, holder_a's): not holder_a, not CCCD_D's account.
    response = national_login(client, national, SoDinhDanh=CCCD_A, HoVaTen=NAME_D, sub=sub, CapDoXacThuc=2)
    assert response.status_code == 403 and snapshot() == before and refusals() == ["link_mismatch"]


# --- 3. assurance ----------------------------------------------------------------------------------

def test_a_copy_needs_level_2_from_a_vneid_session_and_says_how(app, national, world, pdfs):
    result = make_result(world, pdfs[0], reviewer="reviewer_a", document_number="51/GP-SKHCN", valid_until=None)
    weak = app.test_client()
    citizen(weak, national, number=CCCD_A, level=1)
    assert current_session().assurance_level == 1
    page = weak.get(f"/me/results/{result.code}").get_data(as_text=True)
    assert "mức độ 2" in page and "Đăng nhập lại bằng VNeID" in page and "Xin cấp bản sao điện tử…" not in page
    form = weak.post(f"/me/results/{result.code}/copies",
                     data={"csrf_token": csrf_token(weak, f"/me/results/{result.code}/copies")})
    assert "mức độ 2" in weak.get(form.headers["Location"]).get_data(as_text=True)
    api = weak.post(f"/api/v1/me/results/{result.code}/copies",
                    headers={"X-CSRFToken": csrf_token(weak, "/account/password")})
    assert api.status_code == 403 and api.get_json()["error"] == "assurance_too_low"
    assert "mức độ 2" in api.get_json()["message"]
    assert db.session.scalar(select(func.count()).select_from(CertifiedCopy)) == 0
    # No level asserted at all is below it too.
    unknown = app.test_client()
    national_login(unknown, national, SoDinhDanh=CCCD_A, HoVaTen="Phạm Minh Khánh")
    assert unknown.post(f"/api/v1/me/results/{result.code}/copies",
                        headers={"X-CSRFToken": csrf_token(unknown, "/account/password")}).status_code == 403
    # At level 2, and with the password, the copy is issued.
    strong = app.test_client()
    citizen(strong, national, number=CCCD_A, level=2)
    made = strong.post(f"/api/v1/me/results/{result.code}/copies",
                       headers={"X-CSRFToken": csrf_token(strong, "/account/password")})
    assert made.status_code == 201, made.get_json()
    password = app.test_client()
    login(password, "holder_a")
    assert password.post(f"/api/v1/me/results/{result.code}/copies",
                         headers={"X-CSRFToken": csrf_token(password, "/account/password")}).status_code == 201


def test_the_level_a_copy_needs_is_a_setting(app, national, world, pdfs):
    result = make_result(world, pdfs[0], reviewer="reviewer_a", document_number="52/GP-SKHCN", valid_until=None)
    app.config["OIDC_COPY_LEVEL"] = 1
    client = app.test_client()
    citizen(client, national, number=CCCD_A, level=1)
    assert client.post(f"/api/v1/me/results/{result.code}/copies",
                       headers={"X-CSRFToken": csrf_token(client, "/account/password")}).status_code == 201


# --- 4. logout -------------------------------------------------------------------------------------

def test_logout_ends_the_session_and_returns_through_the_provider(client, national):
    citizen(client, national)
    id_token = current_session().id_token
    away = client.post("/logout", data={"csrf_token": csrf_token(client, "/me/results")})
    assert away.status_code == 302
    parts = urllib.parse.urlsplit(away.headers["Location"])
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{national.issuer}/end_session"
    args = dict(urllib.parse.parse_qsl(parts.query))
    assert args["id_token_hint"] == id_token and args["post_logout_redirect_uri"] == "http://localhost/"
    assert len(args["state"]) >= 16
    record = current_session()
    assert record.ended_at is not None and record.end_reason == "logout" and record.id_token is None
    assert client.get("/me/results").status_code == 302
    # The provider ends its session and sends the browser back to the portal's home page.
    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    try:
        urllib.request.build_opener(Stay).open(away.headers["Location"], timeout=10)
    except urllib.error.HTTPError as answer:
        assert answer.code == 302 and answer.headers["Location"].startswith("http://localhost/?state=")
    assert national.logouts[-1]["id_token_hint"] == id_token


def test_a_password_session_logs_out_here_only(client, national, world):
    login(client, "holder_a")
    away = client.post("/logout", data={"csrf_token": csrf_token(client, "/me/results")})
    assert away.headers["Location"] == "/" and national.logouts == []


# --- 5. staff stay local ---------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["staff_a", "reviewer_a", "admin"])
def test_an_identity_never_opens_a_staff_account_even_through_a_link(client, national, world, who):
    staff = world[who]
    sub = "vneid-nhan-vien"
    db.session.add(NationalIdentity(issuer=national.issuer, subject=sub, person_number=CCCD_D, tax_code="",
                                    user_id=staff.id))
    db.session.commit()
    before = snapshot()
    response = national_login(client, national, SoDinhDanh=CCCD_D, HoVaTen=NAME_D, sub=sub, CapDoXacThuc=2)
    assert response.status_code == 403 and "Tài khoản cán bộ" in response.get_data(as_text=True)
    assert snapshot() == before and refusals() == ["staff_account"]
    assert client.get("/admin/results").status_code == 302
    login(client, who)  # their own way in still works


# --- 6. bad and hostile input ----------------------------------------------------------------------

def assert_refused(response, status: int, reason: str, before, words: str):
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:500]
    assert words in page
    assert 'name="password"' in page and "/claim" in page  # the local login is still offered here
    assert snapshot() == before
    assert refusals()[-1] == reason


TOKEN_MISCHIEF = [("bad_signature", "bad_signature"), ("wrong_aud", "invalid_claim:aud"),
                  ("wrong_iss", "invalid_claim:iss"), ("expired", "expired"),
                  ("wrong_nonce", "invalid_claim:nonce"), ("alg_none", "algorithm_refused")]


@pytest.mark.parametrize(("mode", "detail"), TOKEN_MISCHIEF, ids=[m for m, _ in TOKEN_MISCHIEF])
def test_an_untrusted_id_token_is_refused(client, national, world, mode, detail):
    national.misbehave(mode)
    before = snapshot()
    assert_refused(citizen(client, national), 400, "untrusted_token", before, "không hợp lệ")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login.national_refused")).one()
    assert event.details["detail"] == detail


CLAIM_MISCHIEF = [
    ({"HoVaTen": NAME_D}, "missing_id", "không có số định danh"),
    ({"SoDinhDanh": "07920300123"}, "malformed_id", "12 chữ số"),
    ({"SoDinhDanh": "0792030012345"}, "malformed_id", "12 chữ số"),
    ({"SoDinhDanh": "999203001234"}, "malformed_id", "mã tỉnh"),
    ({"SoDinhDanh": "07920300123X"}, "malformed_id", "12 chữ số"),
    ({"SoDinhDanh": CCCD_D, "MaSoThue": "0100112438"}, "malformed_tax_code", "chữ số kiểm tra"),
]


@pytest.mark.parametrize(("claims_", "reason", "words"), CLAIM_MISCHIEF,
                         ids=["no-id", "11-digits", "13-digits", "bad-province", "letter", "bad-check-digit"])
def test_a_missing_or_malformed_identifier_opens_nothing(client, national, world, claims_, reason, words):
    before = snapshot()
    assert_refused(national_login(client, national, CapDoXacThuc=2, **claims_), 400, reason, before, words)


def test_the_person_refusing_at_the_provider(client, national, world):
    before = snapshot()
    back = national.sign_in(begin(client), decision="deny", SoDinhDanh=CCCD_D)
    assert_refused(callback(client, national, back), 400, "access_denied", before, "đã hủy đăng nhập")


def test_a_wrong_or_replayed_state(app, client, national, world):
    back = national.sign_in(begin(client), SoDinhDanh=CCCD_D, HoVaTen=NAME_D)
    before = snapshot()
    forged = back.replace("state=", "state=x")
    assert_refused(callback(client, national, forged), 400, "bad_state", before, "không hợp lệ")
    stranger = app.test_client()  # someone else's browser, with the victim's callback URL
    assert_refused(callback(stranger, national, back), 400, "bad_state", before, "không hợp lệ")
    assert callback(client, national, back).status_code == 302  # the rightful browser
    before = snapshot()
    assert_refused(callback(client, national, back), 400, "bad_state", before, "không hợp lệ")  # replayed


def test_a_code_used_twice(app, national, world):
    client = app.test_client()
    back = national.sign_in(begin(client), SoDinhDanh=CCCD_D, HoVaTen=NAME_D)
    copy = app.test_client()  # the same cookie (state, verifier) and the same code, in another browser
    cookie = client.get_cookie("session")
    copy.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    assert callback(client, national, back).status_code == 302
    before = snapshot()
    assert_refused(callback(copy, national, back), 400, "token_refused", before, "đã được dùng")


@pytest.mark.parametrize(("mode", "status", "reason", "words"), [
    ("error", 502, "provider_down", "không kết nối được"),
    ("no_id_token", 502, "no_id_token", "không gửi thông tin định danh"),
    ("slow", 504, "timeout", "không trả lời kịp"),
], ids=["error", "no-id-token", "slow"])
def test_a_provider_that_fails_at_the_token(client, national, world, mode, status, reason, words):
    national.misbehave(mode, seconds=4)
    before = snapshot()
    assert_refused(citizen(client, national), status, reason, before, words)


def test_a_provider_that_is_down(client, national, world):
    national.stop()
    before = snapshot()
    assert_refused(client.get("/login/oidc"), 502, "provider_down", before, "không kết nối được")


def test_the_start_and_the_callback_are_rate_limited(db_url, tmp_path, world, national, signing_keys):
    limited = make_app(db_url, tmp_path / "limited", RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute",
                       BASE_URL="http://localhost", **national.config(), **signing_keys)
    client = limited.test_client()
    assert [client.get("/login/oidc").status_code for _ in range(3)] == [302, 302, 429]
    assert [client.get("/login/oidc/callback?state=x&code=y").status_code for _ in range(3)] == [400, 400, 429]


def test_the_claim_code_path_still_works(client, national, world, pdfs):
    result = make_result(world, pdfs[0], holder_id=CCCD_D, reviewer="reviewer_a", document_number="61/GP-SKHCN")
    code = claims.issue_claim_code(world["reviewer_a"], result)
    response = client.post("/claim", data={"csrf_token": csrf_token(client, "/claim"), "code": code,
                                           "holder_id": CCCD_D, "username": "nhung", "password": "mat-khau-rieng-1",
                                           "confirm": "mat-khau-rieng-1"})
    assert response.status_code == 302 and result.code in client.get("/me/results").get_data(as_text=True)
    # Later the same citizen arrives through VNeID: the claimed account is linked, not duplicated.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/me/results")})
    citizen(client, national)
    assert db.session.scalar(select(func.count()).select_from(User).where(User.holder_id == CCCD_D)) == 1


def test_the_logout_form_may_lead_to_the_provider_and_nowhere_else(client, national, world):
    policy = client.get("/login").headers["Content-Security-Policy"]
    directive = next(d.strip() for d in policy.split(";") if d.strip().startswith("form-action"))
    assert directive == f"form-action 'self' {national.issuer}"


def test_only_the_latest_login_in_progress_is_kept(client, national, world):
    abandoned = national.sign_in(begin(client), SoDinhDanh=CCCD_D, HoVaTen=NAME_D)
    for _ in range(6):  # the cookie does not grow with every start
        latest = begin(client)
    assert len(client.get_cookie("session").value) < 2000
    before = snapshot()
    assert_refused(callback(client, national, abandoned), 400, "bad_state", before, "không hợp lệ")
    assert callback(client, national, national.sign_in(latest, SoDinhDanh=CCCD_D)).status_code == 302
