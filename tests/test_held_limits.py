"""Issue 12, what held: the rate limits of the login, the public look-up, the claim of an account and
the verification page and API count per address, and a changing X-Forwarded-For does not reset
them (behind one proxy, the address that proxy saw is what counts); the public look-up answers a
wrong code, a wrong ID number and a draft with the same page."""

from __future__ import annotations

import itertools
import re

import pytest

from .conftest import CCCD_A, CCCD_B, PASSWORD, csrf_token, make_app

LIMIT = 3
ENDPOINTS = ["login", "look-up", "claim", "verify page", "verify api"]


@pytest.fixture
def limited(db_url, tmp_path, world, signing_keys):
    """An app with every limit on and low; `limited(hops)` trusts that many proxies."""
    def make(hops: int = 0):
        return make_app(db_url, tmp_path / f"limited-{hops}", RATELIMIT_ENABLED=True, PROXY_HOPS=hops,
                        LOGIN_RATE_LIMIT=f"{LIMIT} per minute", PUBLIC_LOOKUP_RATE_LIMIT=f"{LIMIT} per minute",
                        VERIFY_RATE_LIMIT=f"{LIMIT} per minute", **signing_keys)
    return make


def _sender(client, what: str):
    """One request of kind `what`, with the given X-Forwarded-For; its CSRF token fetched first (a
    GET, which no limit counts)."""
    page = {"login": "/login", "look-up": "/", "claim": "/claim"}.get(what)
    token = csrf_token(client, page) if page else None
    code = "ABCDEFGHJKLMNPQR"  # unknown codes count as much as known ones

    def send(forwarded_for: str):
        headers = {"X-Forwarded-For": forwarded_for}
        if what == "login":
            return client.post("/login", data={"csrf_token": token, "username": "khong-co", "password": PASSWORD},
                               headers=headers)
        if what == "look-up":
            return client.post("/lookup", data={"csrf_token": token, "result_code": "000.02.21.H48-190315-9001-KQ1",
                                                "holder_id": CCCD_B}, headers=headers)
        if what == "claim":
            return client.post("/claim", data={"csrf_token": token, "code": "AAAA-BBBB-CCCC", "holder_id": CCCD_A,
                                               "username": "ke-gian", "password": "mat-khau-ke-gian",
                                               "confirm": "mat-khau-ke-gian"}, headers=headers)
        if what == "verify page":
            return client.get(f"/verify/{code}", headers=headers)
        return client.get(f"/api/v1/verify/{code}", headers=headers)
    return send


@pytest.mark.parametrize("what", ENDPOINTS)
def test_a_changing_x_forwarded_for_does_not_reset_a_limit(limited, what):
    app = limited(hops=0)
    send = _sender(app.test_client(), what)
    spoofed = (f"198.51.100.{n}" for n in itertools.count(1))
    statuses = [send(next(spoofed)).status_code for _ in range(LIMIT + 2)]
    assert 429 not in statuses[:LIMIT] and statuses[LIMIT:] == [429, 429], statuses
    # Another address has its own budget: the limit is per address, not for everyone.
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.77"
    assert _sender(elsewhere, what)("198.51.100.1").status_code != 429


@pytest.mark.parametrize("what", ENDPOINTS)
def test_behind_one_proxy_the_address_the_proxy_saw_counts(limited, what):
    app = limited(hops=1)
    send = _sender(app.test_client(), what)
    # The client makes up the first addresses; the proxy appends the one it saw.
    statuses = [send(f"203.0.113.{n}, 10.0.0.7").status_code for n in range(LIMIT + 1)]
    assert 429 not in statuses[:LIMIT] and statuses[LIMIT] == 429, statuses
    assert send("203.0.113.99, 10.0.0.8").status_code != 429  # another client of the proxy
    assert send("10.0.0.7").status_code == 429


def test_the_look_up_answers_a_wrong_code_a_wrong_id_and_a_draft_with_the_same_page(client, victims):
    """Nothing tells a guesser which half was right: same status, same page (but for the CSRF token
    and the values typed back into the form)."""
    token = csrf_token(client, "/")
    misses = {
        "wrong code": ("000.02.21.H48-190315-9999-KQ1", CCCD_A),
        "wrong ID number": (victims.citizen.code, CCCD_B),
        "a draft": (victims.draft.code, CCCD_A),
        "another holder's result": (victims.own_b.code, CCCD_A),
    }
    pages = {}
    for label, (code, holder_id) in misses.items():
        response = client.post("/lookup", data={"csrf_token": token, "result_code": code, "holder_id": holder_id})
        typed_back = re.sub(r'value="[^"]*"', 'value=""', response.get_data(as_text=True))
        pages[label] = (response.status_code, typed_back)
    assert len(set(pages.values())) == 1, {label: page[0] for label, page in pages.items()}
    status, page = next(iter(pages.values()))
    assert status == 200 and "Không tìm thấy kết quả nào khớp" in page
    found = client.post("/lookup", data={"csrf_token": token, "result_code": victims.citizen.code,
                                         "holder_id": CCCD_A})
    assert "Tình trạng hôm nay" in found.get_data(as_text=True)  # the form does answer when both are right
