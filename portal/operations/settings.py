"""Settings an admin changes at run time (the environment holds the rest, README "Configuration")."""

from __future__ import annotations

from datetime import date

from flask import g, has_app_context, has_request_context

from .. import audit
from ..access import require
from ..extensions import db
from ..models import Setting, User
from . import transactional

REQUIRE_SECOND_FACTOR = "require_second_factor"  # for staff roles: digitizers, reviewers, admins
COPY_FEE = "copy_fee"  # đồng per certified copy from the register; 0: free of charge
# The footer's help line (as dichvucong.gov.vn has one): demo values until the department sets its own.
HELP_PHONE, HELP_ADDRESS, HELP_HOURS = "help_phone", "help_address", "help_hours"
# LoaiDinhDanh of a tax code in messages to the national data store (portal/national_store.py).
TAX_CODE_ID_TYPE = "national_store_tax_code_type"
# The privacy notice (/quyen-rieng-tu): the department's data protection contact (Law 91/2025), demo
# values until the department sets its own, and how many years the access log is kept.
PRIVACY_CONTACT, PRIVACY_EMAIL, PRIVACY_PHONE = "privacy_contact", "privacy_email", "privacy_phone"
ACCESS_LOG_YEARS = "access_log_years"
# Requests to correct (portal/operations/corrections.py): the working days a unit has to answer, and the
# public holidays that are not working days (portal/workdays.py), as ISO dates. The defaults: 15 working
# days, and Vietnam's 2026 holidays (Labour Code Art. 112; Tết and the days off as announced for 2026;
# Hùng Kings' day, 10/3 lunar, falls on Sunday 26 April, so Monday 27 April is given instead).
CORRECTION_ANSWER_DAYS = "correction_answer_days"
HOLIDAYS = "holidays"
HOLIDAYS_2026 = ["2026-01-01", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20",
                 "2026-04-26", "2026-04-27", "2026-04-30", "2026-05-01", "2026-09-01", "2026-09-02"]
DEFAULTS = {
    REQUIRE_SECOND_FACTOR: False,
    COPY_FEE: 0,
    HELP_PHONE: "0255 3822 560",
    HELP_ADDRESS: "Số 157 Hùng Vương, phường Cẩm Thành, tỉnh Quảng Ngãi",
    HELP_HOURS: "Thứ Hai đến Thứ Sáu, sáng 7:00–11:30, chiều 13:30–17:00",
    TAX_CODE_ID_TYPE: 3,
    PRIVACY_CONTACT: "Văn phòng Sở, bộ phận bảo vệ dữ liệu cá nhân",
    PRIVACY_EMAIL: "baovedulieu.skhcn@quangngai.gov.vn",
    PRIVACY_PHONE: "0255 3822 561",
    ACCESS_LOG_YEARS: 5,
    CORRECTION_ANSWER_DAYS: 15,
    HOLIDAYS: HOLIDAYS_2026,
}


def get(key: str):
    """A setting's value, read once per request."""
    cache = g.setdefault("portal_settings", {}) if has_request_context() else {}
    if key not in cache:
        row = db.session.get(Setting, key)
        cache[key] = row.value["value"] if row is not None else DEFAULTS[key]
    return cache[key]


def help_line() -> dict:
    """The footer's phone, address and hours; the defaults when the database cannot answer (an
    error page is still drawn)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return {name: get(key) for name, key in (("phone", HELP_PHONE), ("address", HELP_ADDRESS),
                                                 ("hours", HELP_HOURS))}
    except SQLAlchemyError:
        db.session.rollback()
        return {"phone": DEFAULTS[HELP_PHONE], "address": DEFAULTS[HELP_ADDRESS], "hours": DEFAULTS[HELP_HOURS]}


def holidays() -> list[date]:
    """The public holidays the working days skip (portal/workdays.py)."""
    return [date.fromisoformat(day) for day in get(HOLIDAYS)]


def second_factor_required(user: User) -> bool:
    return bool(user.is_staff and get(REQUIRE_SECOND_FACTOR))


@transactional
def change(actor: User, key: str, value) -> None:
    require(actor, "manage")
    if key not in DEFAULTS:
        raise ValueError(key)
    row = db.session.get(Setting, key)
    before = row.value["value"] if row is not None else DEFAULTS[key]
    if row is None:
        row = Setting(key=key)
        db.session.add(row)
    row.value, row.updated_by_id = {"value": value}, actor.id
    if has_app_context():  # tests share one application context between requests, and so its `g`
        g.pop("portal_settings", None)
    audit.record("setting.update", actor=actor, target=key, details={"from": before, "to": value})
