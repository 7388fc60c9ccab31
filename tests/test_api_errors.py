"""Under /api/ every answer is JSON, errors too, whatever raised them and however early; and
the OpenAPI description lists each status an operation answers."""

from __future__ import annotations

import re
import time

import pytest

from portal import search
from portal.extensions import db

from .conftest import UNIT_A, csrf_token, login, make_app, make_result

VIETNAMESE = re.compile(r"[À-ỹ]")


def assert_json_error(response, status: int, error: str) -> None:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.is_json, response.get_data(as_text=True)[:300]
    assert response.json["error"] == error and VIETNAMESE.search(response.json["message"]), response.json


def spec_statuses(spec: dict, path: str, method: str) -> set[str]:
    """The statuses the description gives for the operation that serves `path`."""
    for template, operations in spec["paths"].items():
        if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), path):
            return set(operations[method.lower()]["responses"])
    raise AssertionError(f"{method} {path} is not described")


@pytest.fixture
def published(world, pdfs):
    return make_result(world, pdfs[0], reviewer="reviewer_a")


@pytest.fixture
def answered(app, client):
    """Every (method, path, status) the test saw, to hold the description to."""
    seen = []
    yield seen
    spec = client.get("/api/v1/openapi.json").json
    for method, path, status in seen:
        assert str(status) in spec_statuses(spec, path, method), (method, path, status)


def test_errors_raised_before_and_in_the_views_are_json(app, client, world, published, answered):
    def call(method: str, path: str, status: int, error: str, **kwargs):
        response = client.open(path, method=method, **kwargs)
        assert_json_error(response, status, error)
        answered.append((method, path, status))
        return response

    # Nobody, then an account with no store of its own.
    call("GET", "/api/v1/me/results", 401, "unauthorized")
    call("GET", "/api/v1/me/copies", 401, "unauthorized")
    call("POST", f"/api/v1/me/results/{published.code}/copies", 401, "unauthorized")
    login(client, "staff_a")
    call("GET", "/api/v1/me/results", 403, "forbidden")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/results")})

    # Routing: no such route, no such method (with the methods that are).
    assert_json_error(client.get("/api/v1/khong-co"), 404, "not_found")
    assert_json_error(client.get("/api/khong-co"), 404, "not_found")
    wrong = client.delete("/api/v1/me/results")
    assert_json_error(wrong, 405, "method_not_allowed")
    assert "GET" in wrong.headers["Allow"]
    call("GET", "/api/v1/verify/ABCDEFGHJKLMNPQR", 404, "not_found")

    login(client, "holder_a")
    token = csrf_token(client, "/me/results")
    copies = f"/api/v1/me/results/{published.code}/copies"
    call("POST", copies, 400, "csrf")  # the session rides along; the header must too
    call("POST", copies, 400, "csrf", headers={"X-CSRFToken": "sai"})
    call("POST", "/api/v1/me/results/KHONG-CO/copies", 404, "not_found", headers={"X-CSRFToken": token})
    # A body over what this endpoint takes is refused before anything reads it, CSRF included.
    call("POST", copies, 413, "too_large", headers={"X-CSRFToken": token}, data=b"x" * (100 * 1024),
         content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_rate_limit_is_json(db_url, tmp_path, world, signing_keys):
    limited = make_app(db_url, tmp_path / "limited", RATELIMIT_ENABLED=True, VERIFY_RATE_LIMIT="1 per minute",
                       **signing_keys)
    client = limited.test_client()
    assert client.get("/api/v1/verify/ABCDEFGHJKLMNPQR").status_code == 404
    answer = client.get("/api/v1/verify/ABCDEFGHJKLMNPQR")
    assert_json_error(answer, 429, "too_many_requests")
    assert int(answer.headers["Retry-After"]) > 0
    assert "429" in spec_statuses(client.get("/api/v1/openapi.json").json, "/api/v1/verify/X", "GET")


def test_an_unexpected_failure_is_json_and_logged(tmp_path, caplog):
    # The database cannot be opened: a real failure nobody handles on the way.
    broken = make_app(f"sqlite:///{tmp_path / 'no-such-folder' / 'portal.db'}", tmp_path / "data",
                      PROPAGATE_EXCEPTIONS=False)
    client = broken.test_client()
    assert_json_error(client.get("/api/v1/verify/ABCDEFGHJKLMNPQR"), 500, "internal_error")
    assert "unable to open database file" in caplog.text
    page = client.get("/verify/ABCDEFGHJKLMNPQR")
    assert page.status_code == 500 and "Lỗi hệ thống" in page.get_data(as_text=True)  # a page elsewhere


def test_search_being_restored_is_json(db_url, tmp_path, world, published):
    restoring = make_app(db_url, tmp_path / "other-data", SEARCH_REBUILD_IN_BACKGROUND=True)
    client = restoring.test_client()
    with restoring.app_context(), search.search_index().rebuild_lock():  # the rebuild cannot finish yet
        login(client, "holder_a")
        answer = client.get("/api/v1/me/results?q=giấy phép")
    assert_json_error(answer, 503, "search_unavailable")
    assert "503" in spec_statuses(client.get("/api/v1/openapi.json").json, "/api/v1/me/results", "GET")
    for _ in range(200):  # the rebuild, free to run now, ends before the test's database is emptied
        if client.get("/healthz").status_code == 200:
            break
        time.sleep(0.05)
    assert client.get("/healthz").status_code == 200
    with restoring.app_context():
        db.engine.dispose()


def test_the_description_describes_every_error(client):
    spec = client.get("/api/v1/openapi.json").json
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":  # the path's own parameters, not an operation
                continue
            assert operation["responses"]["default"], (path, method)  # whatever else: an Error
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    target = response.get("$ref", "").rsplit("/", 1)[-1]
                    described = spec["components"]["responses"].get(target, response)
                    assert described["description"], (path, method, status)
    assert set(spec["components"]["responses"]) >= {
        "BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "METHOD_NOT_ALLOWED", "REQUEST_ENTITY_TOO_LARGE",
        "UNPROCESSABLE_ENTITY", "TOO_MANY_REQUESTS", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE",
        "INSUFFICIENT_STORAGE", "DEFAULT_ERROR"}
    assert spec["components"]["schemas"]["Error"]["required"] == ["error", "message"]


def test_a_body_its_schema_refuses_is_422_with_each_fields_error_in_vietnamese(app, world):
    from .test_push import Machine

    one_stop = Machine(app.test_client(), UNIT_A, "Một cửa A")
    url = "/api/v1/results/KHONG-CO/revocation"
    for kwargs, field in (({"json": {}}, "reason"), ({"json": {"reason": 5}}, "reason"), ({"json": [1]}, "body"),
                          ({"data": "{sai", "content_type": "application/json"}, "body"),
                          ({"data": "reason=x"}, "reason")):
        answer = one_stop.http.post(url, headers=one_stop.headers, **kwargs)
        assert_json_error(answer, 422, "invalid")
        assert set(answer.json["errors"]) == {field} and VIETNAMESE.search(answer.json["errors"][field]), kwargs
    assert "422" in spec_statuses(one_stop.http.get("/api/v1/openapi.json").json, url, "POST")
