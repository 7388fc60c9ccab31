"""Issue 18, item 3: the privacy notice and its processing record, and the command that lists the
holders a breach notice must reach, on every backend.

1. the notice is a public page, linked from every page's footer, with the contact a setting;
2. each holder is shown it at their first login after each new version (password and VNeID), once,
   and the account says which version and when; staff are not;
3. `breach-affected` lists exactly the holders an account or an address touched in the period
   (whole days in Vietnam), and refuses bad input with a message and a non-zero exit.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal import privacy
from portal.extensions import db
from portal.models import AuditEvent, User
from portal.operations import settings

from .conftest import CCCD_A, CCCD_B, MST_C, VIETNAM, login, make_result, vietnam_now
from .test_national_login import citizen, national  # noqa: F401 - `national` is a fixture

SUMMARY = 'class="privacy-summary"'


def account(username: str) -> User:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.username == username)).one()


def notice_events(username: str) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "privacy.notice",
                                                                     AuditEvent.target == username))


# --- 1. the page ----------------------------------------------------------------------------------

def test_the_notice_is_public_and_every_page_links_to_it(client, world):
    page = client.get("/quyen-rieng-tu")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for words in ("Thông báo về xử lý dữ liệu cá nhân", f"Phiên bản {privacy.NOTICE_VERSION}",
                  "Nghị định 45/2020/NĐ-CP", "Thông tư 01/2023/TT-VPCP", "91/2025/QH15", "356/2025/NĐ-CP",
                  "số định danh", "Nhật ký truy cập", "5 năm", "Kho dữ liệu điện tử", "lưu trữ",
                  'href="/me/data"', "72 giờ", "yêu cầu chỉnh sửa".capitalize(),
                  settings.DEFAULTS[settings.PRIVACY_EMAIL], settings.DEFAULTS[settings.PRIVACY_PHONE]):
        assert words in text, words
    # Each procedure's retention, as the catalogue says it.
    assert "Vĩnh viễn" in text and "50 năm" in text
    for url in ("/", "/login", "/verify"):
        assert 'href="/quyen-rieng-tu"' in client.get(url).get_data(as_text=True), url
    login(client, "holder_a")
    assert 'href="/quyen-rieng-tu"' in client.get("/me/results").get_data(as_text=True)


def test_the_contact_and_the_log_period_are_settings(client, world):
    settings.change(world["admin"], settings.PRIVACY_EMAIL, "dpo@skhcn.example.vn")
    settings.change(world["admin"], settings.ACCESS_LOG_YEARS, 3)
    text = client.get("/quyen-rieng-tu").get_data(as_text=True)
    assert "dpo@skhcn.example.vn" in text and "3 năm kể từ khi ghi" in text
    assert settings.DEFAULTS[settings.PRIVACY_EMAIL] not in text


def test_the_settings_page_changes_the_contact_and_keeps_what_is_left_blank(client, world):
    from .conftest import csrf_token

    login(client, "admin")
    url = "/admin/settings"
    form = {"csrf_token": csrf_token(client, url), "copy_fee": "0", "tax_code_id_type": "3",
            "help_phone": "0255 3822 560", "help_address": "Số 1", "help_hours": "7:00–17:00"}
    assert client.post(url, data={**form, "privacy_email": "khong-phai-thu"}).status_code == 200
    assert settings.get(settings.PRIVACY_EMAIL) == settings.DEFAULTS[settings.PRIVACY_EMAIL]
    assert client.post(url, data={**form, "privacy_phone": "0255 111 222"}).status_code == 302
    db.session.expire_all()
    assert settings.get(settings.PRIVACY_PHONE) == "0255 111 222"
    assert settings.get(settings.PRIVACY_EMAIL) == settings.DEFAULTS[settings.PRIVACY_EMAIL]


def test_a_settings_field_left_out_keeps_its_value_and_one_left_blank_is_refused(client, world):
    """One rule for the whole form: a field the post leaves out (an older form, a script) keeps its value;
    a field sent blank is an error to fix, never a silent "keep"."""
    from .conftest import csrf_token

    login(client, "admin")
    url = "/admin/settings"
    token = csrf_token(client, url)
    assert client.post(url, data={"csrf_token": token, "privacy_phone": "0255 111 222"}).status_code == 302
    db.session.expire_all()
    assert settings.get(settings.PRIVACY_PHONE) == "0255 111 222"
    for key in (settings.HELP_PHONE, settings.PRIVACY_EMAIL, settings.ACCESS_LOG_YEARS, settings.HOLIDAYS):
        assert settings.get(key) == settings.DEFAULTS[key]
    for name, blank in (("privacy_email", " "), ("privacy_contact", ""), ("access_log_years", "")):
        refused = client.post(url, data={"csrf_token": token, name: blank})
        assert refused.status_code == 200 and "Trường này bắt buộc" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert settings.get(settings.PRIVACY_EMAIL) == settings.DEFAULTS[settings.PRIVACY_EMAIL]


# --- 2. the record of who was shown which version -------------------------------------------------

def test_a_holder_is_shown_each_version_once_at_login(clock, app, client, world, monkeypatch):
    assert account("holder_a").privacy_notice_version is None
    landed = login(client, "holder_a").headers["Location"]
    holder = account("holder_a")
    assert holder.privacy_notice_version == privacy.NOTICE_VERSION
    first_seen = holder.privacy_notice_seen_at
    assert abs(first_seen - vietnam_now()) < timedelta(seconds=5)
    page = client.get(landed, follow_redirects=True).get_data(as_text=True)
    assert SUMMARY in page and 'href="/quyen-rieng-tu"' in page
    assert SUMMARY not in client.get("/me/results").get_data(as_text=True)  # once, not on every page
    account_page = client.get("/account/password").get_data(as_text=True)
    assert f"Bạn đã được xem phiên bản {privacy.NOTICE_VERSION} lúc {first_seen.astimezone(VIETNAM):%d/%m/%Y %H:%M}" \
        in account_page

    # Later logins under the same version show nothing and change nothing.
    clock.shift(timedelta(days=3))
    client = app.test_client()  # another day, another browser
    login(client, "holder_a")
    assert SUMMARY not in client.get("/me/results").get_data(as_text=True)
    assert account("holder_a").privacy_notice_seen_at == first_seen
    assert notice_events("holder_a") == 1

    # A new version: shown again at the next login, recorded with its time.
    monkeypatch.setattr(privacy, "NOTICE_VERSION", "2026-07")
    clock.shift(timedelta(days=30))
    client = app.test_client()
    login(client, "holder_a")
    assert SUMMARY in client.get("/me/results").get_data(as_text=True)
    holder = account("holder_a")
    assert holder.privacy_notice_version == "2026-07"
    assert holder.privacy_notice_seen_at > first_seen + timedelta(days=32)
    assert notice_events("holder_a") == 2
    assert "phiên bản 2026-07" in client.get("/account/password").get_data(as_text=True)
    assert "Phiên bản 2026-07" in client.get("/quyen-rieng-tu").get_data(as_text=True)


def _token(client) -> str:
    from .conftest import csrf_token

    return csrf_token(client, "/account/password")


def test_staff_are_not_shown_the_notice(client, world):
    for name in ("staff_a", "admin"):
        staff = world[name].username
        other = client.application.test_client()
        login(other, staff)
        assert SUMMARY not in other.get("/admin/results", follow_redirects=True).get_data(as_text=True)
        assert account(staff).privacy_notice_version is None and notice_events(staff) == 0
        assert "Thông báo về xử lý dữ liệu cá nhân</h2>" not in other.get("/account/password").get_data(as_text=True)


def test_a_vneid_login_shows_and_records_the_notice(client, national):  # noqa: F811
    done = citizen(client, national, next_url="/me/copies")
    assert done.status_code == 302 and done.headers["Location"] == "/me/copies"
    assert SUMMARY in client.get("/me/copies").get_data(as_text=True)
    opened = db.session.scalars(select(User).where(User.holder_id == "079203001234")).one()
    assert opened.privacy_notice_version == privacy.NOTICE_VERSION and opened.privacy_notice_seen_at is not None
    client.post("/logout", data={"csrf_token": _token(client)})
    citizen(client, national)
    assert SUMMARY not in client.get("/me/results").get_data(as_text=True)
    assert notice_events(opened.username) == 1


def test_an_account_opened_with_a_claim_code_is_shown_the_notice(client, world, pdfs):
    from portal.operations import claims

    from .conftest import csrf_token

    result = make_result(world, pdfs[0], reviewer="reviewer_a", holder_id=CCCD_B, document_number="9/GP-SKHCN")
    code = claims.issue_claim_code(world["reviewer_a"], result)
    password = "mat-khau-rieng-1"
    done = client.post("/claim", data={"csrf_token": csrf_token(client, "/claim"), "code": code, "holder_id": CCCD_B,
                                       "username": "holder-b", "password": password, "confirm": password})
    assert done.status_code == 302 and done.headers["Location"].endswith("/me/results")
    assert SUMMARY in client.get("/me/results").get_data(as_text=True)
    assert account("holder-b").privacy_notice_version == privacy.NOTICE_VERSION


# --- 3. breach-affected ---------------------------------------------------------------------------

ADDRESS_X, ADDRESS_Y = "203.0.113.7", "2001:db8::42"


@pytest.fixture
def touched(clock, app, world, pdfs):
    """On 15 June staff_a digitizes results of citizens A and B, staff_b one of business C. On 20 June
    at 23:30 (16:30 UTC) staff_a, from ADDRESS_X, opens citizen A's result; staff_b, from ADDRESS_Y,
    downloads business C's."""
    a = make_result(world, pdfs[0], reviewer="reviewer_a", holder_id=CCCD_A, holder_name="Phạm Minh Khánh")
    b = make_result(world, pdfs[1], reviewer="reviewer_a", holder_id=CCCD_B, holder_name="Nguyễn Thị Lan",
                    document_number="126/gp-skhcn")
    c = make_result(world, pdfs[2], staff="staff_b", reviewer="reviewer_b", holder_id=MST_C,
                    holder_name="Công ty TNHH Minh Phát", document_number="127/gp-skhcn", procedure_code="2.002131")
    clock.move_to(datetime(2026, 6, 20, 23, 30, tzinfo=VIETNAM))
    x = app.test_client()
    x.environ_base["REMOTE_ADDR"] = ADDRESS_X
    login(x, "staff_a")
    assert x.get(f"/admin/results/{a.id}").status_code == 200
    y = app.test_client()
    y.environ_base["REMOTE_ADDR"] = ADDRESS_Y
    login(y, "staff_b")
    assert y.get(f"/admin/results/{c.id}/file").status_code == 200
    return a, b, c


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["breach-affected", *args])


