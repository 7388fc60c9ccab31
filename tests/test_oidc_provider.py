"""The test OpenID provider itself does what the national portal's service does (so the portal's tests
against it mean something): PKCE enforced, codes once, signed tokens that verify against its JWKS, and
each misbehaviour it is asked for."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from .oidc_provider import CLIENT_ID, CLIENT_SECRET

CALLBACK = "http://localhost/login/oidc/callback"


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.load(answer)


def _authorize_url(provider, challenge: str, nonce: str = "n-0S6") -> str:
    return f"{provider.issuer}/authorize?" + urllib.parse.urlencode({
        "client_id": CLIENT_ID, "response_type": "code", "redirect_uri": CALLBACK, "scope": "openid",
        "state": "s-1", "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"})


def _exchange(provider, code: str, verifier: str) -> tuple[int, dict]:
    body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                                   "code_verifier": verifier, "client_id": CLIENT_ID,
                                   "client_secret": CLIENT_SECRET}).encode()
    try:
        with urllib.request.urlopen(f"{provider.issuer}/token", data=body, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def _flow(provider, **claims):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    back = provider.sign_in(_authorize_url(provider, challenge), **claims)
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)["code"][0]
    return code, verifier


def test_a_signed_id_token_for_the_claims_the_person_asserted_and_a_code_used_once(provider):
    metadata = _get(f"{provider.issuer}/.well-known/openid-configuration")
    assert metadata["issuer"] == provider.issuer and metadata["code_challenge_methods_supported"] == ["S256"]
    code, verifier = _flow(provider, SoDinhDanh="051089004217", HoVaTen="Phạm Minh Khánh", CapDoXacThuc=2)
    assert _exchange(provider, code, "a-wrong-verifier")[1] == {"error": "invalid_grant"}  # and the code is spent
    code, verifier = _flow(provider, SoDinhDanh="051089004217", HoVaTen="Phạm Minh Khánh", CapDoXacThuc=2)
    status, answer = _exchange(provider, code, verifier)
    assert status == 200
    token = jwt.decode(answer["id_token"], KeySet.import_key_set(_get(f"{provider.issuer}/jwks")))
    assert token.claims["SoDinhDanh"] == "051089004217" and token.claims["HoVaTen"] == "Phạm Minh Khánh"
    assert token.claims["CapDoXacThuc"] == 2 and token.claims["aud"] == CLIENT_ID and "MaSoThue" not in token.claims
    assert _exchange(provider, code, verifier) == (400, {"error": "invalid_grant"})


@pytest.mark.parametrize("mode", ["bad_signature", "alg_none"])
def test_misbehaving_tokens_do_not_verify(provider, mode):
    provider.misbehave(mode)
    code, verifier = _flow(provider, SoDinhDanh="051089004217")
    id_token = _exchange(provider, code, verifier)[1]["id_token"]
    with pytest.raises(Exception):  # noqa: B017 - joserfc raises a different error for each
        jwt.decode(id_token, KeySet.import_key_set(_get(f"{provider.issuer}/jwks")))


def test_keys_rotate_and_the_provider_comes_back_after_a_stop(provider):
    before = _get(f"{provider.issuer}/jwks")["keys"][0]["kid"]
    assert provider.rotate_keys() != before
    provider.stop()
    with pytest.raises(OSError):
        _get(f"{provider.issuer}/jwks")
    provider.start()
    assert _get(f"{provider.issuer}/jwks")["keys"]
