"""Numbers in URLs: whatever is typed for a page, a year or an id, no route answers 500."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from werkzeug.routing import IntegerConverter

from portal.extensions import db
from portal.models import AuditEvent

from .conftest import login, make_result

HUGE = "99999999999999999999"
BAD_NUMBERS = [HUGE, "-1", "0", "abc", "٣", "²"]  # "²".isdigit(), yet int("²") fails


def _get_routes(app) -> list:
    return [rule for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and rule.endpoint != "static"]


def _url(rule, samples: dict, huge_ints: bool = False) -> str:
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = HUGE if huge_ints else samples.get(name, 1)
        else:
            values[name] = samples.get(name, "khong-co")
    path = rule.build(values, append_unknown=False)[1]
    return path


@pytest.mark.slow
def test_every_list_and_the_api_take_any_page_number(app, world, pdfs):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # an exception is a 500 answer, as in production
    result = make_result(world, pdfs[0], reviewer="reviewer_a")
    samples = {"result_id": result.id, "code": result.code, "page_number": 1}
    routes = _get_routes(app)
    takes_page = {r.endpoint for r in routes}
    assert {"admin.copy_register", "admin.audit_log", "admin.review_queue", "admin.results", "me.copy_list",
            "me.access_log", "me.results", "api.my_results", "api.my_copies"} <= takes_page

    failures = []
    for who in (None, "holder_a", "staff_a", "admin"):
        client = app.test_client()
        if who:
            login(client, who)
        for rule in routes:
            for value in BAD_NUMBERS:
                query = urlencode({"page": value, "per_page": value, "year": value, "batch": value, "unit": value})
                url = f"{_url(rule, samples)}?{query}"
                if (status := client.get(url).status_code) >= 500:
                    failures.append((who, url, status))
            if (status := client.open(_url(rule, samples), method="OPTIONS").status_code) >= 500:
                failures.append((who, f"OPTIONS {rule.rule}", status))
            if any(isinstance(c, IntegerConverter) for c in rule._converters.values()):
                url = _url(rule, samples, huge_ints=True)
                if (status := client.get(url).status_code) != 404 and status < 500 and who == "admin":
                    failures.append((who, url, f"{status}, not 404"))
                elif status >= 500:
                    failures.append((who, url, status))
    assert not failures, failures


def test_a_bad_page_number_is_the_first_page(app, client, world):
    login(client, "admin")
    assert db.session.query(AuditEvent).count() >= 1  # the log-in
    for value in ("abc", "-2", "0", HUGE):
        page = client.get(f"/admin/audit?page={value}")
        assert page.status_code == 200 and "admin" in page.get_data(as_text=True)
    api = app.test_client()
    login(api, "holder_a")
    for value in ("abc", "-2", "0", HUGE):
        answer = api.get(f"/api/v1/me/copies?page={value}&per_page={value}")
        assert answer.status_code == 200 and answer.json["page"] == 1
        assert answer.json["per_page"] == (100 if value == HUGE else 20)  # more than a page holds: the most
