"""A real OpenID Connect provider for the tests, speaking the national portal's claim names.

Run as its own process on 127.0.0.1 (`python -m tests.oidc_provider --port-file FILE`); the fixture
`oidc_provider` in conftest.py starts it once per test session and stops it. It does what the national
portal's service does for a relying party: discovery, an authorization-code flow with PKCE (S256 only),
client authentication, codes usable once, RS256 ID tokens signed with a key published in the JWKS
(rotated on request), userinfo and RP-initiated logout. The person "logs in" by posting the claims they
assert on the provider's own form, which a browser test fills like a citizen would.

`/_control` (JSON, for the tests only) makes the next token responses misbehave (bad signature, wrong
aud or iss, expired, wrong nonce, alg none, slow, an error, no ID token), rotates the key and reports the
logouts received. `ProviderHandle` is the tests' side of it.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tests.loopback_service import LoopbackService, announce_port

CLIENT_ID = "cong-ket-qua-so-hoa"
CLIENT_SECRET = "bi-mat-thu-nghiem"
CALLBACK_PATH = "/login/oidc/callback"
CODE_SECONDS = 60
TOKEN_SECONDS = 300
# The form a person fills at the provider: the claims they assert, by the national portal's names.
FORM_CLAIMS = ("SoDinhDanh", "HoVaTen", "MaSoThue", "CapDoXacThuc", "sub")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _redirect_allowed(uri: str) -> bool:
    """The relying party's registered callback: the Flask test client's and any loopback live server's."""
    parts = urllib.parse.urlsplit(uri)
    return (parts.scheme == "http" and parts.path == CALLBACK_PATH and not parts.query and not parts.fragment
            and (parts.netloc == "localhost" or (parts.hostname == "127.0.0.1" and parts.port is not None)))


def create_app(issuer: str):
    from flask import Flask, abort, jsonify, redirect, request
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    app = Flask(__name__)
    state = {"key": RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"}),
             "mode": None, "options": {}, "codes": {}, "tokens": {}, "logouts": []}
    lock = threading.Lock()

    @app.get("/.well-known/openid-configuration")
    def discovery():
        return jsonify(
            issuer=issuer, authorization_endpoint=f"{issuer}/authorize", token_endpoint=f"{issuer}/token",
            jwks_uri=f"{issuer}/jwks", userinfo_endpoint=f"{issuer}/userinfo",
            end_session_endpoint=f"{issuer}/end_session", response_types_supported=["code"],
            grant_types_supported=["authorization_code"], subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"], code_challenge_methods_supported=["S256"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
            scopes_supported=["openid", "profile"], claims_supported=["sub", *FORM_CLAIMS[:-1]],
        )

    @app.get("/jwks")
    def jwks():
        return jsonify(keys=[state["key"].as_dict(private=False)])

    def _authorize_request() -> dict:
        args = request.values
        problems = []
        if args.get("client_id") != CLIENT_ID:
            problems.append("client_id")
        if args.get("response_type") != "code":
            problems.append("response_type")
        if not _redirect_allowed(args.get("redirect_uri", "")):
            problems.append("redirect_uri")
        if "openid" not in args.get("scope", "").split():
            problems.append("scope")
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            problems.append("pkce")
        if problems:
            abort(400, f"invalid authorization request: {', '.join(problems)}")
        return {name: args.get(name, "") for name in ("redirect_uri", "state", "nonce", "code_challenge", "scope")}

    @app.get("/authorize")
    def authorize_form():
        asked = _authorize_request()
        hidden = "".join(f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
                         for name, value in request.args.items())
        fields = "".join(
            f'<p><label for="{name}">{label}</label><br><input id="{name}" name="{name}"{extra}></p>'
            for name, label, extra in (
                ("SoDinhDanh", "Số định danh cá nhân", ' inputmode="numeric" autocomplete="off"'),
                ("HoVaTen", "Họ và tên", ""),
                ("MaSoThue", "Mã số thuế (tài khoản tổ chức, nếu có)", ""),
                ("CapDoXacThuc", "Mức độ định danh", ' value="2" inputmode="numeric"'),
            ))
        return (f'<!doctype html><html lang="vi"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>VNeID thử nghiệm</title></head><body><main><h1>Đăng nhập VNeID (thử nghiệm)</h1>"
                f"<p>Ứng dụng {html.escape(asked['redirect_uri'])} xin thông tin định danh của bạn.</p>"
                f'<form method="post" action="/authorize">{hidden}{fields}'
                f'<button type="submit" name="decision" value="allow">Đồng ý và đăng nhập</button> '
                f'<button type="submit" name="decision" value="deny">Từ chối</button></form></main></body></html>')

    @app.post("/authorize")
    def authorize_decision():
        asked = _authorize_request()
        back = asked["redirect_uri"]
        if request.form.get("decision") == "deny":
            return redirect(f"{back}?" + urllib.parse.urlencode({"error": "access_denied", "state": asked["state"]}))
        claims = {}
        for name in FORM_CLAIMS:
            value = request.form.get(name, "").strip()
            if value:
                claims[name] = int(value) if name == "CapDoXacThuc" and value.isdigit() else value
        claims.setdefault("sub", "vneid-" + hashlib.sha256(claims.get("SoDinhDanh", "?").encode()).hexdigest()[:20])
        code = secrets.token_urlsafe(24)
        with lock:
            state["codes"][code] = dict(asked, claims=claims, expires=time.time() + CODE_SECONDS)
        return redirect(f"{back}?" + urllib.parse.urlencode({"code": code, "state": asked["state"]}))

    def _client_authenticated() -> bool:
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            given = (urllib.parse.unquote(auth.username or ""), urllib.parse.unquote(auth.password or ""))
        else:
            given = (request.form.get("client_id", ""), request.form.get("client_secret", ""))
        return given == (CLIENT_ID, CLIENT_SECRET)

    def _error(error: str, status: int = 400):
        return jsonify(error=error), status

    def _id_token(grant: dict, access_token: str) -> str:
        mode, now = state["mode"], int(time.time())
        claims = dict(grant["claims"], iss=issuer, aud=CLIENT_ID, iat=now, exp=now + TOKEN_SECONDS,
                      nonce=grant["nonce"], auth_time=now,
                      at_hash=_b64(hashlib.sha256(access_token.encode()).digest()[:16]))
        if mode == "wrong_aud":
            claims["aud"] = "mot-ung-dung-khac"
        elif mode == "wrong_iss":
            claims["iss"] = "http://127.0.0.1:9/gia-mao"
        elif mode == "expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        elif mode == "wrong_nonce":
            claims["nonce"] = secrets.token_urlsafe(16)
        key = state["key"]
        if mode == "alg_none":
            header = {"alg": "none", "typ": "JWT", "kid": key.kid}
            return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."
        if mode == "bad_signature":  # another key, presented under the published key's id
            key = RSAKey.generate_key(2048, parameters={"kid": key.kid})
        return jwt.encode({"alg": "RS256", "typ": "JWT", "kid": key.kid}, claims, key)

    @app.post("/token")
    def token():
        mode = state["mode"]
        if mode == "slow":
            time.sleep(float(state["options"].get("seconds", 10)))
        if mode == "error":
            return _error("server_error", 500)
        if not _client_authenticated():
            return _error("invalid_client", 401)
        if request.form.get("grant_type") != "authorization_code":
            return _error("unsupported_grant_type")
        with lock:
            grant = state["codes"].pop(request.form.get("code", ""), None)  # a code works once
        if grant is None or grant["expires"] < time.time():
            return _error("invalid_grant")
        if request.form.get("redirect_uri") != grant["redirect_uri"]:
            return _error("invalid_grant")
        verifier = request.form.get("code_verifier", "")
        if _b64(hashlib.sha256(verifier.encode()).digest()) != grant["code_challenge"]:
            return _error("invalid_grant")
        access_token = secrets.token_urlsafe(24)
        with lock:
            state["tokens"][access_token] = grant["claims"]
        answer = {"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS,
                  "scope": grant["scope"]}
        if mode != "no_id_token":
            answer["id_token"] = _id_token(grant, access_token)
        return jsonify(answer), 200, {"Cache-Control": "no-store"}

    @app.get("/userinfo")
    def userinfo():
        auth = request.headers.get("Authorization", "")
        claims = state["tokens"].get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None
        if claims is None:
            return _error("invalid_token", 401)
        return jsonify(claims)

    @app.get("/end_session")
    def end_session():
        with lock:
            state["logouts"].append(request.args.to_dict())
        back = request.args.get("post_logout_redirect_uri")
        if back:
            query = {"state": request.args["state"]} if request.args.get("state") else {}
            return redirect(back + ("?" + urllib.parse.urlencode(query) if query else ""))
        return "Đã đăng xuất khỏi VNeID (thử nghiệm)."

    @app.post("/_control")
    def control():
        order = request.get_json(force=True)
        with lock:
            if order.get("reset"):
                state.update(mode=None, options={}, logouts=[])
            if "mode" in order:
                state["mode"], state["options"] = order["mode"], order.get("options", {})
            if order.get("rotate"):
                state["key"] = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig",
                                                                     "alg": "RS256"})
            return jsonify(mode=state["mode"], kid=state["key"].kid, logouts=state["logouts"])

    return app