def rows(output: str) -> list[dict]:
    return list(csv.DictReader(output.splitlines()))


def test_the_holders_an_account_touched_in_the_period(touched, cli):
    a, b, c = touched
    done = cli("--user", "staff_a", "--from", "2026-06-20", "--to", "2026-06-20")
    assert done.exit_code == 0, done.output
    found = rows(done.stdout)
    assert [(r["Số định danh"], r["Mã kết quả"], r["Mã thao tác"]) for r in found] == [(CCCD_A, a.code, "result.view")]
    assert found[0]["Tên chủ thể"] == "Phạm Minh Khánh" and found[0]["Thao tác"] == "Xem kết quả"
    assert found[0]["Thời điểm"].startswith("2026-06-20 23:30")  # Vietnam's time
    assert found[0]["Địa chỉ IP"] == ADDRESS_X and found[0]["Người thực hiện"] == "Cán bộ A"
    assert "1 holders, 1 results, 1 events by account staff_a" in done.stderr

    # The whole week: B's result too (digitized on the 15th); never C's, which staff_b handled.
    week = rows(cli("--user", "STAFF_A", "--from", "2026-06-15", "--to", "2026-06-21").stdout)
    assert {r["Số định danh"] for r in week} == {CCCD_A, CCCD_B}
    assert {r["Mã thao tác"] for r in week if r["Số định danh"] == CCCD_B} == {"result.create"}
    # The 21st in Vietnam starts after the view (16:30 UTC on the 20th is 23:30 there).
    assert rows(cli("--user", "staff_a", "--from", "2026-06-21", "--to", "2026-06-30").stdout) == []
    assert rows(cli("--user", "staff_a", "--from", "2026-06-16", "--to", "2026-06-19").stdout) == []
    # The reviewer who published A's and B's results touched both, on the 15th.
    assert {r["Mã thao tác"] for r in rows(cli("--user", "reviewer_a", "--from", "2026-06-15", "--to",
                                               "2026-06-15").stdout)} == {"result.publish"}


