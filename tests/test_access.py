"""Staff reach only their unit's results, whatever id they put in a URL; holders never reach /admin."""

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent

from .conftest import csrf_token, login, make_result


def _result_routes(app):
    """Every route that takes a result id, with the methods it answers: new routes are covered too."""
    for rule in app.url_map.iter_rules():
        if "result_id" in rule.arguments:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def _url(rule, result_id):
    from flask import url_for

    values = {"result_id": result_id}
    if "page_number" in rule.arguments:
        values["page_number"] = 1
    return url_for(rule.endpoint, **values)


@pytest.fixture
def unit_a_results(world, pdfs):
    published = make_result(world, pdfs[0], reviewer="reviewer_a")
    draft = make_result(world, pdfs[1], document_number="126/GP-SKHCN")
    return published, draft


@pytest.mark.parametrize("who", ["staff_b", "reviewer_b"])
def test_other_units_staff_get_404_on_every_result_route(app, client, world, unit_a_results, who):
    login(client, who)
    token = csrf_token(client, "/admin/results")
    routes = list(_result_routes(app))
    assert len(routes) >= 8
    for result in unit_a_results:
        before = (result.status, len(result.history))
        with app.test_request_context():
            urls = [(_url(rule, result.id), method) for rule, method in routes]
        for url, method in urls:
            data = {"csrf_token": token, "return-reason": "Lý do thử nghiệm", "revoke-reason": "Lý do thử nghiệm"}
            response = client.open(url, method=method, data=data if method == "POST" else None)
            assert response.status_code == 404, (url, method, response.status_code)
        db.session.refresh(result)
        assert (result.status, len(result.history)) == before
    # Nothing of unit A in unit B's lists, even when searched for by code or holder.
    for result in unit_a_results:
        for url in ("/admin/results", f"/admin/results?q={result.code}", f"/admin/results?q={result.holder_id}",
                    "/admin/review"):
            page = client.get(url).get_data(as_text=True)
            assert f'href="/admin/results/{result.id}"' not in page and "1 kết quả" not in page
    # No view or download of another unit's file was recorded as access.
    accesses = select(AuditEvent).where(AuditEvent.action.in_(["result.view", "result.download"]))
    assert not db.session.scalars(accesses).all()


def test_same_unit_staff_reach_their_results(app, client, world, unit_a_results):
    published, draft = unit_a_results
    login(client, "staff_a")
    listing = client.get("/admin/results").get_data(as_text=True)
    assert published.code in listing and draft.code in listing
    download = client.get(f"/admin/results/{published.id}/file")
    assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_admin_sees_every_unit(client, world, unit_a_results, pdfs):
    login(client, "admin")
    listing = client.get("/admin/results").get_data(as_text=True)
    assert all(r.code in listing for r in unit_a_results)
    assert client.get(f"/admin/results/{unit_a_results[0].id}").status_code == 200


@pytest.mark.parametrize("url", ["/admin/units", "/admin/units/new", "/admin/users", "/admin/users/new",
                                 "/admin/procedures", "/admin/procedures/new", "/admin/audit"])
def test_only_admins_manage(client, world, url):
    login(client, "staff_a")
    assert client.get(url).status_code == 403
    login_admin = client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/results")})
    assert login_admin.status_code == 302
    login(client, "admin")
    assert client.get(url).status_code == 200


def test_holders_never_reach_the_admin_side(app, client, world, unit_a_results):
    login(client, "holder_a")
    for url in ["/admin/", "/admin/results", "/admin/review", "/admin/results/new", "/admin/audit"]:
        assert client.get(url).status_code == 404, url
    with app.test_request_context():
        urls = [(_url(rule, unit_a_results[0].id), method) for rule, method in _result_routes(app)]
    for url, method in urls:
        if url.startswith("/admin/"):
            assert client.open(url, method=method).status_code in (400, 404), url


def test_anonymous_is_sent_to_login(app, client, unit_a_results):
    with app.test_request_context():
        urls = [_url(rule, unit_a_results[0].id) for rule, method in _result_routes(app) if method == "GET"]
    for url in urls + ["/admin/results", "/me/results"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_holder_store_lists_only_own_published_results(client, world, unit_a_results, pdfs):
    from .conftest import CCCD_B

    someone_else = make_result(world, pdfs[2], reviewer="reviewer_a", holder_id=CCCD_B, document_number="7/GP-SKHCN")
    login(client, "holder_a")
    page = client.get("/me/results").get_data(as_text=True)
    published, draft = unit_a_results
    assert published.code in page
    assert draft.code not in page and someone_else.code not in page


def test_inactive_accounts_are_logged_out(client, world):
    login(client, "staff_a")
    user = world["staff_a"]
    user.active = False
    db.session.commit()
    assert client.get("/admin/results").status_code == 302


def test_wrong_password_is_refused_and_recorded(client, world):
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"csrf_token": token, "username": "staff_a", "password": "sai"})
    assert response.status_code == 200 and "không đúng" in response.get_data(as_text=True)
    assert db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()[-1] == "login.failed"


