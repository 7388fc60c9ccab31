"""Machine clients: a unit's one-stop-shop system, which pushes the results it issues."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime
from .units import Unit


class ApiClient(db.Model):
    """One client of one unit. Its secret is kept as a SHA-256: it is random and long, so a slow
    password hash would only slow every token request."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    # What Authlib's authorization server asks of a client (authlib.oauth2.rfc6749.ClientMixin).
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope) -> str:
        return ""  # one right only: pushing the unit's results

    def check_redirect_uri(self, redirect_uri) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        import hashlib
        import hmac

        given = hashlib.sha256((client_secret or "").encode()).hexdigest()
        return self.active and hmac.compare_digest(given, self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic"

    def check_response_type(self, response_type) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"

    def __repr__(self) -> str:
        return f"<ApiClient {self.name}>"


class ApiToken(db.Model):
    """A bearer token given to a client, kept as its SHA-256: deleted when the client is revoked
    or its secret rotated, so that those tokens stop working at once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    client: Mapped[ApiClient] = relationship()
