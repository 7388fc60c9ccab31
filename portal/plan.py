"""The digitization plan's figures: inventory, progress by phase and unit, the yearly report.

Everything is counted from the database when asked (GROUP BY queries, one per table), so the
figures always agree with the results a staff member can list. Definitions (also in the README):
- digitized: a result made from paper (origin "digitized"), whatever its state since (a draft
  waiting for its check is digitized; a result revoked later was digitized all the same);
- checked: a reviewer published it (checked_at set); published: published_at set;
- pages: the page count of the result's stored PDF (kept on the result: no join);
- a result's phase follows the year its paper original was formed; results formed from
  2022 on are born digital and are shown apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select

from .access import visible_units
from .extensions import db
from .identifiers import PHASES
from .models import InventoryCount, Result, Unit
from .models.results import BORN_DIGITAL, DIGITIZED
from .timeutil import local_zone, today, utcnow

PHASE_LABELS = {2: "Giai đoạn 2 (hình thành 2016-2021)", 3: "Giai đoạn 3 (2006-2015)",
                4: "Giai đoạn 4 (1996-2005)", 5: "Giai đoạn 5 (1995 trở về trước)"}
DEADLINES = {phase: deadline for phase, _s, _e, deadline in PHASES}
PACE_DAYS = 30
MET, FINISHED_LATE, ON_TRACK, AT_RISK, LATE, NO_INVENTORY = (
    "met", "finished_late", "on_track", "at_risk", "late", "no_inventory")
STATE_LABELS = {MET: "Đạt, đúng hạn", FINISHED_LATE: "Xong nhưng trễ hạn", ON_TRACK: "Đúng tiến độ",
                AT_RISK: "Có nguy cơ trễ hạn", LATE: "Trễ hạn", NO_INVENTORY: "Chưa kiểm kê"}
# The chart's three colours (and patterns): a state judged from the phase's deadline and the clock.
ON_TIME, BEHIND = "on-time", "behind"
PACES = {MET: ON_TIME, ON_TRACK: ON_TIME, AT_RISK: BEHIND, LATE: "late", FINISHED_LATE: "late"}
PACE_LABELS = {ON_TIME: "Đúng tiến độ", BEHIND: "Chậm tiến độ", "late": "Trễ hạn"}
PACE_HINTS = {ON_TIME: "đã xong trước hạn, hoặc theo nhịp 30 ngày qua sẽ xong trước hạn",
              BEHIND: "chưa quá hạn, nhưng theo nhịp 30 ngày qua sẽ không kịp",
              "late": "đã quá hạn mà chưa xong, hoặc xong sau hạn"}


def phase_of(year_column):
    """The phase of a formed year, as SQL (None from 2022 on)."""
    whens = []
    for phase, start, end, _deadline in PHASES:
        whens.append((and_(year_column >= start, year_column <= end) if start else year_column <= end, phase))
    return case(*whens, else_=None)


def units_for(user) -> list[Unit]:
    """The units `user` may see figures of; `None` is the command line (every unit)."""
    if user is None:
        return list(db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.code)))
    return list(db.session.scalars(visible_units(user)))


def inventory_history(user, limit: int = 20) -> list[InventoryCount]:
    """The latest inventory counts recorded for the units `user` may see, newest first."""
    unit_ids = [u.id for u in units_for(user)]
    return list(db.session.scalars(select(InventoryCount).where(InventoryCount.unit_id.in_(unit_ids))
                                   .order_by(InventoryCount.id.desc()).limit(limit)))


def inventory(unit_ids: list[int]) -> dict[tuple[int, int], InventoryCount]:
    """The latest count per (unit, phase)."""
    latest = (select(func.max(InventoryCount.id)).where(InventoryCount.unit_id.in_(unit_ids))
              .group_by(InventoryCount.unit_id, InventoryCount.phase))
    rows = db.session.scalars(select(InventoryCount).where(InventoryCount.id.in_(latest)))
    return {(row.unit_id, row.phase): row for row in rows}


@dataclass
class Cell:
    """One unit in one phase."""

    to_digitize: int | None = None   # from the inventory; None: not counted yet
    pages_to_digitize: int | None = None
    digitized: int = 0
    checked: int = 0
    published: int = 0
    pages: int = 0
    last_30_days: int = 0
    last_digitized: datetime | None = None
    state: str = NO_INVENTORY
    projected: date | None = None

    @property
    def percent(self) -> int | None:
        if not self.to_digitize:
            return None
        return min(100, round(100 * self.digitized / self.to_digitize))

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def pace(self) -> str | None:
        """On time, behind or late; None before the inventory is counted."""
        return PACES.get(self.state)

    @property
    def bar_percent(self) -> float:
        """How much of the bar is filled: nothing to digitize is a full bar."""
        if not self.to_digitize:
            return 100.0
        return round(min(100.0, 100 * self.digitized / self.to_digitize), 1)


@dataclass
class Progress:
    units: list[Unit]
    cells: dict[tuple[int, int], Cell]                     # (unit id, phase)
    born_digital: dict[int, int]                           # unit id -> results issued electronically
    months: list[tuple[str, int]] = field(default_factory=list)  # ("2026-11", digitized that month)

    def phase_total(self, phase: int) -> Cell:
        total = Cell()
        cells = [self.cells[(u.id, phase)] for u in self.units]
        counted = [c for c in cells if c.to_digitize is not None]
        total.to_digitize = sum(c.to_digitize for c in counted) if counted else None
        total.pages_to_digitize = sum(c.pages_to_digitize or 0 for c in counted) if counted else None
        for name in ("digitized", "checked", "published", "pages", "last_30_days"):
            setattr(total, name, sum(getattr(c, name) for c in cells))
        dates = [c.last_digitized for c in cells if c.last_digitized]
        total.last_digitized = max(dates) if dates else None
        _judge(total, phase)
        return total

    def counted(self) -> list[tuple[Unit, list[tuple[int, Cell]]]]:
        """The chart's rows: each unit with the phases whose inventory is counted."""
        rows = []
        for unit in self.units:
            phases = [(p, self.cells[(unit.id, p)]) for p in DEADLINES]
            phases = [(p, cell) for p, cell in phases if cell.to_digitize is not None]
            if phases:
                rows.append((unit, phases))
        return rows

    def uncounted(self) -> list[tuple[Unit, list[int], int]]:
        """The units (and phases) without an inventory yet, with what they digitized all the same."""
        rows = []
        for unit in self.units:
            phases = [p for p in DEADLINES if self.cells[(unit.id, p)].to_digitize is None]
            if phases:
                rows.append((unit, phases, sum(self.cells[(unit.id, p)].digitized for p in phases)))
        return rows


