"""Demo data that looks real: units, procedures, accounts and about 200 results across all phases.

Everything goes through the same operations as the web pages, so the demo has its history and
audit trail like real data. The plan is drawn from a fixed seed and every result has a fixed
code: a rerun (after a crash, say) adds only what is missing.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..identifiers import PHASES, mst_check_digit, phase_for_year
from ..models import Procedure, Result, ResultStatusChange, Unit, User
from ..operations import accounts
from ..operations import results as result_ops
from ..scans import PreparedScan, Spooled, read_pdf
from ..storage import storage
from ..timeutil import local_zone, today, utcnow
from . import catalogue as cat
from .documents import Spec, render_many

# Share of the demo per era of the paper original (the plan's phases 5..2, then born digital).
ERAS = [((1988, 1995), 0.14), ((1996, 2005), 0.18), ((2006, 2015), 0.24), ((2016, 2021), 0.26), ((2022, None), 0.18)]


@dataclass
class Holder:
    kind: str
    id: str
    name: str
    address: str


@dataclass
class Planned:
    procedure: tuple
    holder: Holder
    issue_date: date
    serial: int
    fate: str  # published, draft, returned, revoked, replaced


def _cccd(rng: random.Random, birth_year: int, female: bool) -> str:
    century = (birth_year - 1900) // 100 * 2 + (1 if female else 0)
    return f"051{century}{birth_year % 100:02d}{rng.randrange(10**6):06d}"


def _mst(rng: random.Random) -> str:
    while True:
        first = f"43{rng.randrange(10**7):07d}"
        check = mst_check_digit(first)
        if check is not None:
            return f"{first}{check}"


def _holders(rng: random.Random) -> tuple[list[Holder], list[Holder]]:
    def address():
        return f"Số {rng.randint(1, 450)} {rng.choice(cat.STREETS)}, {rng.choice(cat.PLACES)}, tỉnh Quảng Ngãi"

    people = [Holder("person", cat.DEMO_CITIZEN_CCCD, cat.ACCOUNTS[3][3], address())]
    for _ in range(40):
        female = rng.random() < 0.5
        name = " ".join([rng.choice(cat.SURNAMES), rng.choice(cat.MIDDLE_F if female else cat.MIDDLE_M),
                         rng.choice(cat.GIVEN_F if female else cat.GIVEN_M)])
        people.append(Holder("person", _cccd(rng, rng.randint(1955, 2000), female), name, address()))
    organisations = [Holder("organisation", _mst(rng), name, address()) for name in cat.ORGANISATIONS]
    demo_business = next(o for o in organisations if o.name == cat.ACCOUNTS[4][3])
    organisations.remove(demo_business)
    organisations.insert(0, demo_business)
    return people, organisations


def _plan(count: int) -> list[Planned]:
    rng = random.Random(20260101)
    people, organisations = _holders(rng)
    this_year = today().year
    planned = []
    for index in range(count):
        (start, end), _share = rng.choices(ERAS, weights=[w for _, w in ERAS])[0]
        year = rng.randint(start, end or this_year)
        issue = date(year, rng.randint(1, 12), rng.randint(1, 28))
        if issue > today() - timedelta(days=7):
            issue = today() - timedelta(days=rng.randint(7, 60))
        procedure = rng.choice(cat.PROCEDURES)
        kinds = procedure[8]
        # The demo citizen and the demo business get a handful of results each.
        if index % 25 == 0 and "person" in kinds:
            holder = people[0]
        elif index % 20 == 1 and "organisation" in kinds:
            holder = organisations[0]
        else:
            holder = rng.choice(people[1:] if rng.choice(kinds) == "person" else organisations[1:])
        fate = rng.choices(["published", "draft", "revoked", "replaced"], [86, 6, 4, 4])[0]
        if fate == "draft" and procedure[3] != cat.MAIN_UNIT:
            fate = "published"  # the demo reviewers' queue is the main unit's
        planned.append(Planned(procedure, holder, issue, index + 1, fate))
    # Some of the queue has been sent back to the digitizer once already.
    for plan in [p for p in planned if p.fate == "draft"][::3]:
        plan.fate = "returned"
    return planned


def _spec(plan: Planned) -> Spec:
    code, name, field, unit, _ret, abbr, title, validity, _kinds = plan.procedure
    holder = plan.holder
    body = _body(plan)
    if validity:
        body.append(f"Văn bản có hiệu lực đến ngày {_valid_until(plan):%d/%m/%Y}.")
    signer_name, signer_title = _signer(plan)
    return Spec(
        department=current_app.config["DEPARTMENT_NAME"], province=current_app.config["PROVINCE_NAME"],
        number=_number(plan), issue_date=plan.issue_date, title=title,
        holder_label="Tổ chức được cấp" if holder.kind == "organisation" else "Người được cấp",
        holder_name=holder.name, holder_id=holder.id, address=holder.address,
        signer_name=signer_name, signer_title=signer_title, body=body, pages=1 + plan.serial % 3 // 2,
    )


def _body(plan: Planned) -> list[str]:
    rng = random.Random(plan.serial)
    field = plan.procedure[2]
    if field == cat.RADIATION:
        return [f"Thiết bị: máy X-quang chẩn đoán {rng.choice(cat.DEVICES)}, số sêri {rng.randint(10000, 99999)}.",
                "Mục đích: chẩn đoán hình ảnh trong y tế.",
                "Tổ chức, cá nhân phải tuân thủ các quy định của Luật Năng lượng nguyên tử và các văn bản hướng dẫn."]
    if field == cat.TRANSFER:
        return [f"Hợp đồng chuyển giao {rng.choice(cat.TECHNOLOGIES)}.",
                f"Giá trị hợp đồng: {rng.randint(2, 90) * 50:,} triệu đồng.".replace(",", ".")]
    if field == cat.QUALITY:
        return [f"Sản phẩm, phương tiện: {rng.choice(cat.PRODUCTS + cat.MEASURES)}.",
                "Phù hợp quy chuẩn kỹ thuật quốc gia tương ứng."]
    return [f"Lĩnh vực hoạt động: nghiên cứu và ứng dụng {rng.choice(cat.TECHNOLOGIES)}."]


def _summary(plan: Planned) -> str:
    title = plan.procedure[6].capitalize().replace("x-quang", "X-quang")
    return f"{title} cho {plan.holder.name}"


def _number(plan: Planned) -> str:
    return f"{plan.serial + 10 * (plan.issue_date.month)}/{plan.procedure[5]}"


def _valid_until(plan: Planned) -> date | None:
    years = plan.procedure[7]
    return plan.issue_date.replace(year=plan.issue_date.year + years) if years else None


def _signer(plan: Planned) -> tuple[str, str]:
    return cat.SIGNERS[plan.procedure[3]][plan.serial % 2]


def _dossier(plan: Planned) -> str:
    return f"{plan.procedure[3]}-{plan.issue_date:%y%m%d}-{plan.serial:04d}"


def _digitized_on(plan: Planned) -> date:
    """When the demo says this result was digitized: a plan in progress, not everything "today".

    A phase's originals are digitized from the January of its deadline's year until today (the
    units run late, as they do), more of them lately as the work speeds up; a born-digital result
    a few days after it was issued; the reviewers' queue in the last fortnight. Computed from the
    plan's phases and the result's serial (a golden-ratio sequence), so the same day gives the same demo.
    """
    now = today()
    if plan.fate in ("draft", "returned"):
        return now - timedelta(days=plan.serial % 14)
    phase = phase_for_year(plan.issue_date.year)
    if phase is None:
        return min(plan.issue_date + timedelta(days=1 + plan.serial % 10), now - timedelta(days=1))
    deadline = next(end for number, _start, _end, end in PHASES if number == phase)
    start = date(deadline.year, 1, 1)
    span = max((now - start).days - 1, 0)
    position = (plan.serial * 0.6180339887498949) % 1
    return start + timedelta(days=int(span * position ** 0.6))


def _date_history(result: Result, plan: Planned) -> None:
    """Set the result's timestamps (and its history's) to the demo's dates, explicitly."""
    day = _digitized_on(plan)
    digitized = datetime.combine(day, time(8 + plan.serial % 9, plan.serial * 7 % 60), local_zone())
    checked = min(digitized + timedelta(days=1 + plan.serial % 5, hours=2), utcnow())
    result.created_at = result.digitized_at = digitized
    if result.checked_at is not None:
        result.checked_at = result.published_at = checked
    for change in db.session.scalars(select(ResultStatusChange).where(ResultStatusChange.result_id == result.id)):
        change.at = digitized if change.from_status is None else max(checked, digitized)


