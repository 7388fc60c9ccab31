"""Working days: Monday to Friday, less the public holidays an admin lists (portal/operations/settings.py
HOLIDAYS). Time limits owed to a holder (an acknowledgement within 2 working days, an answer within the
legal time) are counted here, in the portal's dates (Asia/Ho_Chi_Minh), never the machine's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

SATURDAY = 5  # date.weekday(): Monday 0 ... Sunday 6


def parse_holidays(text: str) -> list[date]:
    """Dates written YYYY-MM-DD, one per line (blank lines ignored), sorted and without repeats;
    ValueError names the first line that is not such a date."""
    days = set()
    for number, line in enumerate(str(text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            days.add(date.fromisoformat(line) if len(line) == 10 else date.fromisoformat("x"))
        except ValueError:
            raise ValueError(f"Dòng {number} («{line[:20]}») không phải ngày dạng NNNN-TT-NN.") from None
    return sorted(days)


def is_working_day(day: date, holidays: Iterable[date] = ()) -> bool:
    return day.weekday() < SATURDAY and day not in set(holidays)


def add_working_days(start: date, count: int, holidays: Iterable[date] = ()) -> date:
    """The `count`th working day after `start` (the day something arrived is not counted, whatever
    day it is): a request received on a Friday with 2 days due is due on the Tuesday."""
    if count < 0:
        raise ValueError("count must not be negative")
    off = set(holidays)
    day = start
    while count:
        day += timedelta(days=1)
        if is_working_day(day, off):
            count -= 1
    return day

