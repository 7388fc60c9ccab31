"""Search that finds Vietnamese results the way people type them, within what each user may see.

Every test runs against both search backends: Whoosh (on SQLite and on PostgreSQL) and the
PostgreSQL backend (on PostgreSQL only); what is Whoosh's alone (its queue, its index on disk) says so.
"""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal import search
from portal.extensions import db
from portal.models import Result
from portal.operations import accounts
from portal.operations import results as ops

from .conftest import CCCD_A, CCCD_B, MST_C, PASSWORD, at_every_instant, login, make_result, vietnam_now


@pytest.fixture(params=["whoosh", "postgresql"])
def search_backend(request):
    if request.param == "postgresql" and request.getfixturevalue("backend") != "postgresql":
        pytest.skip("the PostgreSQL search backend needs a PostgreSQL database")
    return request.param


whoosh_only = pytest.mark.parametrize("search_backend", ["whoosh"], indirect=True)

# key: (holder, procedure, document number, summary, body, staff, fate, extra fields)
CORPUS = {
    "R1": (CCCD_A, "2.002131", "125/GP-SKHCN", "Giấy chứng nhận đăng ký chuyển giao công nghệ sấy lạnh nông sản",
           "Hợp đồng chuyển giao công nghệ sấy lạnh nông sản bằng bơm nhiệt.", "staff_a", "publish", {}),
    "R2": (CCCD_A, "1.010711", "126/GP-SKHCN", "Giấy phép tiến hành công việc bức xạ",
           "Thiết bị X-quang chẩn đoán Shimadzu đặt tại thị xã Đức Phổ.", "staff_a", "publish", {}),
    "R3": (CCCD_A, "1.010713", "12/2019/QĐ-SKHCN", "Giấy xác nhận khai báo thiết bị X-quang",
           "Khai báo thiết bị X-quang răng tại huyện Bình Sơn.", "staff_a", "publish",
           {"valid_until": "20/03/2020"}),
    "R4": (CCCD_A, "1.004230", "127/GP-SKHCN", "Đăng ký kết quả nhiệm vụ khoa học về giống mía",
           "Nhiệm vụ khoa học chọn giống mía đường năng suất cao.", "staff_a", "draft", {}),
    "R5": (CCCD_A, "1.010714", "128/CC-SKHCN", "Chứng chỉ nhân viên bức xạ",
           "Chứng chỉ nhân viên bức xạ phụ trách an toàn cơ sở X-quang.", "staff_a", "revoke", {}),
    "R6": (CCCD_B, "2.002131", "225/GP-SKHCN", "Giấy chứng nhận đăng ký chuyển giao công nghệ nuôi tôm",
           "Công nghệ nuôi tôm thẻ chân trắng tuần hoàn.", "staff_a", "publish", {}),
    "R7": (MST_C, "1.003511", "300/GCN-SKHCN", "Giấy chứng nhận doanh nghiệp khoa học và công nghệ",
           "Phần mềm quản lý chuỗi cung ứng nông sản.", "staff_a", "publish", {}),
    "R8": (CCCD_A, "1.001256", "15/TB-TĐC", "Thông báo tiếp nhận hồ sơ công bố hợp quy",
           "Sản phẩm xi măng poóc lăng hỗn hợp.", "staff_b", "publish", {}),
}
ALL = set(CORPUS)
A_VISIBLE = {"R1", "R2", "R3", "R5", "R8"}