def _ensure_catalogue() -> dict[str, dict[str, User]]:
    """Units, procedures and accounts, each created only if missing. Returns staff by unit."""
    for code, name in cat.UNITS:
        if not db.session.scalar(select(Unit.id).where(Unit.code == code)):
            accounts.create_unit(None, code, name)
    for code, name, field, _unit, retention, *_ in cat.PROCEDURES:
        if not db.session.scalar(select(Procedure.id).where(Procedure.code == code)):
            accounts.save_procedure(None, code, name, field, retention)

    def user(username, role, password, full_name, **binding):
        existing = db.session.scalars(select(User).where(User.username == username)).first()
        return existing or accounts.create_user(None, username, role, password, full_name=full_name, **binding)

    admin, staff, reviewer, citizen, business = cat.ACCOUNTS
    user(*admin)
    people, organisations = _holders(random.Random(20260101))
    user(*citizen, holder_id=cat.DEMO_CITIZEN_CCCD)
    user(*business, holder_id=organisations[0].id)
    teams = {cat.MAIN_UNIT: {"staff": user(*staff, unit_code=cat.MAIN_UNIT),
                             "reviewer": user(*reviewer, unit_code=cat.MAIN_UNIT)}}
    for code, _name in cat.UNITS:
        if code not in teams and code in cat.SIGNERS:
            slug = code.split(".")[1]
            teams[code] = {
                "staff": user(f"canbo.{slug}", "staff", staff[2], f"Cán bộ số hóa {slug}", unit_code=code),
                "reviewer": user(f"kiemtra.{slug}", "reviewer", reviewer[2], f"Cán bộ kiểm tra {slug}",
                                 unit_code=code),
            }
    return teams


