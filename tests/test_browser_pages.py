"""Every page each role can reach, at 1280 and 390 px: no serious or critical axe finding, no sideways
scrolling, and a screenshot of each (`pages-<role>-<name>-<width>`).

The pages come from `app.url_map`, as in tests/test_held_access.py: a page added later is crawled too,
and one whose URL arguments the world below cannot fill fails until it can. A role's list holds only the
pages it may reach (its access class); the files, images and JSON a page links to are not pages.
"""

from __future__ import annotations

import pytest
from flask import url_for

from .browser_kit import SIDEWAYS, WIDTHS, accessibility_violations, browser_marks, login, new_page, shot
from .conftest import CCCD_A, CCCD_B, MST_C, PASSWORD, UNIT_A, make_result
from .test_held_access import route_class

pytestmark = browser_marks()

# Routes that answer with a file, an image or JSON, or that only pass a visitor on.
NOT_PAGES = {"static", "public.healthz", "admin.result_file", "admin.result_page", "admin.import_report",
             "admin.plan_report", "me.copy_file", "me.result_file", "me.result_page", "account.login_second_factor",
             "admin.home", "admin.import_status", "admin.slip", "admin.held_page", "me.result_page_large",
             "account.national_start", "account.national_callback", "public.national_store_file",
             "me.my_data", "me.data_export_file",  # ZIPs; the large store's page: tests/test_browser_mydata.py
             "shares.open_link",  # a share link answers the copy's file; its refusals: tests/test_browser_shares.py
             "me.correction_attachment", "admin.correction_attachment"}
# Which access classes (tests/test_held_access.py CLASSES) each role reaches.
ROLE_CLASSES = {
    "anonymous": {"public"},
    "citizen": {"public", "account", "holder"},
    "business": {"public", "account", "holder"},
    "digitizer": {"public", "account", "staff"},
    "reviewer": {"public", "account", "staff"},
    "admin": {"public", "account", "staff", "admin"},
}
USERNAMES = {"citizen": "holder_a", "business": "manager_c", "digitizer": "staff_a", "reviewer": "reviewer_a",
             "admin": "admin"}
BUSINESS_ONLY = {"me.members", "me.remove_member"}
LONG_NAMES = ["Nguyễn Thị Thanh Hương Trường Mầm non Tư thục Hoa Sen Quảng Ngãi",
              "Công ty Cổ phần Đầu tư Phát triển Công nghệ Kỹ thuật Y tế Miền Trung Việt Nam",
              "Bệnh viện Đa khoa tỉnh Quảng Ngãi — Khoa Chẩn đoán hình ảnh và Y học hạt nhân",
              "Phòng khám Đa khoa Thiện Nhân, chi nhánh huyện Bình Sơn"]


@pytest.fixture
def crowded(app, world, pdfs, clock):
    """A world whose tables have rows: long names, drafts and published results, copies, members,
    an import with errors, units with and without an inventory, and the audit entries all that leaves."""
    from types import SimpleNamespace

    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import ImportBatch, ImportRow, InventoryCount, Procedure, Unit
    from portal.operations import accounts, claims, corrections, shares, slips
    from portal.operations.copies import issue_copy

    for code, name in (("000.05.21.H48", "Trung tâm Thông tin và Ứng dụng tiến bộ Khoa học và Công nghệ tỉnh "
                                         "Quảng Ngãi"),
                       ("000.06.21.H48", "Phòng Kế hoạch - Tài chính")):
        accounts.create_unit(None, code, name)
    world["manager_c"] = accounts.create_user(None, "manager_c", "holder", PASSWORD, holder_id=MST_C,
                                              full_name="Lê Văn Quản Lý")
    member = claims.add_member(world["manager_c"], "ketoan", PASSWORD, "Trần Thị Kế Toán Viên Doanh Nghiệp")
    results = []
    for n, name in enumerate(LONG_NAMES):
        results.append(make_result(world, pdfs[n], reviewer="reviewer_a", holder_name=name, valid_until=None,
                                   holder_id=CCCD_B if n in (1, 2) else CCCD_A,
                                   document_number=f"{1200 + n}/GP-SKHCN-TTTH", issue_date=f"0{n + 1}/06/20{10 + n}",
                                   summary="Giấy phép tiến hành công việc bức xạ — sử dụng thiết bị X-quang chẩn "
                                           f"đoán trong y tế cho {name}"))
    business = make_result(world, pdfs[5], reviewer="reviewer_a", holder_id=MST_C, holder_name=LONG_NAMES[1],
                           valid_until=None, document_number="1300/GP-SKHCN")
    draft = make_result(world, pdfs[6], holder_name=LONG_NAMES[2], document_number="1301/GP-SKHCN")
    claims.issue_claim_code(world["reviewer_a"], results[2])
    slips.issue_for(world["reviewer_a"], [make_result(world, pdfs[7], reviewer="reviewer_a", holder_id="079203001234",
                                                      holder_name=LONG_NAMES[0], document_number="1302/GP-SKHCN")])
    copies = [issue_copy(world["holder_a"], results[0]), issue_copy(world["manager_c"], business)]
    for copy, who in zip(copies, ("holder_a", "manager_c"), strict=True):
        shares.create(world[who], copy, LONG_NAMES[3], 7)
        shares.revoke(world[who], shares.create(world[who], copy, LONG_NAMES[1], 30).share)
    asked = [corrections.submit(world["holder_a"], results[0], "holder_name", LONG_NAMES[0] + " (tên đúng)"),
             corrections.submit(world["manager_c"], business, "summary", "Giấy phép bức xạ — " + LONG_NAMES[2])]
    corrections.refuse(world["reviewer_a"], corrections.submit(world["holder_a"], results[0], "issue_date",
                                                               "01/06/2010"), "Ngày cấp đúng như bản giấy lưu trữ.")
    unit_a = db.session.scalars(select(Unit).where(Unit.code == UNIT_A)).one()
    for phase, count in ((2, 6), (3, 3), (4, 12)):
        db.session.add(InventoryCount(unit_id=unit_a.id, phase=phase, results=count, pages=count * 3,
                                      recorded_by_id=world["staff_a"].id, note="Kiểm kê kho lưu trữ tầng 2"))
    batch = ImportBatch(source="web", name="lo-so-hoa-phong-quan-ly-chuyen-nganh-thang-6-2026.csv",
                        manifest_sha256="a" * 64, files_dir="", status="done", total_rows=3, imported=1, failed=2,
                        unit_id=unit_a.id, created_by_id=world["staff_a"].id)
    db.session.add(batch)
    db.session.flush()
    for line, message in ((2, "Ngày ban hành: không đọc được ngày 31/02/2019."),
                          (3, "Tệp giay-phep-buc-xa-phong-kham-da-khoa-thien-nhan-binh-son-2019.pdf không có "
                              "trong lô.")):
        db.session.add(ImportRow(batch_id=batch.id, line=line, status="failed",
                                 file_name="giay-phep-buc-xa-phong-kham-da-khoa-thien-nhan-binh-son-2019.pdf",
                                 message=message))
    db.session.commit()
    return SimpleNamespace(results=results, business=business, draft=draft, copies=copies, batch=batch,
                           member=member, unit=unit_a, corrections=asked,
                           procedure=db.session.scalars(select(Procedure).order_by(Procedure.id)).first())