# (who, query, filters, must find, must not find)
TABLE = [
    ("holder_a", "quang ngai", {}, {"R1", "R2"}, {"R4", "R6", "R7"}),
    ("holder_a", "Quảng Ngãi", {}, {"R1", "R2"}, {"R4", "R6"}),
    ("holder_a", "QUẢNG NGÃI", {}, {"R1", "R2"}, {"R4", "R6"}),
    ("holder_a", "dang ky chuyen giao cong nghe", {}, {"R1"}, {"R6", "R7", "R2"}),
    ("holder_a", "Đăng ký chuyển giao công nghệ", {}, {"R1"}, {"R6", "R2"}),
    ("holder_a", "ĐĂNG KÝ CHUYỂN GIAO", {}, {"R1"}, {"R6"}),
    ("holder_a", "say lanh", {}, {"R1"}, {"R2", "R3"}),
    ("holder_a", "sấy lạnh", {}, {"R1"}, {"R2"}),
    ("holder_a", "x quang", {}, {"R2", "R3"}, {"R1"}),
    ("holder_a", "X-QUANG", {}, {"R2", "R3"}, {"R1"}),
    ("holder_a", "125/GP-SKHCN", {}, {"R1"}, ALL - {"R1"}),
    ("holder_a", "125/gp-skhcn", {}, {"R1"}, ALL - {"R1"}),
    ("holder_a", "  125/GP-SKHCN  ", {}, {"R1"}, ALL - {"R1"}),
    ("holder_a", "12/2019/QĐ-SKHCN", {}, {"R3"}, ALL - {"R3"}),
    ("holder_a", "12/2019/qd-skhcn", {}, {"R3"}, ALL - {"R3"}),
    ("holder_a", "128/CC-SKHCN", {}, {"R5"}, ALL - {"R5"}),
    ("holder_a", "127/GP-SKHCN", {}, set(), ALL),
    ("holder_a", "225/GP-SKHCN", {}, set(), ALL),
    ("holder_a", "{R1.code}", {}, {"R1"}, ALL - {"R1"}),
    ("holder_a", "{R1.code_lower}", {}, {"R1"}, ALL - {"R1"}),
    ("holder_a", CCCD_A, {}, A_VISIBLE, {"R4", "R6", "R7"}),
    ("holder_a", CCCD_B, {}, set(), ALL),
    ("holder_a", MST_C, {}, set(), ALL),
    ("holder_a", '"chan doan"', {}, {"R2", "R3"}, {"R1"}),  # R3's procedure: "X-quang chẩn đoán"
    ("holder_a", '"chẩn đoán Shimadzu"', {}, {"R2"}, ALL - {"R2"}),
    ("holder_a", '"doan chan"', {}, set(), ALL),
    ("holder_a", "thiet bi rang", {}, {"R3"}, {"R2"}),
    ("holder_a", "binh son", {}, {"R3"}, {"R2"}),
    ("holder_a", "duc pho", {}, {"R2"}, {"R3"}),
    ("holder_a", "Đức Phổ", {}, {"R2"}, {"R3"}),
    ("holder_a", "bom nhiet", {}, {"R1"}, {"R2"}),
    ("holder_a", "xi mang pooc lang", {}, {"R8"}, ALL - {"R8"}),
    ("holder_a", "poóc lăng", {}, {"R8"}, ALL - {"R8"}),
    ("holder_a", "shimadzu", {}, {"R2"}, ALL - {"R2"}),
    ("holder_a", "cong nghe say", {}, {"R1"}, {"R6"}),
    ("holder_a", "cong nghe tom", {}, set(), ALL),
    ("holder_a", "nhan vien buc xa", {}, {"R5"}, {"R4"}),
    ("holder_a", "giong mia", {}, set(), ALL),
    ("holder_a", "1.010711", {}, {"R2"}, ALL - {"R2"}),
    ("holder_a", "khong co tu nay", {}, set(), ALL),
    ("holder_a", "", {}, A_VISIBLE, {"R4", "R6", "R7"}),
    ("holder_a", "125/GP-SKHCN say lanh", {}, {"R1"}, ALL - {"R1"}),
    ("holder_a", "125/GP-SKHCN tom", {}, set(), ALL),
    ("holder_a", "GP-SKHCN", {}, {"R1", "R2"}, {"R4", "R6"}),
    ("holder_a", "x-quang", {"status": "expired"}, {"R3"}, ALL - {"R3"}),
    ("holder_a", "", {"status": "revoked"}, {"R5"}, ALL - {"R5"}),
    ("holder_a", "", {"status": "valid"}, {"R1", "R2", "R8"}, {"R3", "R5"}),
    ("holder_a", "", {"field": "Chuyển giao công nghệ"}, {"R1"}, ALL - {"R1"}),
    ("holder_a", "", {"year": "2018"}, {"R3"}, ALL - {"R3"}),
    ("holder_a", "field:status holder_visible:*", {}, set(), ALL),
    ("holder_b", "chuyen giao", {}, {"R6"}, ALL - {"R6"}),
    ("holder_c", "", {}, {"R7"}, ALL - {"R7"}),
    ("staff_a", "127/GP-SKHCN", {}, {"R4"}, ALL - {"R4"}),
    ("staff_a", "giong mia", {}, {"R4"}, ALL - {"R4"}),
    ("staff_a", "xi mang", {}, set(), ALL),
    ("staff_a", CCCD_B, {}, {"R6"}, ALL - {"R6"}),
    ("staff_a", MST_C, {}, {"R7"}, ALL - {"R7"}),
    ("staff_a", "chuyen giao", {"status": "published"}, {"R1", "R6"}, {"R4"}),
    ("staff_a", "", {"status": "draft"}, {"R4"}, ALL - {"R4"}),
    ("staff_a", "", {"procedure": "1.010711"}, {"R2"}, ALL - {"R2"}),
    ("staff_a", "", {"phase": "2"}, {"R3"}, {"R8"}),
    ("staff_b", "xi mang", {}, {"R8"}, ALL - {"R8"}),
    ("staff_b", "chuyen giao", {}, set(), ALL),
    ("admin", "xi mang", {}, {"R8"}, ALL - {"R8"}),
    ("admin", "chuyen giao", {}, {"R1", "R6"}, {"R8"}),
]