def test_login_never_redirects_off_site(client, world):
    token = csrf_token(client, "/login")
    response = client.post("/login?next=//evil.example/x", data={"csrf_token": token, "username": "staff_a",
                                                                  "password": "Mat-khau-thu-nghiem"})
    assert response.headers["Location"] == "/"


def test_login_is_rate_limited(db_url, tmp_path, world):
    from .conftest import make_app

    limited = make_app(db_url, tmp_path / "limited", RATELIMIT_ENABLED=True)
    client = limited.test_client()
    responses = []
    for _ in range(12):
        token = csrf_token(client, "/login")
        responses.append(client.post("/login", data={"csrf_token": token, "username": "x", "password": "y"}))
    assert [r.status_code for r in responses[:10]] == [200] * 10 and responses[-1].status_code == 429
    assert "Quá nhiều yêu cầu" in responses[-1].get_data(as_text=True)


def test_lists_page_through_with_their_filters(app, client, world, pdfs):
    app.config["PER_PAGE"] = 2
    for n in range(5):
        make_result(world, pdfs[n], document_number=f"{n + 1}/GP-SKHCN")
    login(client, "staff_a")
    first = client.get("/admin/results?status=draft").get_data(as_text=True)
    assert "Trang 1 / 3" in first and 'href="/admin/results?status=draft&amp;page=2"' in first
    third = client.get("/admin/results?status=draft&page=3").get_data(as_text=True)
    assert "Trang 3 / 3" in third and "page=2" in third
    assert "Trang 1 / 3" in client.get("/admin/review").get_data(as_text=True)


def test_staff_list_filters_come_from_the_database(client, world, pdfs):
    old = make_result(world, pdfs[0], reviewer="reviewer_a", issue_date="15/03/2003", valid_until="15/03/2004")
    new = make_result(world, pdfs[1], document_number="2/GP-SKHCN", issue_date="15/03/2019", valid_until="")
    login(client, "staff_a")

    def listed(query):
        page = client.get(f"/admin/results?{query}").get_data(as_text=True)
        return {r.id for r in (old, new) if f'href="/admin/results/{r.id}"' in page}

    assert listed("phase=4") == {old.id} and listed("phase=2") == {new.id}
    assert listed("status=expired") == {old.id} and listed("status=draft") == {new.id}
    assert listed("procedure=1.010711") == {old.id, new.id} and listed("procedure=2.002131") == set()
    assert listed("status=nonsense&phase=9") == {old.id, new.id}  # unknown values are ignored


def test_the_access_scope_names_no_engine_and_both_backends_follow_it(app, world, pdfs):
    """access.scope_of says who sees what without a search engine; the database and the Whoosh
    restriction each turn it into their own query, and find the same results."""
    from whoosh.query import Every, NullQuery, Or, Term

    from portal import access, search
    from portal.models.results import HOLDER_VISIBLE_STATUSES
    from portal.search.restriction import whoosh_restriction

    from .conftest import CCCD_A

    assert access.scope_of(None) == access.NOTHING
    assert access.scope_of(world["admin"]) == access.Scope(everything=True)
    assert access.scope_of(world["staff_a"]) == access.Scope(unit_ids=frozenset({world["staff_a"].unit_id}))
    assert access.scope_of(world["holder_a"]) == access.Scope(holder_id=CCCD_A,
                                                              statuses=frozenset(HOLDER_VISIBLE_STATUSES))
    roles = {name: (access.has_own_store(world[name]), access.works_for_department(world[name]),
                    access.sees_every_unit(world[name])) for name in ("admin", "staff_a", "reviewer_a", "holder_a")}
    assert roles == {"admin": (False, True, True), "staff_a": (False, True, False),
                     "reviewer_a": (False, True, False), "holder_a": (True, False, False)}
    assert (access.has_own_store(None), access.works_for_department(None), access.sees_every_unit(None)) == (
        False, False, False)
    assert whoosh_restriction(access.NOTHING) is NullQuery
    assert whoosh_restriction(access.Scope(everything=True)) == Every()
    assert whoosh_restriction(access.Scope(unit_ids=frozenset({2, 1}))) == Or([Term("unit", "1"), Term("unit", "2")])
    with pytest.raises(ValueError):  # the index keeps no drafts for holders: it cannot answer that
        whoosh_restriction(access.Scope(holder_id=CCCD_A, statuses=frozenset({"draft"})))

    published = make_result(world, pdfs[0], reviewer="reviewer_a")
    draft = make_result(world, pdfs[1], document_number="2/GP-SKHCN")
    search.sync()
    for user in ("admin", "staff_a", "staff_b", "reviewer_a", "holder_a"):
        in_database = set(db.session.scalars(access.visible_results(world[user]).with_only_columns(
            access.Result.id)))
        in_index = {r.id for r, _hit in search.search_results(world[user], "", search.Filters()).items}
        assert in_database == in_index, user
    assert {published.id, draft.id} <= set(db.session.scalars(access.visible_results(world["staff_a"])
                                                             .with_only_columns(access.Result.id)))