def serve(port: int, port_file: Path | None) -> None:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, None, threaded=True)
    issuer = f"http://127.0.0.1:{server.server_port}"
    server.app = create_app(issuer)
    if port_file is not None:
        announce_port(server, port_file)
    server.serve_forever()


class ProviderHandle(LoopbackService):
    """The tests' side of the provider: start and stop it, steer it, and play the person at its form."""

    module, label = "tests.oidc_provider", "oidc-provider"
    client_id = CLIENT_ID
    client_secret = CLIENT_SECRET

    @property
    def issuer(self) -> str:
        return self.base

    def config(self) -> dict:
        """The app config that points the portal at this provider."""
        return {"OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET}

    def misbehave(self, mode: str, **options) -> None:
        self.control(mode=mode, options=options)

    def rotate_keys(self) -> str:
        return self.control(rotate=True)["kid"]

    @property
    def logouts(self) -> list[dict]:
        return self.control()["logouts"]

    def sign_in(self, authorize_url: str, decision: str = "allow", **claims) -> str:
        """Play the person at the provider's form; the URL the provider sends the browser back to."""
        parts = urllib.parse.urlsplit(authorize_url)
        assert f"{parts.scheme}://{parts.netloc}" == self.issuer, authorize_url
        with urllib.request.urlopen(authorize_url, timeout=10) as form:  # the form is shown (checks the request)
            assert form.status == 200
        fields = dict(urllib.parse.parse_qsl(parts.query), decision=decision,
                      **{name: str(value) for name, value in claims.items()})
        request = urllib.request.Request(f"{self.issuer}/authorize", data=urllib.parse.urlencode(fields).encode(),
                                         method="POST")

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        try:
            urllib.request.build_opener(NoRedirect).open(request, timeout=10)
        except urllib.error.HTTPError as answer:
            if answer.code in (302, 303):
                return answer.headers["Location"]
            raise
        raise AssertionError("the provider did not redirect back")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path)
    arguments = parser.parse_args()
    serve(arguments.port, arguments.port_file)
