"""Every holder-facing route and API endpoint, for every kind of caller: each gets exactly what is
theirs, and 404 (pages) or an empty answer (API) for what is not, whatever code is in the URL."""

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import User
from portal.operations import claims
from portal.operations.accounts import create_user

from .conftest import CCCD_B, MST_C, PASSWORD, login, make_result


@pytest.fixture
def matrix(app, world, pdfs):
    mine = {
        "holder_a": make_result(world, pdfs[0], reviewer="reviewer_a"),
        "holder_b": make_result(world, pdfs[1], reviewer="reviewer_a", holder_id=CCCD_B, document_number="2/GP-SKHCN"),
        "member_c": make_result(world, pdfs[2], reviewer="reviewer_a", holder_id=MST_C, document_number="3/GP-SKHCN"),
    }
    create_user(None, "holder_b", "holder", PASSWORD, holder_id=CCCD_B)
    create_user(None, "member_c", "holder", PASSWORD, holder_id=MST_C)
    leaver = create_user(None, "removed_c", "holder", PASSWORD, holder_id=MST_C)
    clients = {}
    for who in ["holder_a", "holder_b", "member_c", "removed_c", "staff_a", "anonymous"]:
        clients[who] = app.test_client()
        if who != "anonymous":
            login(clients[who], who)
    member = db.session.scalars(select(User).where(User.username == "member_c")).one()
    claims.remove_member(member, leaver)  # removed while logged in
    return mine, clients


def test_the_holder_access_matrix(matrix):
    mine, clients = matrix
    for who, client in clients.items():
        own = mine.get(who)
        for result in mine.values():
            for url in (f"/me/results/{result.code}", f"/me/results/{result.code}/file",
                        f"/me/results/{result.code}/pages/1.png"):
                status = client.get(url).status_code
                if who in ("anonymous", "removed_c"):
                    assert status == 302, (who, url)  # to the login page
                elif result is own:
                    assert status == 200, (who, url)
                else:
                    assert status == 404, (who, url, status)
        listing = client.get("/me/results")
        api = client.get("/api/v1/me/results?per_page=100")
        if who in ("anonymous", "removed_c"):
            assert listing.status_code == 302 and api.status_code == 401, who
        elif who == "staff_a":
            assert listing.status_code == 404 and api.status_code == 403  # logged in, but has no store
        else:
            assert [r["code"] for r in api.json["results"]] == [own.code], who
            page = listing.get_data(as_text=True)
            assert all((r.code in page) == (r is own) for r in mine.values()), who
        for q in [r.code for r in mine.values()] + [CCCD_B, MST_C]:
            if api.status_code == 200:
                found = client.get(f"/api/v1/me/results?q={q}").json["results"]
                assert {r["code"] for r in found} <= {own.code}, (who, q)
