"""The token endpoint's authorization server: Authlib's, for the client credentials grant only
(RFC 6749 §4.4), with HTTP Basic client authentication. Clients and tokens are kept by
portal/operations/api_clients.py; a token is a random string kept hashed, looked up on each call
(views/machine.py), so that revoking a client ends its tokens at once."""

from __future__ import annotations

import flask
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from flask import Flask

from . import audit
from .operations import api_clients


class _ClientCredentials(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]


def _save_token(token: dict, request) -> None:
    flask.request.environ[audit.CLIENT_KEY] = request.client  # authenticated: the audit names it
    api_clients.keep_token(request.client, token["access_token"], int(token["expires_in"]))


def init_app(app: Flask) -> None:
    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {"client_credentials": app.config["API_TOKEN_SECONDS"]})
    server = AuthorizationServer(app, query_client=api_clients.active_client, save_token=_save_token)
    server.register_grant(_ClientCredentials)
    app.extensions["oauth_server"] = server