@pytest.fixture(scope="session")
def corpus_pdfs():
    from portal.demo.documents import Spec, render_many

    specs = [Spec(department="Sở Khoa học và Công nghệ tỉnh Quảng Ngãi", province="Quảng Ngãi",
                  number=number, issue_date=date(2019, 3, 15), title=summary.upper(), holder_label="Được cấp cho",
                  holder_name="Người được cấp", holder_id=holder, address="", signer_name="Trần Văn Hùng",
                  signer_title="Giám đốc", body=[body])
             for holder, _p, number, summary, body, *_ in CORPUS.values()]
    return dict(zip(CORPUS, render_many(specs)))


@pytest.fixture
def corpus(world, corpus_pdfs):
    accounts.save_procedure(None, "1.010713", "Khai báo thiết bị X-quang chẩn đoán trong y tế",
                            "An toàn bức xạ và hạt nhân", None)
    accounts.save_procedure(None, "1.010714", "Cấp chứng chỉ nhân viên bức xạ", "An toàn bức xạ và hạt nhân", None)
    accounts.save_procedure(None, "1.004230", "Đăng ký kết quả thực hiện nhiệm vụ khoa học và công nghệ",
                            "Hoạt động khoa học và công nghệ", None)
    accounts.save_procedure(None, "1.003511", "Cấp Giấy chứng nhận doanh nghiệp khoa học và công nghệ",
                            "Hoạt động khoa học và công nghệ", None)
    accounts.save_procedure(None, "1.001256", "Tiếp nhận bản công bố hợp quy", "Tiêu chuẩn Đo lường Chất lượng", 10)
    world["holder_b"] = accounts.create_user(None, "holder_b", "holder", PASSWORD, holder_id=CCCD_B)
    world["holder_c"] = accounts.create_user(None, "holder_c", "holder", PASSWORD, holder_id=MST_C)
    made = {}
    for key, (holder, procedure, number, summary, _body, staff, fate, extra) in CORPUS.items():
        issue = "15/03/2018" if key == "R3" else "15/03/2021"
        result = make_result(world, corpus_pdfs[key], staff=staff, holder_id=holder, procedure_code=procedure,
                             document_number=number, summary=summary, holder_name=f"Người {key}",
                             issue_date=issue, **{"valid_until": "", **extra})
        if fate in ("publish", "revoke"):
            reviewer = world["reviewer_b" if staff == "staff_b" else "reviewer_a"]
            ops.publish(reviewer, result, seen_version=result.version)
        if fate == "revoke":
            ops.revoke(world["reviewer_a"], result, "Thu hồi theo đề nghị.")
        made[key] = result
    search.sync()
    return made


