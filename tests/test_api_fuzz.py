"""The API holds to its own description: schemathesis reads /api/v1/openapi.json from the app and
sends every operation generated requests, as the holder (session cookie and X-CSRFToken), as a
unit's one-stop-shop system (a bearer token from /oauth/token) and as nobody. No answer is a 5xx,
and every answer's status, content type and body are the ones the description gives.

Some examples carry real data (the holder's own result, a copy's verification code, a valid push
with a real PDF, a revocation of a pushed result, a share link of the copy and its revocation), so
the answers of success are held to their schemas too, not only the refusals random data earns.

Checks left out, and why: positive_data_acceptance (data valid by the schema is not a valid
manifest row or a PDF; a copy needs a result of the caller's), negative_data_rejection (the list
arguments are read leniently, like the pages': a value that is not a page number or a known filter
counts as absent, as the description says) and ignored_auth (the session and the bearer token are
passed as headers here; refusals without them are checked by the unauthenticated calls)."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from itertools import count

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from portal.operations import api_clients
from portal.operations import copies as copy_ops
from portal.operations import shares as share_ops

from .conftest import UNIT_A, csrf_token, login, make_result
from .test_api_clients import basic
from .test_push import metadata, unique_pdf

AGENT = "api-fuzz"
# schemathesis' WSGI client gives no REMOTE_ADDR; the session is bound to the address it was opened from.
SOCKET = {"environ_base": {"REMOTE_ADDR": "127.0.0.1"}}
EXAMPLES = 50  # per operation and mode: the whole file stays well under two minutes
OPERATIONS = {("GET", "/api/v1/me/results"), ("POST", "/api/v1/me/results/{code}/copies"), ("GET", "/api/v1/me/copies"),
              ("GET", "/api/v1/verify/{verification_code}"), ("GET", "/api/v1/openapi.json"),
              ("PUT", "/api/v1/results/{code}"), ("POST", "/api/v1/results/{code}/revocation"),
              ("POST", "/api/v1/me/copies/{code}/shares"), ("GET", "/api/v1/me/shares"),
              ("DELETE", "/api/v1/me/shares/{share_id}")}
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


@pytest.fixture
def backend():
    """SQLite only: the fuzzing is about the views and the description, not the database."""
    return "sqlite"


class Callers:
    """Who calls, and the real things some examples use."""

    def __init__(self, app, world, pdfs):
        self.pdfs = pdfs
        holder = app.test_client()
        # Flask-Login's strong session protection binds the session to the browser that opened it.
        holder.environ_base["HTTP_USER_AGENT"] = AGENT
        login(holder, "holder_a")
        token = csrf_token(holder, "/me/results")
        self.holder = {"headers": {"X-CSRFToken": token, "User-Agent": AGENT},
                       "cookies": {"session": holder.get_cookie("session").value}}
        self.result = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)
        self.copy = copy_ops.issue_copy(world["holder_a"], self.result)
        self.share = share_ops.create(world["holder_a"], self.copy, "Ngân hàng", 3).share
        client, secret = api_clients.create_client(None, "Một cửa A", UNIT_A)
        answer = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                        headers=basic(client.client_id, secret))
        self.machine = {"headers": {"Authorization": f"Bearer {answer.get_json()['access_token']}"}}
        self.examples, self.seeds = defaultdict(count), count()
        self.pushed: list[str] = []

    def credentials(self, path: str) -> dict:
        """The headers (and cookies: Werkzeug's client sends its own jar, not a Cookie header) of the caller."""
        if path.startswith("/api/v1/me/"):
            return {**self.holder, **SOCKET}
        if path.startswith("/api/v1/results"):
            return {**self.machine, **SOCKET}
        return SOCKET

    def with_real_data(self, case) -> None:
        """One example in three: what the holder or the system would really send."""
        path, params = case.operation.path, case.path_parameters
        n = next(self.examples[path])
        if n % 3:
            return
        k = n // 3
        if path == "/api/v1/me/results/{code}/copies":
            params["code"] = self.result.code
        elif path == "/api/v1/verify/{verification_code}":
            params["verification_code"] = self.copy.display_code
        elif path == "/api/v1/me/copies/{code}/shares":
            params["code"] = self.copy.display_code
            case.body = {"recipient": "Ngân hàng TMCP Ngoại thương", "days": k % 30 + 1}
        elif path == "/api/v1/me/shares/{share_id}":
            params["share_id"] = self.share.id
        elif path == "/api/v1/results/{code}":
            # Three codes: new (201), then other content (409), then the first content again (200).
            code = f"{UNIT_A}-190502-{k % 3 + 1:04d}-KQ1"
            params["code"] = code
            case.body = {"metadata": json.dumps(metadata(document_number=f"{k % 3 + 1}/GP-SKHCN")),
                         "file": unique_pdf(self.pdfs[1], k // 3 % 2)}
            self.pushed.append(code)
        elif path == "/api/v1/results/{code}/revocation" and self.pushed:
            params["code"] = self.pushed[n % len(self.pushed)]
            case.body = {"reason": "Kết quả cấp sai thông tin người được cấp"}


@pytest.fixture
def callers(app, world, pdfs, clock):
    return Callers(app, world, pdfs)


@pytest.fixture
def api_schema(app, callers):
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    loaded.validate()  # a valid OpenAPI 3.1 document, first of all
    return loaded


def fuzz(operation, mode: GenerationMode, callers: Callers, seen: dict) -> None:
    """Hypothesis' examples of one operation, each sent by its caller and by nobody."""
    statuses = set(operation.definition.raw["responses"])

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(mode))
    def holds_to_the_description(case):
        # Hypothesis seeds `random` alike for every example; the search index names its segments
        # with it, and two segments of one name break the index. A seed of each example's own.
        random.seed(next(callers.seeds))
        if mode == GenerationMode.POSITIVE:
            callers.with_real_data(case)
        answer = case.call_and_validate(checks=CHECKS, **callers.credentials(operation.path))
        nobody = case.call_and_validate(checks=CHECKS, **SOCKET)  # refused as described, never a 5xx
        seen[operation.method.upper(), operation.path].add(answer.status_code)
        # Each status by an entry of its own, not only through `default` (which any status matches).
        assert {str(answer.status_code), str(nobody.status_code)} <= statuses, (answer.status_code, nobody.status_code)

    holds_to_the_description()


# schemathesis.pytest.from_fixture needs pytest < 9 (it reads a private attribute of the test item);
# each operation's Hypothesis strategy does the same work and keeps the app a fixture.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_every_answer_matches_the_description(api_schema, callers, mode):
    described, seen = set(), defaultdict(set)
    for found in api_schema.get_all_operations():
        operation = found.ok()
        described.add((operation.method.upper(), operation.path))
        try:
            fuzz(operation, mode, callers, seen)
        except Unsatisfiable:  # nothing of it can be made invalid (a text in the path is a text)
            assert mode == GenerationMode.NEGATIVE, operation.path
    # schemathesis leaves out the path it read the description from; the test below calls it.
    assert described == OPERATIONS - {("GET", "/api/v1/openapi.json")}
    if mode == GenerationMode.POSITIVE:  # the real data reached the answers of success
        assert {201, 200, 409} <= seen["PUT", "/api/v1/results/{code}"]
        assert 200 in seen["POST", "/api/v1/results/{code}/revocation"]
        assert 201 in seen["POST", "/api/v1/me/results/{code}/copies"]
        assert 200 in seen["GET", "/api/v1/verify/{verification_code}"]
        assert 200 in seen["GET", "/api/v1/me/results"] and 200 in seen["GET", "/api/v1/me/copies"]
        assert 201 in seen["POST", "/api/v1/me/copies/{code}/shares"] and 200 in seen["GET", "/api/v1/me/shares"]
        assert 204 in seen["DELETE", "/api/v1/me/shares/{share_id}"]


def test_the_description_is_served_to_anyone(app, api_schema):
    answer = app.test_client().get("/api/v1/openapi.json")
    assert answer.status_code == 200 and answer.is_json
    spec = answer.get_json()
    assert spec["openapi"].startswith("3.1") and {(m.upper(), p) for p, ops in spec["paths"].items()
                                                  for m in ops if m != "parameters"} == OPERATIONS
    assert spec["paths"]["/api/v1/openapi.json"]["get"]["security"] == []
    assert spec["components"]["securitySchemes"]["client"]["flows"]["clientCredentials"]["tokenUrl"].endswith(
        "/oauth/token")