def pages_of(app, role: str, w) -> list[tuple[str, str]]:
    """(name, path) of every page `role` reaches, its URL arguments filled from the crowded world."""
    values = {
        "result_id": [("published", w.results[0].id), ("draft", w.draft.id)],
        "correction_id": [("", w.corrections[0].id)],
        "batch_id": [("", w.batch.id)], "unit_id": [("", w.unit.id)], "procedure_id": [("", w.procedure.id)],
    }
    found = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in NOT_PAGES or rule.endpoint.startswith("api."):
                continue
            if route_class(rule) not in ROLE_CLASSES[role]:
                continue
            if rule.endpoint in BUSINESS_ONLY and role != "business":
                continue
            name = rule.endpoint.replace(".", "-").replace("_", "-")
            args = set(rule.arguments)
            if not args:
                found.append((name, url_for(rule.endpoint)))
            elif args == {"result_id"}:
                choices = values["result_id"][1:] if rule.endpoint == "admin.edit_result" else \
                    values["result_id"][:1] if rule.endpoint == "admin.replace_result" else values["result_id"]
                found += [(f"{name}-{label}", url_for(rule.endpoint, result_id=i)) for label, i in choices]
            elif args == {"code"} and rule.endpoint == "me.copy_page":
                own = w.copies[1] if role == "business" else w.copies[0]
                found.append((name, url_for(rule.endpoint, code=own.verification_code)))
            elif args <= {"code", "page_number"} and rule.endpoint.startswith("me."):
                own = w.business if role == "business" else w.results[0]
                found.append((name, url_for(rule.endpoint, code=own.code, **({"page_number": 1} if len(args) > 1
                                                                               else {}))))
            elif args == {"code"} and rule.endpoint == "verify.copy":
                found.append((name, url_for(rule.endpoint, code=w.copies[0].verification_code)))
            elif args == {"user_id"} and rule.endpoint == "me.remove_member":
                found.append((name, url_for(rule.endpoint, user_id=w.member.id)))
            elif args == {"user_id"}:
                found.append((name, url_for(rule.endpoint, user_id=w.member.id)))
            elif len(args) == 1 and next(iter(args)) in values:
                arg = next(iter(args))
                found += [(name, url_for(rule.endpoint, **{arg: value})) for _label, value in values[arg]]
            else:
                raise AssertionError(f"{rule.rule}: fill its arguments {sorted(args)} in pages_of()")
    return found


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_page_of_every_role_reads_well_at_both_widths(live_server, browser, app, crowded):
    failures, seen = [], 0
    for role in ROLE_CLASSES:
        pages = pages_of(app, role, crowded)
        assert pages, role
        for width, label in WIDTHS:
            page = new_page(browser, width)
            if role != "anonymous":
                login(page, live_server, USERNAMES[role])
            for name, path in pages:
                response = page.goto(live_server + path)
                page.wait_for_load_state()
                seen += 1
                where = f"{role} {label} {path}"
                if response is None or response.status >= 400:
                    failures.append(f"{where}: answered {response.status if response else 'nothing'}")
                    continue
                overflow = page.evaluate(SIDEWAYS)
                if overflow["scroll"] > overflow["width"]:
                    failures.append(f"{where}: scrolls sideways {overflow}")
                violations = accessibility_violations(page)
                if violations:
                    failures.append(f"{where}: " + " | ".join(violations))
                shot(page, f"pages-{role}-{name}-{label}")
            page.context.close()
    assert seen > 60
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures)
