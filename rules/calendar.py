"""The production calendar (производственный календарь): which days are holidays, days off or working.

Rows are the rule table HR edits: ``{date, kind, region, name}`` with ``kind`` one of

- ``holiday``: a non-working public holiday of ст. 112 (or a regional one). Leave does not count it (L-02).
- ``day_off``: a day off that is not a holiday: a day moved by ст. 112 ч.2 or by the yearly government
  decree. It counts as a weekend, so leave counts it (L-03).
- ``working_day``: a Saturday or Sunday made a working day by the decree.

A date without a row is a working day on Monday to Friday and a day off on Saturday and Sunday.
``region=None`` is the federal calendar; a region's rows add to it and win on the same date.

Implements L-03 (holidays versus moved days off), L-19 (a term ending on a non-working day ends on
the next working day) and the working-day arithmetic of C-01 (SLAs in working days).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

# ст. 112 ч.1: the non-working public holidays, as (month, day).
STATUTORY_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    [(1, d) for d in range(1, 9)] + [(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)]
)
DEFAULT_FIRST_YEAR = 2025
DEFAULT_LAST_YEAR = 2027


class DayKind(StrEnum):
    """The kind of a calendar row."""

    HOLIDAY = "holiday"
    DAY_OFF = "day_off"
    WORKING_DAY = "working_day"


class CalendarRangeError(ValueError):
    """A date outside the years the calendar was built for: its holidays are not known."""


@dataclass(frozen=True)
class CalendarRow:
    """One row of the production-calendar table."""

    day: date
    kind: DayKind
    region: str | None = None
    name: str = ""

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> CalendarRow:
        """A row from table data: ``date`` (ISO string or date), ``kind``, optional ``region`` and ``name``.

        Raises:
            ValueError: the date or the kind is not valid; the message names the field.
        """
        raw = row.get("date", row.get("day"))
        try:
            day = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
        except ValueError:
            raise ValueError(f"date: {raw!r} is not an ISO date") from None
        try:
            kind = DayKind(row.get("kind"))
        except ValueError:
            allowed = ", ".join(k.value for k in DayKind)
            raise ValueError(f"kind: {row.get('kind')!r} is not one of {allowed}") from None
        return cls(day=day, kind=kind, region=row.get("region") or None, name=row.get("name") or "")

    def to_dict(self) -> dict[str, Any]:
        """The row as table data (ISO date)."""
        return {
            "date": self.day.isoformat(),
            "kind": str(self.kind),
            "region": self.region,
            "name": self.name,
        }


class ProductionCalendar:
    """Working-day arithmetic over calendar rows for a range of years and one region."""

    def __init__(
        self,
        rows: Iterable[CalendarRow | Mapping[str, Any]],
        *,
        first_year: int,
        last_year: int,
        region: str | None = None,
    ) -> None:
        if last_year < first_year:
            raise ValueError(f"last_year {last_year} is before first_year {first_year}")
        self.first_year = first_year
        self.last_year = last_year
        self.region = region
        federal: dict[date, CalendarRow] = {}
        regional: dict[date, CalendarRow] = {}
        for item in rows:
            row = item if isinstance(item, CalendarRow) else CalendarRow.from_dict(item)
            if row.region is None:
                federal[row.day] = row
            elif row.region == region:
                regional[row.day] = row
        # A regional row wins over the federal one for the same date (e.g. a republic holiday).
        self._rows = {**federal, **regional}

    def _check(self, day: date) -> None:
        if not self.first_year <= day.year <= self.last_year:
            raise CalendarRangeError(
                f"the production calendar covers {self.first_year}-{self.last_year}; "
                f"{day.isoformat()} is outside it"
            )

    def row(self, day: date) -> CalendarRow | None:
        """The table row for ``day``, if there is one."""
        self._check(day)
        return self._rows.get(day)

    def is_holiday(self, day: date) -> bool:
        """True on a non-working public holiday (ст. 112); moved days off are not holidays (L-03)."""
        row = self.row(day)
        return row is not None and row.kind is DayKind.HOLIDAY

    def is_working_day(self, day: date) -> bool:
        """True on a working day: Monday to Friday unless a row says otherwise, or a decreed working day."""
        row = self.row(day)
        if row is not None:
            return row.kind is DayKind.WORKING_DAY
        return day.weekday() < 5

    def holidays_between(self, start: date, end: date) -> list[date]:
        """The public holidays in ``start..end`` inclusive, in order."""
        return [d for d in _days(start, end) if self.is_holiday(d)]

    def working_days_between(self, start: date, end: date) -> int:
        """The number of working days in ``start..end`` inclusive (0 if ``end`` is before ``start``)."""
        return sum(1 for d in _days(start, end) if self.is_working_day(d))

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        current = day + timedelta(days=1)
        while not self.is_working_day(current):
            current += timedelta(days=1)
        return current

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start``, not counting ``start`` (n=0 gives ``start``).

        ``add_working_days(Mon 2025-10-06, 10)`` is 2025-10-20 (hr-domain A42).
        """
        if n < 0:
            raise ValueError(f"n: {n} working days is negative")
        current = start
        for _ in range(n):
            current = self.next_working_day(current)
        return current

    def deadline(self, filed_on: date, working_days: int, *, count_filing_day: bool = True) -> date:
        """Due date of an SLA of ``working_days`` working days from ``filed_on`` (C-01).

        With ``count_filing_day`` a working filing day is day 1 (garant.ru's reading of ст. 62):
        filed Thu 2025-10-09 with 3 days is due Mon 2025-10-13; without it, Tue 2025-10-14 (A33).
        """
        if working_days < 1:
            raise ValueError(f"working_days: {working_days} must be at least 1")
        if count_filing_day and self.is_working_day(filed_on):
            return self.add_working_days(filed_on, working_days - 1)
        return self.add_working_days(filed_on, working_days)

    def term_end(self, day: date) -> date:
        """L-19 (ст. 14): a term whose last day is non-working ends on the next working day."""
        return day if self.is_working_day(day) else self.next_working_day(day)


