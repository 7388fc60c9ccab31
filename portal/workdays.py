"""Working days: Monday to Friday, less the public holidays an admin lists (portal/operations/settings.py
HOLIDAYS). Time limits owed to a holder (an acknowledgement within 2 working days, an answer within the
legal time) are counted here, in the portal's dates (Asia/Ho_Chi_Minh), never the machine's."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

SATURDAY = 5  # date.weekday(): Monday 0 ... Sunday 6
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def parse_holidays(text: str) -> list[date]:
    """Dates written YYYY-MM-DD, one per line (blank lines ignored), sorted and without repeats;
    ValueError names the first line that is not such a date."""
    days = set()
    for number, line in enumerate(str(text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            if not _ISO_DAY.fullmatch(line):  # fromisoformat also takes 20260902 and 2026-W36-3
                raise ValueError
            days.add(date.fromisoformat(line))
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