def _scan(pdf: bytes, name: str) -> PreparedScan:
    path, sha, size = storage().spool(io.BytesIO(pdf))
    pages, text = read_pdf(path)
    return PreparedScan(Spooled(path, sha, size, "application/pdf"), None, pages, text, name)


def _input(plan: Planned, *, replacement: bool = False) -> result_ops.ResultInput:
    code, _name, _field, unit_code, retention, *_ = plan.procedure
    procedure = db.session.scalars(select(Procedure).where(Procedure.code == code)).one()
    unit = db.session.scalars(select(Unit).where(Unit.code == unit_code)).one()
    signer_name, signer_title = _signer(plan)
    return result_ops.ResultInput(
        procedure=procedure, unit=unit, dossier_code=_dossier(plan) if not replacement else None,
        result_code=f"{_dossier(plan)}-KQ{2 if replacement else 1}",
        document_number=_number(plan), issue_date=plan.issue_date, signer_name=signer_name,
        signer_title=signer_title, summary=_summary(plan), holder_kind=plan.holder.kind,
        holder_id=plan.holder.id, holder_name=plan.holder.name, holder_address=plan.holder.address,
        valid_until=_valid_until(plan), formed_year=plan.issue_date.year,
        origin="born_digital" if plan.issue_date.year >= 2022 else "digitized",
        retention_years=retention,
    )


def seed(count: int = 200, progress=None) -> int:
    """Load the demo; returns how many results were added."""
    teams = _ensure_catalogue()
    plans = [p for p in _plan(count)
             if not db.session.scalar(select(Result.id).where(Result.code == f"{_dossier(p)}-KQ1"))]
    specs = [_spec(p) for p in plans]
    # A replacement is a corrected reissue: same document, new number.
    for plan, spec in zip(plans, specs):
        if plan.fate == "replaced":
            specs.append(Spec(**{**spec.__dict__, "number": _number(plan).replace("/", "A/", 1)}))
    pdfs = render_many(specs)
    replacements = iter(pdfs[len(plans):])
    added = 0
    for plan, pdf in zip(plans, pdfs):
        team = teams[plan.procedure[3]]
        result = result_ops.create_draft(team["staff"], _input(plan), _scan(pdf, f"{_number(plan)}.pdf"))
        added += 1
        if plan.fate == "returned":
            result_ops.send_back(team["reviewer"], result, "Bản quét thiếu trang phụ lục, đề nghị quét lại.")
        elif plan.fate != "draft":
            result_ops.publish(team["reviewer"], result, seen_version=result.version)
        if plan.fate == "revoked":
            result_ops.revoke(team["reviewer"], result, "Thu hồi theo đề nghị của tổ chức, cá nhân được cấp.")
        elif plan.fate == "replaced":
            data = _input(plan, replacement=True)
            data.document_number = data.document_number.replace("/", "A/", 1)
            new = result_ops.create_draft(team["staff"], data, _scan(next(replacements), "thay-the.pdf"),
                                          replaces=result)
            result_ops.publish(team["reviewer"], new, seen_version=new.version)
            _date_history(new, plan)
        _date_history(result, plan)
        db.session.commit()
        if progress:
            progress(1)
    _inventory(teams)
    return added


def _inventory(teams: dict[str, dict[str, User]]) -> None:
    """Each unit's phase-1 survey of its paper results, so that the plan's dashboard has targets."""
    from ..models import InventoryCount

    if db.session.scalar(select(InventoryCount.id)):
        return
    for code, team in teams.items():
        unit = db.session.scalars(select(Unit).where(Unit.code == code)).one()
        for phase, results in ((2, 60), (3, 45), (4, 30), (5, 25)):
            db.session.add(InventoryCount(unit_id=unit.id, phase=phase, results=results, pages=results * 3,
                                          note="Kiểm kê giai đoạn 1", recorded_by_id=team["staff"].id))
    db.session.commit()