def federal_calendar(
    rows: Iterable[Mapping[str, Any]], *, also_years: Iterable[int] = ()
) -> ProductionCalendar | None:
    """The federal calendar of the ``production_calendar`` table's rows, over the years they cover.

    ``also_years`` widens the range; a year without rows then counts Monday to Friday. None when
    there is no year at all (no rows, none asked for).
    """
    rows = list(rows)
    years = {int(str(row["date"])[:4]) for row in rows} | set(also_years)
    if not years:
        return None
    federal = [{**row, "region": row.get("region") or None} for row in rows]
    return ProductionCalendar(federal, first_year=min(years), last_year=max(years))


def _days(start: date, end: date) -> Iterable[date]:
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def default_rows(
    first_year: int = DEFAULT_FIRST_YEAR, last_year: int = DEFAULT_LAST_YEAR
) -> list[dict[str, Any]]:
    """Federal RF calendar rows for ``first_year..last_year``, to seed the rule table.

    The source is the ``holidays`` package (MIT), whose Russian calendar carries the ст. 112
    holidays, the days off moved from holidays that fall on a weekend, and the yearly government
    decrees on moving days off with their consultant.ru sources (2025: ПП РФ от 04.10.2024 № 1335;
    2026 and 2027 likewise, see ``holidays.countries.russia.RussiaStaticHolidays``), including the
    Saturdays made working days. A day is a ``holiday`` if it is a ст. 112 date, else a ``day_off``.
    """
    # Imported here: only seeding needs the package, the calculators run on the table's rows.
    import holidays

    source = holidays.country_holidays("RU", years=range(first_year, last_year + 1), language="ru")
    rows = [
        {
            "date": day.isoformat(),
            "kind": str(DayKind.HOLIDAY if (day.month, day.day) in STATUTORY_HOLIDAYS else DayKind.DAY_OFF),
            "region": None,
            "name": name,
        }
        for day, name in source.items()
    ]
    rows += [
        {
            "date": day.isoformat(),
            "kind": str(DayKind.WORKING_DAY),
            "region": None,
            "name": "Рабочий день (перенос)",
        }
        for day in source.weekend_workdays
        if first_year <= day.year <= last_year
    ]
    return sorted(rows, key=lambda r: r["date"])


def default_calendar(
    first_year: int = DEFAULT_FIRST_YEAR, last_year: int = DEFAULT_LAST_YEAR
) -> ProductionCalendar:
    """The federal calendar built from ``default_rows`` (for tests and for callers without a table)."""
    return ProductionCalendar(default_rows(first_year, last_year), first_year=first_year, last_year=last_year)