def _found(user, q, filters):
    page = search.search_results(user, q, search.Filters(**filters), per_page=50)
    return [r.id for r, _hit in page.items]


def test_the_query_table(world, corpus):
    by_id = {r.id: key for key, r in corpus.items()}
    failures = []
    for who, q, filters, must, must_not in TABLE:
        q = q.replace("{R1.code}", corpus["R1"].code).replace("{R1.code_lower}", corpus["R1"].code.lower())
        found = {by_id[i] for i in _found(world[who], q, filters)}
        if not must <= found or found & must_not:
            failures.append(f"{who} {q!r} {filters}: found {sorted(found)}, must {sorted(must)}, "
                            f"must not {sorted(must_not)}")
    assert len(TABLE) >= 40
    assert not failures, "\n".join(failures)


def test_relevance_then_date_order_and_paging_without_counting(world, corpus):
    holder = world["holder_a"]
    newest_first = search.search_results(holder, "", search.Filters(), per_page=2)
    dates = [r.issue_date for r, _ in newest_first.items]
    assert dates == sorted(dates, reverse=True) and newest_first.has_next
    second = search.search_results(holder, "", search.Filters(), page=2, per_page=2)
    assert {r.id for r, _ in second.items}.isdisjoint({r.id for r, _ in newest_first.items})
    last = search.search_results(holder, "", search.Filters(), page=3, per_page=2)
    assert len(last.items) == 1 and not last.has_next
    ranked = search.search_results(holder, "say lanh", search.Filters())
    assert ranked.items[0][0].id == corpus["R1"].id and ranked.items[0][1].score > 0


def test_snippets_highlight_the_words_and_escape_the_rest(world, corpus):
    hit = search.search_results(world["holder_a"], "bom nhiet", search.Filters()).items[0][1]
    assert re.search(r'<mark class="match term\d+">bơm</mark> <mark class="match term\d+">nhiệt</mark>', hit.snippet)
    # Text from a document never arrives as markup.
    result = corpus["R1"]
    result.document.text = result.document.text + " <script>alert(1)</script> bơm"
    db.session.commit()
    search.sync()
    snippet = search.search_results(world["holder_a"], "bom", search.Filters()).items[0][1].snippet
    assert "<script>" not in snippet


def test_holder_page_and_api_search_their_own(client, world, corpus):
    login(client, "holder_a")
    page = client.get("/me/results?q=say+lanh").get_data(as_text=True)
    assert corpus["R1"].code in page and "<mark" in page and corpus["R6"].code not in page
    api = client.get("/api/v1/me/results?q=x+quang&per_page=1")
    body = api.json
    assert api.status_code == 200 and body["per_page"] == 1 and body["has_next"] is True
    assert set(body["results"][0]) >= {"code", "title", "document_number", "issue_date", "status"}
    everything = client.get("/api/v1/me/results?per_page=100").json["results"]
    assert {r["code"] for r in everything} == {corpus[k].code for k in A_VISIBLE}
    statuses = {r["code"]: r["status"] for r in everything}
    assert statuses[corpus["R3"].code] == "expired" and statuses[corpus["R5"].code] == "revoked"
    assert client.get("/api/v1/me/results?per_page=1000").json["per_page"] == 100


def test_api_refuses_anonymous_and_staff(client, world, corpus):
    assert client.get("/api/v1/me/results").status_code == 401
    login(client, "staff_a")
    assert client.get("/api/v1/me/results").status_code == 403
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/me/results" in spec["paths"]


