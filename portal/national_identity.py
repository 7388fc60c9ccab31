"""The national identity provider (VNeID through the National Public Service Portal's OpenID Connect):
the portal as its client, through Authlib.

Authorization code flow with PKCE (S256), `state` and `nonce` kept in the signed session cookie by
Authlib; discovery from the issuer; the ID token's signature checked against the provider's JWKS
(fetched again when a token names a key it does not hold: the provider rotated its keys), and its
`iss`, `aud`, `exp`, `iat` and `nonce`. Only the algorithms of ALGORITHMS are accepted, whatever the
provider's metadata offers: never `none`, never a shared-secret HMAC.

Every failure becomes `LoginRefused(reason, ...)`: a short reason code for the audit trail, a
Vietnamese message and the HTTP status of the page that says it. Who the verified claims open is
decided elsewhere (portal/operations/national_login.py).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from flask import current_app, session
from joserfc import errors as jose

from .errors import UserError

NAME = "vneid"
# Asymmetric signatures only: "none" and HS256 (signed with the client secret the portal holds too) never pass.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
METADATA_SECONDS = 3600  # discovery is read again after this long
LEEWAY_SECONDS = 60  # clock difference tolerated on exp and iat
CALLBACK_PATH = "/login/oidc/callback"

PROVIDER_NAME = "Cổng Dịch vụ công quốc gia / VNeID"
TRY_AGAIN = "Bạn có thể thử lại, hoặc đăng nhập bằng tài khoản và mật khẩu của Cổng (bên dưới)."
MESSAGES = {
    "bad_state": ("Phiên đăng nhập bằng VNeID không hợp lệ hoặc đã được dùng (có thể bạn đã bấm quay lại, "
                  "hoặc mở liên kết đăng nhập cũ). Hãy bắt đầu đăng nhập lại từ trang Đăng nhập.", 400),
    "access_denied": ("Bạn đã hủy đăng nhập, hoặc không đồng ý chia sẻ thông tin định danh với Cổng. "
                      "Không có gì thay đổi.", 400),
    "provider_error": ("Cổng Dịch vụ công quốc gia báo lỗi khi đăng nhập. " + TRY_AGAIN, 400),
    "token_refused": ("Cổng Dịch vụ công quốc gia không chấp nhận mã đăng nhập (mã đã được dùng hoặc đã hết hạn). "
                      "Hãy bắt đầu đăng nhập lại.", 400),
    "no_id_token": ("Cổng Dịch vụ công quốc gia không gửi thông tin định danh. " + TRY_AGAIN, 502),
    "untrusted_token": ("Thông tin định danh nhận được không hợp lệ (chữ ký, nơi cấp, người nhận, thời hạn "
                        "hoặc mã phiên không đúng) nên Cổng không chấp nhận. " + TRY_AGAIN, 400),
    "provider_down": ("Hiện không kết nối được với Cổng Dịch vụ công quốc gia để đăng nhập bằng VNeID. "
                      + TRY_AGAIN, 502),
    "timeout": ("Cổng Dịch vụ công quốc gia không trả lời kịp nên chưa đăng nhập được bằng VNeID. "
                + TRY_AGAIN, 504),
    "provider_misconfigured": ("Cấu hình đăng nhập bằng VNeID của Cổng không khớp với máy chủ định danh; "
                               "Sở đã được ghi nhận sự cố. " + TRY_AGAIN, 502),
}


class LoginRefused(UserError):
    """A national-identity login that does not happen: `reason` for the audit trail, the Vietnamese
    message as str(err), `status` for the page. Nothing was created or changed."""

    def __init__(self, reason: str, message: str | None = None, status: int | None = None,
                 detail: str = ""):
        known_message, known_status = MESSAGES.get(reason, MESSAGES["untrusted_token"])
        super().__init__(message or known_message)
        self.reason, self.status, self.detail = reason, status or known_status, detail


@dataclass(frozen=True)
class Asserted:
    """What the provider asserted, once its ID token has passed every check."""

    issuer: str
    claims: dict
    id_token: str
    next_url: str | None


def configured() -> bool:
    config = current_app.config
    return bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"))


def callback_url() -> str:
    """The redirect URI registered with the provider: from BASE_URL, never from the request's Host."""
    return current_app.config["BASE_URL"] + CALLBACK_PATH


class _Provider(FlaskOAuth2App):
    """Authlib's Flask client with the portal's rules on the discovered metadata."""

    def __init__(self, issuer: str, **kwargs):
        super().__init__(FlaskIntegration(NAME), name=NAME,
                         server_metadata_url=issuer + "/.well-known/openid-configuration", **kwargs)
        self.issuer = issuer
        self._lock = threading.Lock()

    def load_server_metadata(self):
        with self._lock:
            loaded = self.server_metadata.get("_loaded_at")
            if loaded and time.time() - loaded > METADATA_SECONDS:
                self.server_metadata.clear()
            metadata = super().load_server_metadata()
            # OpenID Connect Discovery §4.3: the issuer in the document is the one it was fetched from.
            if metadata.get("issuer") != self.issuer:
                self.server_metadata.clear()
                raise LoginRefused("provider_misconfigured", detail=f"issuer {metadata.get('issuer')!r}")
            # Authlib takes the algorithms from the provider's metadata; the portal decides them.
            metadata["id_token_signing_alg_values_supported"] = ALGORITHMS
            return metadata