def test_the_holders_an_address_touched(touched, cli, tmp_path):
    a, b, c = touched
    out = tmp_path / "c.csv"
    done = cli("--address", ADDRESS_Y, "--from", "2026-06-20", "--to", "2026-06-20", "--out", str(out))
    assert done.exit_code == 0, done.output
    assert f"written to {out}" in done.stderr and done.stdout == ""
    found = rows(out.read_text(encoding="utf-8-sig"))
    assert [(r["Số định danh"], r["Mã kết quả"], r["Mã thao tác"]) for r in found] == \
        [(MST_C, c.code, "result.download")]
    assert found[0]["Loại chủ thể"] == "Tổ chức" and found[0]["Địa chỉ IP"] == ADDRESS_Y
    # The address as written another way is the same address.
    assert len(rows(cli("--address", "2001:DB8:0::42", "--from", "2026-06-20", "--to", "2026-06-20").stdout)) == 1
    assert [r["Số định danh"] for r in rows(cli("--address", ADDRESS_X, "--from", "2026-06-01", "--to",
                                                "2026-06-30").stdout)] == [CCCD_A]
    assert rows(cli("--address", "198.51.100.1", "--from", "2026-06-01", "--to", "2026-06-30").stdout) == []


@pytest.mark.parametrize(("args", "message"), [
    (("--user", "khong-co-ai", "--from", "2026-06-01", "--to", "2026-06-30"), "No account named 'khong-co-ai'"),
    (("--address", "300.1.1.1", "--from", "2026-06-01", "--to", "2026-06-30"), "Not an IP address"),
    (("--address", "203.0.113.7; rm -rf /", "--from", "2026-06-01", "--to", "2026-06-30"), "Not an IP address"),
    (("--user", "staff_a", "--from", "2026-02-30", "--to", "2026-06-30"), "Invalid value for '--from'"),
    (("--user", "staff_a", "--from", "20/06/2026", "--to", "2026-06-30"), "Invalid value for '--from'"),
    (("--user", "staff_a", "--from", "2026-06-30", "--to", "2026-06-01"), "ends (2026-06-01) before it starts"),
    (("--user", "staff_a", "--address", "203.0.113.7", "--from", "2026-06-01", "--to", "2026-06-30"),
     "exactly one of --user and --address"),
    (("--from", "2026-06-01", "--to", "2026-06-30"), "exactly one of --user and --address"),
    (("--user", "staff_a", "--to", "2026-06-30"), "Missing option '--from'"),
    (("--user", "staff_a", "--from", "0001-01-01", "--to", "2026-06-30"), "outside the dates the audit trail holds"),
    (("--user", "staff_a", "--from", "2026-06-01", "--to", "9999-12-31"), "outside the dates the audit trail holds"),
    (("--user", "staff_a", "--from", "2026-06-01", "--to", "2026-06-30", "--out", "/khong-co/breach.csv"),
     "Cannot write /khong-co/breach.csv: No such file or directory."),
])
def test_bad_input_is_refused_with_a_reason(world, cli, args, message):
    done = cli(*args)
    assert done.exit_code != 0
    assert message in done.output, done.output
