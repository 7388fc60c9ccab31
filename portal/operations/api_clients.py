"""Machine clients (a unit's one-stop-shop system): created, rotated and revoked by an admin or
the command line; their bearer tokens issued (through portal/oauth.py) and looked up.

A secret and a token are shown once and kept only as their SHA-256. Revoking a client or
rotating its secret deletes its tokens: a token in the wrong hands dies with the secret."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from .. import audit
from ..extensions import db
from ..identifiers import InvalidInput, normalize_unit_code
from ..models import ApiClient, ApiToken, Unit, User
from ..timeutil import utcnow
from . import OperationError, transactional
from .accounts import _require_admin


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


@transactional
def create_client(actor: User | None, name: str, unit_code: str) -> tuple[ApiClient, str]:
    """A new client of the unit, and its secret (shown once, never again)."""
    _require_admin(actor)
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise OperationError("Tên ứng dụng kết nối phải có từ 1 đến 120 ký tự.")
    try:
        code = normalize_unit_code(unit_code or "")
    except InvalidInput as err:
        raise OperationError(str(err)) from None
    unit = db.session.scalars(select(Unit).where(Unit.code == code, Unit.active)).first()
    if unit is None:
        raise OperationError(f"Đơn vị {code} chưa có trong hệ thống hoặc đã ngừng hoạt động.")
    if db.session.scalar(select(ApiClient.id).where(ApiClient.name == name)):
        raise OperationError(f"Đã có ứng dụng kết nối tên «{name}».")
    secret = _new_secret()
    client = ApiClient(name=name, unit=unit, client_id=f"{unit.code}.{secrets.token_hex(8)}",
                       secret_hash=digest(secret))
    db.session.add(client)
    db.session.flush()
    audit.record("api_client.create", actor=actor, target=client.name,
                 details={"client_id": client.client_id, "unit": unit.code})
    return client, secret


@transactional
def rotate_secret(actor: User | None, client: ApiClient) -> str:
    """A new secret for the client; the old one and every token it got stop working at once."""
    _require_admin(actor)
    if not client.active:
        raise OperationError("Ứng dụng kết nối này đã bị thu hồi.")
    secret = _new_secret()
    client.secret_hash, client.rotated_at = digest(secret), utcnow()
    db.session.execute(delete(ApiToken).where(ApiToken.client_id == client.id))
    audit.record("api_client.rotate", actor=actor, target=client.name, details={"client_id": client.client_id})
    return secret


@transactional
def revoke_client(actor: User | None, client: ApiClient) -> ApiClient:
    """The client can no longer get a token; the tokens it has stop working at once."""
    _require_admin(actor)
    if not client.active:
        raise OperationError("Ứng dụng kết nối này đã bị thu hồi.")
    client.revoked_at = utcnow()
    db.session.execute(delete(ApiToken).where(ApiToken.client_id == client.id))
    audit.record("api_client.revoke", actor=actor, target=client.name, details={"client_id": client.client_id})
    return client


def active_client(client_id: str) -> ApiClient | None:
    return db.session.scalars(select(ApiClient).where(ApiClient.client_id == (client_id or "")[:64],
                                                      ApiClient.revoked_at.is_(None))).first()


@transactional
def keep_token(client: ApiClient, access_token: str, expires_in: int) -> None:
    """A token issued to the client, kept hashed (the client's expired ones go at the same time)."""
    now = utcnow()
    db.session.execute(delete(ApiToken).where(ApiToken.client_id == client.id, ApiToken.expires_at < now))
    db.session.add(ApiToken(client_id=client.id, token_hash=digest(access_token), issued_at=now,
                            expires_at=now + timedelta(seconds=expires_in)))
    audit.record("api_client.token", target=client.name, details={"client": client.name})


def client_of_token(token: str) -> ApiClient | None:
    """The active client a live bearer token was issued to, or None."""
    if not token or len(token) > 200:
        return None
    return db.session.scalars(
        select(ApiClient).join(ApiToken, ApiToken.client_id == ApiClient.id)
        .where(ApiToken.token_hash == digest(token), ApiToken.expires_at > utcnow(), ApiClient.revoked_at.is_(None))
    ).first()