def test_staff_search_page(client, world, corpus):
    login(client, "staff_a")
    page = client.get("/admin/results?q=127/gp-skhcn").get_data(as_text=True)
    assert f'href="/admin/results/{corpus["R4"].id}"' in page
    assert f'href="/admin/results/{corpus["R1"].id}"' not in page
    other_unit = client.get("/admin/results?q=xi+mang").get_data(as_text=True)
    assert f'href="/admin/results/{corpus["R8"].id}"' not in other_unit
    # A staff member cannot widen the restriction with the unit filter.
    forced = client.get(f"/admin/results?q=xi+mang&unit={world['staff_b'].unit_id}").get_data(as_text=True)
    assert f'href="/admin/results/{corpus["R8"].id}"' not in forced


def test_a_stale_index_never_shows_what_the_database_forbids(world, corpus, search_backend):
    # Revoke without letting the indexer run: the index still says published...
    result = corpus["R1"]
    ops.revoke(world["reviewer_a"], result, "Thu hồi để thử chỉ mục cũ.")
    found = search.search_results(world["holder_a"], "say lanh", search.Filters(status="valid"))
    if search_backend == "postgresql":  # no index to be stale: the search table changed with the result
        assert not found.items
        return
    # ...but what is shown comes from the database, with the database's status.
    assert [r.status for r, _ in found.items] == ["revoked"]
    search.sync()
    # And once indexed, the old version is gone (Whoosh's own refresh() kept it findable).
    assert not search.search_results(world["holder_a"], "say lanh", search.Filters(status="valid")).items


def test_every_change_reaches_the_index(world, corpus):
    result = corpus["R4"]
    staff = world["staff_a"]
    assert not _found(world["holder_a"], "giong mia", {})
    ops.publish(world["reviewer_a"], result, seen_version=result.version)
    search.sync()
    assert _found(world["holder_a"], "giong mia", {}) == [result.id]
    # A procedure renamed is re-indexed for all its results.
    procedure = result.procedure
    accounts.save_procedure(world["admin"], procedure.code, "Thủ tục đổi tên về hạt điều", procedure.field, None,
                            procedure)
    search.sync()
    assert _found(staff, "hat dieu", {}) == [result.id]


@whoosh_only
def test_queue_survives_a_held_lock_and_a_request_never_fails(app, client, world, corpus):
    index = search.search_index()
    holder = index.writer()  # another process is indexing
    try:
        login(client, "reviewer_a")
        from .conftest import csrf_token

        draft = corpus["R4"]
        token = csrf_token(client, f"/admin/results/{draft.id}")
        response = client.post(f"/admin/results/{draft.id}/publish",
                               data={"csrf_token": token, "version": draft.version})
        assert response.status_code == 302
        assert search.queue.pending() >= 1
    finally:
        holder.cancel()
    search.sync()
    assert search.queue.pending() == 0
    assert _found(world["holder_a"], "giong mia", {}) == [corpus["R4"].id]


# Odd input, and what it finds. Nothing to search for (punctuation, query syntax alone) is the empty
# query: everything the user may see. Words no result holds find nothing, whatever syntax they
# borrow. A piece of an identifier finds only results whose number or code holds it.
ODD_INPUT_FINDS_EVERYTHING = ['"', "(((", "*", "\\", "%"]
ODD_INPUT_FINDS_NOTHING = ["AND OR NOT", "ánh*", "field:x", "a" * 1000, "'; DROP TABLE results; --",
                           "<script>alert(1)</script>", "~2", "^3"]
IDENTIFIER_PIECES = ["12/", "/GP", "000.02.21.H48-"]


