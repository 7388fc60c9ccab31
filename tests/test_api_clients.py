"""Machine clients (issue 15): created by the command line or an admin, their secret shown once
and kept hashed; client-credentials tokens from /oauth/token (RFC 6749 errors); a revoked or
rotated client's tokens die at once; every call audited under the client's name; a rate limit
per client."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import ApiClient, ApiToken, AuditEvent
from portal.operations import api_clients

from .conftest import UNIT_A, UNIT_B, csrf_token, login, make_app


def basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def new_client(name: str = "Một cửa A", unit: str = UNIT_A) -> tuple[ApiClient, str]:
    return api_clients.create_client(None, name, unit)


def get_token(http, client_id: str, secret: str):
    return http.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret))


def bearer(http, client: ApiClient, secret: str) -> dict:
    answer = get_token(http, client.client_id, secret)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_the_command_prints_the_secret_once_and_keeps_only_its_hash(cli, world, client):
    done = cli("create-api-client", "Hệ thống một cửa", "--unit", UNIT_A.lower())
    assert done.exit_code == 0, done.output
    client_id = re.search(r"client_id: (\S+)", done.output).group(1)
    secret = re.search(r"client_secret: (\S+)", done.output).group(1)
    stored = db.session.scalars(select(ApiClient)).one()
    assert stored.client_id == client_id and stored.unit.code == UNIT_A
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in stored.secret_hash
    assert get_token(client, client_id, secret).status_code == 200

    unknown = cli("create-api-client", "Khác", "--unit", "000.99.21.H48")
    assert unknown.exit_code != 0 and "000.99.21.H48" in unknown.output and "chưa có" in unknown.output
    bad = cli("create-api-client", "Khác", "--unit", "H48")
    assert bad.exit_code != 0 and "QCVN 102:2016" in bad.output
    again = cli("create-api-client", "Hệ thống một cửa", "--unit", UNIT_A)
    assert again.exit_code != 0 and "Đã có" in again.output
    assert db.session.query(ApiClient).count() == 1


def test_a_token_is_a_short_lived_bearer_kept_hashed(world, client):
    made, secret = new_client()
    answer = get_token(client, made.client_id, secret)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 3600 and body["access_token"]
    assert answer.headers["Cache-Control"] == "no-store"
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.token_hash == hashlib.sha256(body["access_token"].encode()).hexdigest()
    assert api_clients.client_of_token(body["access_token"]).id == made.id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_client.token")).one()
    assert event.actor_name == "Một cửa A (API)" and event.details["client"] == "Một cửa A"


def test_token_errors_follow_rfc_6749(world, client):
    made, secret = new_client()
    wrong = get_token(client, made.client_id, "sai-mat-khau")
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "invalid_client"
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    unknown = get_token(client, "khong-co", secret)
    assert unknown.status_code == 401 and unknown.get_json()["error"] == "invalid_client"
    none = client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert none.status_code == 401 and none.get_json()["error"] == "invalid_client"
    grant = client.post("/oauth/token", data={"grant_type": "password", "username": "a", "password": "b"},
                        headers=basic(made.client_id, secret))
    assert grant.status_code == 400 and grant.get_json()["error"] == "unsupported_grant_type"
    # The secret in the body is not how these clients authenticate.
    in_body = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": made.client_id,
                                                "client_secret": secret})
    assert in_body.status_code == 401
    assert db.session.query(ApiToken).count() == 0
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_client.token_refused")).all()
    assert len(refused) == 5


def test_revoking_or_rotating_ends_the_tokens_at_once(world, client):
    made, secret = new_client()
    headers = bearer(client, made, secret)
    probe = "/api/v1/results/000.02.21.H48-260615-0001-KQ1/revocation"
    assert client.post(probe, json={"reason": "Thử lại lần nữa"}, headers=headers).status_code == 404
    new_secret = api_clients.rotate_secret(None, made)
    assert client.post(probe, json={"reason": "x"}, headers=headers).status_code == 401
    assert get_token(client, made.client_id, secret).status_code == 401
    headers = bearer(client, made, new_secret)
    api_clients.revoke_client(None, made)
    gone = client.post(probe, json={"reason": "x"}, headers=headers)
    assert gone.status_code == 401 and gone.headers["WWW-Authenticate"].startswith("Bearer")
    assert get_token(client, made.client_id, new_secret).status_code == 401
    assert db.session.query(ApiToken).count() == 0


def test_an_expired_token_is_refused(world, client, clock):
    from datetime import timedelta

    made, secret = new_client()
    headers = bearer(client, made, secret)
    probe = "/api/v1/results/000.02.21.H48-260615-0001-KQ1/revocation"
    assert client.post(probe, json={"reason": "Thử lại lần nữa"}, headers=headers).status_code == 404
    clock.shift(timedelta(minutes=16))
    assert client.post(probe, json={"reason": "Thử lại lần nữa"}, headers=headers).status_code == 401


def test_sessions_and_made_up_tokens_reach_nothing(world, client):
    login(client, "admin")
    for method, url in (("PUT", "/api/v1/results/000.02.21.H48-260615-0001-KQ1"),
                        ("POST", "/api/v1/results/000.02.21.H48-260615-0001-KQ1/revocation")):
        assert client.open(url, method=method).status_code == 401
        assert client.open(url, method=method, headers={"Authorization": "Bearer made-up"}).status_code == 401


def test_admin_lists_creates_rotates_and_revokes_clients(app, world, client):
    machine = app.test_client()  # the client system: no session of anyone's
    login(client, "admin")
    token = csrf_token(client, "/admin/api-clients")
    made = client.post("/admin/api-clients", data={"csrf_token": token, "name": "Một cửa B", "unit_code": UNIT_B})
    assert made.status_code == 200
    page = made.get_data(as_text=True)
    stored = db.session.scalars(select(ApiClient)).one()
    secret = re.search(r'data-secret="([^"]+)"', page).group(1)
    assert stored.client_id in page and stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    listing = client.get("/admin/api-clients").get_data(as_text=True)
    assert "Một cửa B" in listing and stored.client_id in listing and secret not in listing
    assert get_token(machine, stored.client_id, secret).status_code == 200

    rotated = client.post(f"/admin/api-clients/{stored.id}/rotate", data={"csrf_token": token})
    new_secret = re.search(r'data-secret="([^"]+)"', rotated.get_data(as_text=True)).group(1)
    assert new_secret != secret
    assert get_token(machine, stored.client_id, secret).status_code == 401
    assert get_token(machine, stored.client_id, new_secret).status_code == 200
    revoked = client.post(f"/admin/api-clients/{stored.id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 302
    assert get_token(machine, stored.client_id, new_secret).status_code == 401
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("api_client.%"),
                                                                 AuditEvent.actor_name == "Quản trị")).all()
    assert sorted(actions) == ["api_client.create", "api_client.revoke", "api_client.rotate"]

    bad = client.post("/admin/api-clients", data={"csrf_token": token, "name": "X", "unit_code": "000.99.21.H48"})
    assert bad.status_code == 200 and "chưa có trong hệ thống" in bad.get_data(as_text=True)


def test_only_admins_manage_clients(world, client):
    login(client, "reviewer_a")
    assert client.get("/admin/api-clients").status_code == 403


def test_the_rate_limit_counts_per_client(db_url, tmp_path, signing_keys, world):
    app = make_app(db_url, tmp_path / "limited", RATELIMIT_ENABLED=True, API_CLIENT_RATE_LIMIT="3 per minute",
                   **signing_keys)
    with app.app_context():
        a, secret_a = new_client("Một cửa A", UNIT_A)
        b, secret_b = new_client("Một cửa B", UNIT_B)
        http = app.test_client()
        answers = [get_token(http, a.client_id, secret_a).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        assert get_token(http, b.client_id, secret_b).status_code == 200  # another client's own count
        db.session.remove()