def _client() -> _Provider:
    """One client per configuration (tests change it at run time), kept with the app: it caches
    the discovered metadata and the keys."""
    config = current_app.config
    key = (config["OIDC_ISSUER"], config["OIDC_CLIENT_ID"], config["OIDC_CLIENT_SECRET"],
           config["OIDC_SCOPES"], config["OIDC_TIMEOUT"])
    clients = current_app.extensions.setdefault("portal_national_identity", {})
    if key not in clients:
        scopes = config["OIDC_SCOPES"].split()
        clients.clear()
        clients[key] = _Provider(
            config["OIDC_ISSUER"], client_id=config["OIDC_CLIENT_ID"], client_secret=config["OIDC_CLIENT_SECRET"],
            client_kwargs={"scope": " ".join(["openid"] + [s for s in scopes if s != "openid"]),
                           "code_challenge_method": "S256", "default_timeout": config["OIDC_TIMEOUT"]},
        )
    return clients[key]


def _network(err: Exception) -> LoginRefused:
    if isinstance(err, requests.Timeout):
        return LoginRefused("timeout", detail=type(err).__name__)
    return LoginRefused("provider_down", detail=f"{type(err).__name__}: {err}"[:200])


def start(next_url: str | None) -> str:
    """The provider's authorization URL for a new login; `state`, `nonce` and the PKCE verifier
    stay in the session until the provider sends the person back."""
    client = _client()
    try:
        made = client.create_authorization_url(callback_url())
    except (requests.RequestException, ValueError) as err:
        raise _network(err) from None
    # One login in progress per browser: an abandoned one's secrets go, or the cookie would grow past
    # what browsers keep.
    for key in [key for key in session if key.startswith(f"_state_{NAME}_")]:
        session.pop(key)
    client.save_authorize_data(redirect_uri=callback_url(), next_url=next_url, state=made["state"],
                               nonce=made["nonce"], code_verifier=made["code_verifier"])
    return made["url"]


def finish(args) -> Asserted:
    """The provider sent the person back with `args`: exchange the code, check the ID token."""
    client = _client()
    if args.get("error"):
        reason = "access_denied" if args.get("error") == "access_denied" else "provider_error"
        state = args.get("state")
        if state:
            client.framework.clear_state_data(session, state)
        raise LoginRefused(reason, detail=str(args.get("error"))[:100])
    pending = client.framework.get_state_data(session, args.get("state")) if args.get("state") else None
    if not pending or not args.get("code"):
        raise LoginRefused("bad_state")
    try:
        # The configured issuer and this client as the audience, whatever `azp` says (Authlib alone
        # would let a token for another audience pass when its `azp` names this client).
        token = client.authorize_access_token(leeway=LEEWAY_SECONDS, claims_options={
            "iss": {"essential": True, "value": client.issuer},
            "aud": {"essential": True, "value": client.client_id}})
    except MismatchingStateError:
        raise LoginRefused("bad_state") from None
    except jose.JoseError as err:
        raise LoginRefused("untrusted_token", detail=_why_untrusted(err)) from None
    except AuthlibBaseError as err:  # the token endpoint's answer: invalid_grant for a code used twice
        raise LoginRefused("token_refused", detail=str(getattr(err, "error", ""))[:100]) from None
    except (requests.RequestException, ValueError) as err:
        raise _network(err) from None
    if not isinstance(token.get("userinfo"), dict) or not token.get("id_token"):
        raise LoginRefused("no_id_token")
    return Asserted(issuer=client.issuer, claims=dict(token["userinfo"]), id_token=token["id_token"],
                    next_url=pending.get("next_url"))


def _why_untrusted(err: Exception) -> str:
    """The audit trail's word for what was wrong with the ID token."""
    if isinstance(err, jose.BadSignatureError):
        return "bad_signature"
    if isinstance(err, jose.UnsupportedAlgorithmError | jose.MissingAlgorithmError):
        return "algorithm_refused"
    if isinstance(err, jose.InvalidKeyIdError | jose.MissingKeyError):
        return "unknown_key"
    if isinstance(err, jose.ExpiredTokenError):
        return "expired"
    if isinstance(err, jose.ClaimError):
        return f"{err.error}:{err.claim}"[:60]
    return type(err).__name__[:60]


def logout_url(id_token: str) -> str | None:
    """Where to send the browser so that the provider ends its session too, and then back to the
    portal's home page; None when the provider has no end_session_endpoint (or cannot be reached:
    the portal's own session has ended in any case)."""
    try:
        client = _client()
        if not client.load_server_metadata().get("end_session_endpoint"):
            return None
        made = client.create_logout_url(post_logout_redirect_uri=current_app.config["BASE_URL"] + "/",
                                        id_token_hint=id_token, state=secrets.token_urlsafe(16))
    except (requests.RequestException, ValueError, LoginRefused):
        return None
    return made["url"]


def _origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def form_targets() -> list[str]:
    """Origins a form of the portal may lead to (the CSP's form-action): the provider's, for the
    logout that returns through its end_session_endpoint. Read from what is already known: no request."""
    if not configured():
        return []
    origins = {_origin(current_app.config["OIDC_ISSUER"])}
    clients = current_app.extensions.get("portal_national_identity") or {}
    for client in clients.values():
        origins.add(_origin(client.server_metadata.get("end_session_endpoint", "")))
    return sorted(origin for origin in origins if origin)