def test_odd_input_never_breaks_the_search(world, corpus):
    by_id = {r.id: key for key, r in corpus.items()}
    holder, staff = world["holder_a"], world["staff_a"]

    def found(user, q, status=None):
        return {by_id[i] for i in _found(user, q, {"status": status} if status else {})}

    for q in ODD_INPUT_FINDS_EVERYTHING:
        assert found(holder, q) == A_VISIBLE, q
        assert found(staff, q, "draft") == {"R4"}, q
    for q in ODD_INPUT_FINDS_NOTHING:
        assert found(holder, q) == set(), q
        assert found(staff, q, "draft") == set(), q
    for q in IDENTIFIER_PIECES:
        for user, status, allowed in ((holder, None, A_VISIBLE), (staff, "draft", {"R4"})):
            keys = found(user, q, status)
            assert keys <= allowed, (q, keys)
            assert all(q.lower() in f"{corpus[k].document_number} {corpus[k].code}".lower() for k in keys), (q, keys)
    assert found(holder, "12/") == {"R3"} and found(holder, "/GP") == {"R1", "R2"}
    # Nothing typed reached the database or the index as a command: both still hold every result.
    assert db.session.scalar(select(func.count(Result.id))) == len(CORPUS)
    assert found(holder, "say lanh") == {"R1"}


@at_every_instant
def test_valid_and_expired_turn_at_midnight_in_vietnam(clock, world, pdfs):
    """A result valid until a day is valid all of that day in Vietnam: the index's filter and the
    database's agree, on both sides of a new year, whatever the machine's zone."""
    from portal.listing import listing

    today = vietnam_now().date()
    last_day = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=f"{today:%d/%m/%Y}")
    ended = make_result(world, pdfs[1], reviewer="reviewer_a", document_number="2/GP-SKHCN",
                        valid_until=f"{today - timedelta(days=1):%d/%m/%Y}")
    holder = world["holder_a"]
    for status, expected in (("valid", {last_day.id}), ("expired", {ended.id})):
        assert set(_found(holder, "", {"status": status})) == expected, status
        assert set(db.session.scalars(listing(holder, search.Filters(status=status)).with_only_columns(
            Result.id))) == expected, status
    assert (last_day.effective_status(), ended.effective_status()) == ("published", "expired")


@whoosh_only
def test_lists_do_not_depend_on_the_index(client, world, corpus):
    login(client, "holder_a")
    assert client.get("/me/results").status_code == 200  # the process has started its search
    (search.search_index().root / "current").unlink()  # the index is gone
    page = client.get("/me/results").get_data(as_text=True)
    assert corpus["R1"].code in page and corpus["R6"].code not in page
    typed = client.get("/me/results?q=say+lanh").get_data(as_text=True)
    assert "đang được khôi phục" in typed
    assert client.get("/api/v1/me/results?q=say").status_code == 503
    assert client.get("/healthz").status_code == 503


# -- the PostgreSQL backend's own promises ----------------------------------------------------------

postgresql_only = pytest.mark.parametrize("search_backend", ["postgresql"], indirect=True)
USERS = ["holder_a", "holder_b", "holder_c", "staff_a", "staff_b", "admin"]
QUERIES = ["", "chuyen giao", "x quang", CCCD_A, CCCD_B, MST_C, "125/GP-SKHCN", "giong mia", "xi mang", '"chan doan"']


@postgresql_only
def test_the_restriction_is_in_the_query_not_after_it(world, corpus):
    """The backend's hits themselves, before search_results checks them against the database: a
    holder's are their own in the states they may see, a staff member's their unit's."""
    from portal.access import scope_of, visible_results
    from portal.search import postgresql

    by_id = {r.id: key for key, r in corpus.items()}
    for who in USERS:
        user = world[who]
        allowed = set(db.session.scalars(visible_results(user).with_only_columns(Result.id)))
        for q in QUERIES:
            for filters in ({}, {"unit": str(world["staff_b"].unit_id)}, {"status": "draft"}):
                for candidates in (1000, 1):  # ranked, and newest first (words "too common")
                    hits = postgresql.hit_page(db.session, scope_of(user), q, search.Filters(**filters), per_page=100,
                                               candidates=candidates).hits
                    found = {hit.result_id for hit in hits}
                    assert found <= allowed, (who, q, filters, sorted(by_id[i] for i in found - allowed))
    assert not postgresql.hit_page(db.session, scope_of(world["staff_b"]), "chuyen giao", search.Filters()).hits
    assert not postgresql.hit_page(db.session, scope_of(world["holder_a"]), "giong mia", search.Filters()).hits


