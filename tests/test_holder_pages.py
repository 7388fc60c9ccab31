"""Issue 13, the holder's and the business's pages and the words people read: pages opened full
size, a copy issued after saying what it is and what it costs, members removed after a
confirmation (never oneself), the footer's help line, audit details in Vietnamese, the yearly
CSV read by Excel, the place-and-date line of a copy, the demo's digitization dates."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import UTC, date, datetime

import pytest
from PIL import Image
from sqlalchemy import select

from portal import wording
from portal.extensions import db
from portal.models import AuditEvent, CertifiedCopy, Result, User
from portal.operations import claims, settings
from portal.operations.accounts import create_user
from portal.timeutil import local_zone

from .conftest import CCCD_B, MST_C, PASSWORD, csrf_token, login, make_result


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_a_page_opens_full_size_from_a_fixed_set_of_sizes(app, client, world, pdfs):
    result = make_result(world, pdfs[0], reviewer="reviewer_a")
    login(client, "holder_a")
    page = _text(client.get(f"/me/results/{result.code}"))
    view_url = f"/me/results/{result.code}/pages/1"
    assert f'href="{view_url}"' in page and "mở cỡ lớn" in page
    assert "user-scalable" not in page and "maximum-scale" not in page  # nothing forbids pinch zoom
    large_page = _text(client.get(view_url))
    assert f"/me/results/{result.code}/pages/1-large.png" in large_page and "user-scalable" not in large_page
    normal = client.get(f"/me/results/{result.code}/pages/1.png")
    large = client.get(f"/me/results/{result.code}/pages/1-large.png")
    assert normal.status_code == large.status_code == 200 and large.mimetype == "image/png"
    normal_width = Image.open(io.BytesIO(normal.data)).width
    large_width = Image.open(io.BytesIO(large.data)).width
    assert normal_width <= 900 and 900 < large_width <= 1800
    # Only the sizes of the set: no number from the URL draws anything.
    for url in (f"/me/results/{result.code}/pages/1-huge.png", f"/me/results/{result.code}/pages/1-5000.png",
                f"/me/results/{result.code}/pages/99", f"/me/results/{result.code}/pages/99-large.png"):
        assert client.get(url).status_code == 404, url
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "result.preview")
                              .order_by(AuditEvent.id.desc())).first().details == {"page": 1, "size": "large"}
    # Another citizen reaches neither the page nor its image.
    create_user(None, "holder_b", "holder", PASSWORD, holder_id=CCCD_B)
    other = app.test_client()
    login(other, "holder_b")
    assert other.get(view_url).status_code == 404
    assert other.get(f"/me/results/{result.code}/pages/1-large.png").status_code == 404


def test_a_copy_is_issued_after_saying_what_it_is_and_its_fee(app, client, world, pdfs):
    result = make_result(world, pdfs[2], reviewer="reviewer_a", valid_until=None)
    login(client, "holder_a")
    page = _text(client.get(f"/me/results/{result.code}"))
    confirm_url = f"/me/results/{result.code}/copies"
    assert f'href="{confirm_url}"' in page and "Xin cấp bản sao điện tử" in page
    asked = _text(client.get(confirm_url))
    assert "bản sao được cấp từ sổ gốc" in asked.lower() and "miễn phí" in asked and "Xác nhận xin cấp" in asked
    assert not db.session.scalars(select(CertifiedCopy)).all()  # asking is not issuing
    # The fee is an admin's setting, said in đồng the Vietnamese way.
    settings.change(world["admin"], settings.COPY_FEE, 10000)
    assert "10.000 đồng" in _text(client.get(confirm_url))
    issued = client.post(confirm_url, data={"csrf_token": csrf_token(client, confirm_url)})
    copy = db.session.scalars(select(CertifiedCopy)).one()
    assert issued.status_code == 302
    assert issued.headers["Location"].endswith(f"/me/results/{result.code}?da_cap={copy.verification_code}#da-cap")
    landed = _text(client.get(issued.headers["Location"]))
    panel = landed[landed.index('id="da-cap"'):]
    assert f"Đã cấp bản sao số {copy.register_number}" in panel
    assert f'href="/me/copies/{copy.verification_code}.pdf"' in panel[:panel.index("</div>")]
    # Another holder naming that copy sees no panel (and not the result).
    assert client.get(f"/me/results/{result.code}?da_cap=NOTACODE").status_code == 200
    assert 'id="da-cap"' not in _text(client.get(f"/me/results/{result.code}?da_cap=NOTACODE"))


def test_the_copy_fee_setting_is_a_non_negative_amount(app, client, world):
    login(client, "admin")
    url = "/admin/settings"
    form = {"csrf_token": csrf_token(client, url), "copy_fee": "-5", "help_phone": "0255 1234 567",
            "help_address": "Số 1 Hùng Vương", "help_hours": "7:00–17:00", "tax_code_id_type": "3"}
    refused = client.post(url, data=form)
    assert refused.status_code == 200 and "Số phải từ 0" in _text(refused)
    assert settings.get(settings.COPY_FEE) == 0
    assert client.post(url, data={**form, "copy_fee": "25000"}).status_code == 302
    assert settings.get(settings.COPY_FEE) == 25000 and settings.get(settings.HELP_PHONE) == "0255 1234 567"
    # The footer of every page carries the help line, anonymous pages included.
    footer = _text(app.test_client().get("/login"))
    footer = footer[footer.index("<footer"):]
    assert "0255 1234 567" in footer and 'href="tel:02551234567"' in footer and "Số 1 Hùng Vương" in footer
    assert "7:00–17:00" in footer


def test_the_footer_has_the_department_help_line_by_default(client):
    footer = _text(client.get("/"))
    footer = footer[footer.index("<footer"):]
    for key in (settings.HELP_PHONE, settings.HELP_ADDRESS, settings.HELP_HOURS):
        assert settings.DEFAULTS[key] in footer


def test_a_manager_removes_a_member_after_confirming_never_themselves(app, client, world):
    manager = create_user(None, "dn-chinh", "holder", PASSWORD, holder_id=MST_C, full_name="Giám đốc Minh")
    member = claims.add_member(manager, "ketoan", "mat-khau-ke-toan", "Nguyễn Văn A")
    login(client, "dn-chinh")
    page = _text(client.get("/me/members"))
    # The button names the person; there is none on one's own row.
    assert re.search(r'Gỡ<span class="visually-hidden"> Nguyễn Văn A</span> khỏi doanh nghiệp', page)
    assert f"/me/members/{member.id}/remove" in page and f"/me/members/{manager.id}/remove" not in page
    asked = _text(client.get(f"/me/members/{member.id}/remove"))
    assert "Gỡ Nguyễn Văn A khỏi doanh nghiệp?" in asked and ">Gỡ Nguyễn Văn A khỏi doanh nghiệp</button>" in asked
    db.session.refresh(member)
    assert member.active  # asking removes nothing
    # One's own removal is refused on the server, asked or posted.
    own = client.get(f"/me/members/{manager.id}/remove", follow_redirects=True)
    assert "không tự gỡ mình" in _text(own)
    client.post(f"/me/members/{manager.id}/remove", data={"csrf_token": csrf_token(client, "/me/members")})
    db.session.refresh(manager)
    assert manager.active
    done = client.post(f"/me/members/{member.id}/remove", data={"csrf_token": csrf_token(client, "/me/members")},
                       follow_redirects=True)
    assert "Đã gỡ Nguyễn Văn A" in _text(done)
    db.session.refresh(member)
    assert not member.active


def test_values_are_words_and_vietnamese_formats():
    assert wording.details_words({"unit": None, "matches": False, "found": True, "page": 2}) == (
        "khớp với sổ: Không; tìm thấy: Có; trang: 2")
    assert wording.value_words(None) == "—" and wording.value_words(1234567) == "1.234.567"
    assert wording.value_words("2026-06-14T20:30:00+00:00") == "15/06/2026 03:30"
    assert wording.value_words("2026-06-05") == "05/06/2026"
    assert wording.value_words(date(2026, 2, 3)) == "03/02/2026"
    assert wording.day(date(2026, 2, 3)) == "03/02/2026" and wording.day(None) == ""
    # An instant is written in Vietnam's time, whatever zone it comes in.
    assert wording.moment("2026-06-14T20:30:05+00:00") == "03:30 ngày 15/06/2026"
    assert wording.moment(datetime(2026, 6, 14, 20, 30, 5, tzinfo=UTC), seconds=True) == "03:30:05 ngày 15/06/2026"
    assert wording.details_words({"role": "reviewer", "active": True}) == "vai trò: cán bộ kiểm tra; đang hoạt động: Có"
    assert wording.money(0) == "miễn phí" and wording.money(10000) == "10.000 đồng"


def test_the_audit_log_shows_no_python_values(app, client, world):
    from portal import audit

    audit.record("user.create", actor=world["admin"], target="x", details={"role": "staff", "unit": None,
                                                                          "manager": False})
    audit.record("copy.verify", target="ABCD", details={"upload": True, "matches": False})
    db.session.commit()
    settings.change(world["admin"], settings.COPY_FEE, 5000)
    login(client, "admin")
    page = _text(client.get("/admin/audit"))
    cells = re.findall(r"<td[^>]*><small>(.*?)</small></td>", page, re.S)
    assert "vai trò: cán bộ số hóa; người quản lý: Không" in cells
    assert "tải tệp lên: Có; khớp với sổ: Không" in cells
    assert ">None<" not in page  # events recorded outside a request have no address
    assert ">lệ phí cấp bản sao</td>" in page and "trước: 0; sau: 5.000" in cells
    for cell in cells:
        assert not re.search(r"\b(None|True|False)\b|: \{|\[", cell), cell


@pytest.mark.parametrize(("day", "line"), [
    (date(2026, 6, 5), "Quảng Ngãi, ngày 05 tháng 6 năm 2026"),
    (date(2026, 2, 15), "Quảng Ngãi, ngày 15 tháng 02 năm 2026"),
    (date(2026, 1, 9), "Quảng Ngãi, ngày 09 tháng 01 năm 2026"),
    (date(2026, 12, 31), "Quảng Ngãi, ngày 31 tháng 12 năm 2026"),
])
def test_the_place_and_date_line_follows_decree_30(day, line):
    """Decree 30/2020 Appendix I: days below 10 and the months 1 and 2 take a leading 0."""
    assert wording.place_and_date("Quảng Ngãi", day) == line


@pytest.mark.dates
def test_a_copy_carries_the_place_and_date_line_of_vietnam(clock, app, world, pdfs):
    from pypdf import PdfReader

    from portal.operations.copies import issue_copy
    from portal.storage import storage

    result = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)
    clock.move_to(datetime(2026, 6, 5, 0, 30, tzinfo=local_zone()))  # still 4 June in UTC
    copy = issue_copy(world["holder_a"], result)
    with storage().open_verified(copy.sha256) as stream:
        text = PdfReader(io.BytesIO(stream.read())).pages[0].extract_text()
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    assert "Quảng Ngãi, ngày 05 tháng 6 năm 2026" in text, text


@pytest.mark.slow
@pytest.mark.dates
def test_the_demo_is_a_plan_in_progress(clock, app):
    from portal import plan
    from portal.demo import seed

    seed(60)
    digitized = db.session.scalars(select(Result).where(Result.origin == "digitized")).all()
    assert len({(r.digitized_at.year, r.digitized_at.month) for r in digitized}) >= 12  # spread, not one day
    assert min(r.digitized_at for r in digitized).year == 2022
    admin = db.session.scalars(select(User).where(User.username == "admin")).one()
    months = plan._months([r.unit_id for r in digitized])
    assert sum(1 for _label, count in months if count) >= 6, months
    for result in db.session.scalars(select(Result)):
        assert result.created_at == result.digitized_at
        if result.published_at is not None:
            assert result.digitized_at < result.published_at <= datetime.now(local_zone())
    assert plan.progress(admin) is not None
