"""Working days (portal/workdays.py): weekends and listed holidays are skipped."""

from datetime import date

import pytest

from portal.workdays import add_working_days, is_working_day, parse_holidays


def test_weekend_is_skipped():
    friday = date(2026, 6, 19)
    assert add_working_days(friday, 2) == date(2026, 6, 23)  # Monday, Tuesday
    assert add_working_days(date(2026, 6, 20), 1) == date(2026, 6, 22)  # from a Saturday: the Monday
    assert add_working_days(friday, 0) == friday


def test_holidays_are_skipped():
    off = [date(2026, 4, 27), date(2026, 4, 30), date(2026, 5, 1)]
    # Received Friday 24 April: Monday 27 (Hùng Kings' day given), Thu 30 April, Fri 1 May and the weekend are off.
    assert add_working_days(date(2026, 4, 24), 2, off) == date(2026, 4, 29)
    assert add_working_days(date(2026, 4, 24), 3, off) == date(2026, 5, 4)
    assert not is_working_day(date(2026, 4, 30), off) and is_working_day(date(2026, 4, 29), off)


def test_parse_holidays():
    assert parse_holidays("2026-09-02\n\n 2026-09-01 \n2026-09-02") == [date(2026, 9, 1), date(2026, 9, 2)]
    for bad in ("2026-9-2", "02/09/2026", "2026-02-30", "20260902", "2026-W36-3", "hôm nay"):
        with pytest.raises(ValueError, match="Dòng 2"):
            parse_holidays(f"2026-01-01\n{bad}")


def test_negative_count_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 1), -1)