def _judge(cell: Cell, phase: int, on: date | None = None) -> None:
    on = on or today()
    deadline = DEADLINES[phase]
    if cell.to_digitize is None:
        cell.state = NO_INVENTORY
        return
    remaining = cell.to_digitize - cell.digitized
    if remaining <= 0:
        finished = cell.last_digitized.astimezone(local_zone()).date() if cell.last_digitized else on
        cell.state = MET if finished <= deadline else FINISHED_LATE
        return
    if on > deadline:
        cell.state = LATE
        return
    pace = cell.last_30_days / PACE_DAYS
    cell.projected = on + timedelta(days=remaining / pace) if pace else None
    cell.state = ON_TRACK if cell.projected and cell.projected <= deadline else AT_RISK


def progress(user) -> Progress:
    units = units_for(user)
    ids = [u.id for u in units]
    cells = {(u.id, phase): Cell() for u in units for phase in DEADLINES}
    for (unit_id, phase), count in inventory(ids).items():
        cells[(unit_id, phase)].to_digitize, cells[(unit_id, phase)].pages_to_digitize = count.results, count.pages
    phase = phase_of(Result.formed_year).label("phase")
    since = utcnow() - timedelta(days=PACE_DAYS)
    rows = db.session.execute(
        select(Result.unit_id, phase, func.count(Result.id), func.count(Result.checked_at),
               func.count(Result.published_at), func.coalesce(func.sum(Result.page_count), 0),
               func.sum(case((Result.digitized_at >= since, 1), else_=0)), func.max(Result.digitized_at))
        .where(Result.origin == DIGITIZED, Result.unit_id.in_(ids))
        .group_by(Result.unit_id, phase))
    for unit_id, ph, digitized, checked, published, page_sum, recent, last in rows:
        if ph is None:
            continue  # a paper result formed from 2022 on: outside the plan's phases
        cell = cells[(unit_id, ph)]
        cell.digitized, cell.checked, cell.published, cell.pages = digitized, checked, published, int(page_sum)
        cell.last_30_days, cell.last_digitized = int(recent or 0), last
    for (_unit_id, ph), cell in cells.items():
        _judge(cell, ph)
    born = dict(db.session.execute(select(Result.unit_id, func.count(Result.id)).where(
        Result.origin == BORN_DIGITAL, Result.unit_id.in_(ids)).group_by(Result.unit_id)).all())
    return Progress(units, cells, born, _months(ids))