@postgresql_only
def test_common_words_are_shown_newest_first(world, corpus):
    """Past the candidate cap the matches are not ranked but read newest first, and paged alike."""
    staff = world["staff_a"]
    ranked = search.search_results(staff, "chung nhan", search.Filters(), per_page=50)
    assert {r.id for r, _ in ranked.items} >= {corpus["R1"].id, corpus["R6"].id}
    from flask import current_app

    current_app.config["SEARCH_PG_CANDIDATES"] = 1
    first = search.search_results(staff, "chung nhan", search.Filters(), per_page=1)
    second = search.search_results(staff, "chung nhan", search.Filters(), page=2, per_page=1)
    everything = search.search_results(staff, "chung nhan", search.Filters(), per_page=50)
    assert {r.id for r, _ in everything.items} == {r.id for r, _ in ranked.items}
    dates = [(r.issue_date, r.id) for r, _ in everything.items]
    assert dates == sorted(dates, reverse=True)
    assert first.has_next and [r.id for r, _ in first.items + second.items] == [i for _, i in dates[:2]]
    assert "<mark" in first.items[0][1].snippet and first.items[0][1].score is not None


@postgresql_only
def test_another_node_finds_a_change_when_it_is_committed(app, db_url, tmp_path, signing_keys, world, pdfs):
    """Two application instances on one database, as two nodes: no index, no queue between them."""
    from portal.models import User

    from .conftest import make_app

    other = make_app(db_url, tmp_path / "other-node", SEARCH_BACKEND="postgresql", **signing_keys)
    holder_id = world["holder_a"].id

    def found_on_the_other_node(q):
        with other.app_context():
            try:
                holder = db.session.get(User, holder_id)
                return [r.id for r, _ in search.search_results(holder, q, search.Filters()).items]
            finally:
                db.session.remove()

    result = make_result(world, pdfs[0], reviewer="reviewer_a", summary="Giấy phép sử dụng máy đo phóng xạ")
    assert found_on_the_other_node("may do phong xa") == [result.id]
    result.summary = "Giấy phép sử dụng lò vi sóng công nghiệp"
    db.session.flush()  # written, not committed: the other node does not see it yet
    assert found_on_the_other_node("lo vi song") == []
    db.session.commit()
    assert found_on_the_other_node("lo vi song") == [result.id]
    assert found_on_the_other_node("may do phong xa") == []
    ops.revoke(world["reviewer_a"], result, "Thu hồi để thử nút khác.")
    assert found_on_the_other_node("lo vi song") == [result.id]  # a holder still sees it, revoked
    with other.app_context():
        assert search.search_results(db.session.get(User, holder_id), "lo vi song",
                                     search.Filters(status="valid")).items == []
        db.session.remove()


def test_health_and_reindex_on_either_backend(app, world, corpus, search_backend):
    from sqlalchemy import text

    client = app.test_client()
    assert client.get("/healthz").json["index"] == "ok"
    if search_backend == "postgresql":
        db.session.execute(text("UPDATE result_search SET words = ''::tsvector"))  # a damaged table
        db.session.commit()
        assert not _found(world["holder_a"], "say lanh", {})
    outcome = app.test_cli_runner().invoke(args=["reindex"])
    assert outcome.exit_code == 0, outcome.output
    assert f": {len(CORPUS)} results." in outcome.output
    assert ("PostgreSQL" in outcome.output) == (search_backend == "postgresql")
    assert _found(world["holder_a"], "say lanh", {}) == [corpus["R1"].id]


def test_the_postgresql_backend_is_refused_on_sqlite(tmp_path):
    from .conftest import make_app

    with pytest.raises(RuntimeError, match="PostgreSQL"):
        make_app(f"sqlite:///{tmp_path / 'portal.db'}", tmp_path / "data", SEARCH_BACKEND="postgresql")
    with pytest.raises(RuntimeError, match="PORTAL_SEARCH_BACKEND"):
        make_app(f"sqlite:///{tmp_path / 'portal.db'}", tmp_path / "data", SEARCH_BACKEND="elastic")