def _months(unit_ids: list[int], count: int = 12) -> list[tuple[str, int]]:
    """Results digitized in each of the last `count` months (months of the department's zone)."""
    now = datetime.now(local_zone())
    starts = []
    year, month = now.year, now.month
    for _ in range(count):
        starts.append(datetime(year, month, 1, tzinfo=local_zone()))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    starts.reverse()
    bounds = starts + [datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=local_zone())]
    columns = [func.sum(case((and_(Result.digitized_at >= a, Result.digitized_at < b), 1), else_=0))
               for a, b in zip(bounds, bounds[1:])]
    figures = db.session.execute(select(*columns).where(Result.origin == DIGITIZED, Result.unit_id.in_(unit_ids),
                                                        Result.digitized_at >= bounds[0])).one()
    return [(f"{s:%m/%Y}", int(n or 0)) for s, n in zip(starts, figures)]


# --- the yearly report ------------------------------------------------------------------------

@dataclass
class ReportRow:
    unit: Unit
    digitized: int = 0
    digitized_pages: int = 0
    checked: int = 0
    published: int = 0
    published_pages: int = 0
    cost: int = 0
    to_digitize: int = 0
    remaining: int = 0
    remaining_pages: int = 0

    FIELDS = ("digitized", "digitized_pages", "checked", "published", "published_pages", "cost", "to_digitize",
              "remaining", "remaining_pages")


def year_bounds(year: int) -> tuple[datetime, datetime]:
    zone = local_zone()
    return (datetime.combine(date(year, 1, 1), time.min, tzinfo=zone),
            datetime.combine(date(year + 1, 1, 1), time.min, tzinfo=zone))


def yearly_report(user, year: int, price_per_page: int) -> list[ReportRow]:
    """Per unit, for `year`: digitized, checked and published in the year, the cost of the pages
    digitized, and what remains of the inventory at the year's end."""
    units = units_for(user)
    ids = [u.id for u in units]
    rows = {u.id: ReportRow(u) for u in units}
    start, end = year_bounds(year)
    pages = func.coalesce(Result.page_count, 0)
    in_year = lambda column: and_(column >= start, column < end)  # noqa: E731
    data = db.session.execute(
        select(Result.unit_id,
               func.sum(case((in_year(Result.digitized_at), 1), else_=0)),
               func.sum(case((in_year(Result.digitized_at), pages), else_=0)),
               func.sum(case((in_year(Result.checked_at), 1), else_=0)),
               func.sum(case((in_year(Result.published_at), 1), else_=0)),
               func.sum(case((in_year(Result.published_at), pages), else_=0)),
               func.sum(case((and_(Result.digitized_at < end, Result.formed_year < 2022), 1), else_=0)),
               func.sum(case((and_(Result.digitized_at < end, Result.formed_year < 2022),
                              pages), else_=0)))
        .where(Result.origin == DIGITIZED, Result.unit_id.in_(ids)).group_by(Result.unit_id))
    done_by_end: dict[int, tuple[int, int]] = {}
    for unit_id, dig, dig_pages, checked, published, pub_pages, cumulative, cumulative_pages in data:
        row = rows[unit_id]
        row.digitized, row.digitized_pages = int(dig or 0), int(dig_pages or 0)
        row.checked, row.published, row.published_pages = int(checked or 0), int(published or 0), int(pub_pages or 0)
        done_by_end[unit_id] = (int(cumulative or 0), int(cumulative_pages or 0))
    counts = inventory(ids)
    for unit_id, row in rows.items():
        row.cost = row.digitized_pages * price_per_page
        row.to_digitize = sum(c.results for (u, _p), c in counts.items() if u == unit_id)
        to_pages = sum(c.pages for (u, _p), c in counts.items() if u == unit_id)
        done, done_pages = done_by_end.get(unit_id, (0, 0))
        row.remaining, row.remaining_pages = max(0, row.to_digitize - done), max(0, to_pages - done_pages)
    return list(rows.values())


def total(rows: list[ReportRow]) -> dict[str, int]:
    return {name: sum(getattr(r, name) for r in rows) for name in ReportRow.FIELDS}
