"""The production calendar: RF defaults 2025-2027, holidays versus moved days off, working-day arithmetic."""

from __future__ import annotations

from datetime import date

import pytest

from rules.calendar import (
    CalendarRangeError,
    CalendarRow,
    DayKind,
    ProductionCalendar,
    default_calendar,
    default_rows,
)


@pytest.fixture(scope="module")
def rf() -> ProductionCalendar:
    return default_calendar()


def kinds(rows, year):
    return {r["date"]: r["kind"] for r in rows if r["date"].startswith(str(year))}


def test_default_rows_hold_the_statutory_holidays_of_each_year():
    rows = default_rows()
    for year in (2025, 2026, 2027):
        holidays = sorted(day for day, kind in kinds(rows, year).items() if kind == "holiday")
        assert holidays == [
            *(f"{year}-01-0{d}" for d in range(1, 9)),
            f"{year}-02-23",
            f"{year}-03-08",
            f"{year}-05-01",
            f"{year}-05-09",
            f"{year}-06-12",
            f"{year}-11-04",
        ]
    assert all(r["region"] is None for r in rows)


def test_default_rows_know_the_2025_decree():
    # ПП РФ от 04.10.2024 № 1335: 4 Jan → 2 May, 5 Jan → 31 Dec, 23 Feb → 8 May, 8 Mar → 13 Jun,
    # Saturday 1 Nov worked → Monday 3 Nov off.
    year = kinds(default_rows(), 2025)
    for day in ("2025-05-02", "2025-05-08", "2025-06-13", "2025-11-03", "2025-12-31"):
        assert year[day] == "day_off", day
    assert year["2025-11-01"] == "working_day"


def test_default_rows_know_the_2026_moves():
    year = kinds(default_rows(), 2026)
    # 3 Jan → 9 Jan, 4 Jan → 31 Dec by decree; 8 Mar (Sun) → 9 Mar and 9 May (Sat) → 11 May by ст. 112.
    for day in ("2026-01-09", "2026-12-31", "2026-03-09", "2026-05-11"):
        assert year[day] == "day_off", day


def test_rows_round_trip_through_the_table_format():
    rows = default_rows(2025, 2025)
    assert [CalendarRow.from_dict(r).to_dict() for r in rows] == rows


@pytest.mark.parametrize(
    ("row", "field"),
    [({"date": "2025-13-01", "kind": "holiday"}, "date"), ({"date": "2025-01-01", "kind": "feast"}, "kind")],
)
def test_a_bad_row_names_its_field(row, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        CalendarRow.from_dict(row)


def test_holidays_are_not_working_days_but_moved_days_off_are_not_holidays(rf):
    assert rf.is_holiday(date(2025, 11, 4))
    assert not rf.is_working_day(date(2025, 11, 4))
    assert not rf.is_holiday(date(2025, 11, 3))  # moved day off: a weekend, not a holiday (L-03)
    assert not rf.is_working_day(date(2025, 11, 3))
    assert rf.is_working_day(date(2025, 11, 1))  # a Saturday made working by the decree
    assert not rf.is_working_day(date(2025, 11, 8))  # an ordinary Saturday
    assert rf.is_working_day(date(2025, 11, 5))


def test_working_days_between(rf):
    # 1 Nov (Sat) worked by decree; 3 Nov moved day off; 4 Nov holiday; 5-7 Nov working; 8-9 weekend.
    assert rf.working_days_between(date(2025, 11, 1), date(2025, 11, 9)) == 4
    assert [d for d in range(1, 10) if rf.is_working_day(date(2025, 11, d))] == [1, 5, 6, 7]
    assert rf.working_days_between(date(2025, 11, 9), date(2025, 11, 1)) == 0


def test_add_working_days_and_deadlines(rf):
    # A42: 10 working days from Mon 2025-10-06, counted from the next day → 2025-10-20.
    assert rf.add_working_days(date(2025, 10, 6), 10) == date(2025, 10, 20)
    # A33: 3 working days from Thu 2025-10-09, the filing day being day 1 → Mon 10-13; else Tue 10-14.
    assert rf.deadline(date(2025, 10, 9), 3) == date(2025, 10, 13)
    assert rf.deadline(date(2025, 10, 9), 3, count_filing_day=False) == date(2025, 10, 14)
    # Filed on a Saturday: day 1 is the Monday.
    assert rf.deadline(date(2025, 10, 11), 1) == date(2025, 10, 13)
    # Across the New Year holidays: the first working day of 2026 is 12 January.
    assert rf.add_working_days(date(2025, 12, 30), 1) == date(2026, 1, 12)
    assert rf.add_working_days(date(2025, 10, 6), 0) == date(2025, 10, 6)


def test_next_working_day_and_term_end(rf):
    assert rf.next_working_day(date(2025, 12, 30)) == date(2026, 1, 12)
    assert rf.next_working_day(date(2025, 10, 10)) == date(2025, 10, 13)
    # L-19: a term ending on a non-working day ends on the next working day; a working day stays.
    assert rf.term_end(date(2025, 11, 4)) == date(2025, 11, 5)
    assert rf.term_end(date(2025, 11, 5)) == date(2025, 11, 5)


def test_outside_the_years_the_calendar_refuses_to_guess(rf):
    with pytest.raises(CalendarRangeError, match="2025-2027"):
        rf.is_working_day(date(2028, 1, 3))
    with pytest.raises(CalendarRangeError):
        rf.add_working_days(date(2027, 12, 30), 5)


def test_a_region_adds_its_rows_and_wins_on_the_same_date():
    rows = [
        {"date": "2025-06-12", "kind": "holiday", "region": None, "name": "День России"},
        {"date": "2025-08-30", "kind": "holiday", "region": "RU-TA", "name": "День Республики"},
        {"date": "2025-06-12", "kind": "working_day", "region": "XX", "name": "test override"},
    ]
    tatarstan = ProductionCalendar(rows, first_year=2025, last_year=2025, region="RU-TA")
    federal = ProductionCalendar(rows, first_year=2025, last_year=2025)
    odd = ProductionCalendar(rows, first_year=2025, last_year=2025, region="XX")
    assert tatarstan.is_holiday(date(2025, 8, 30))
    assert not federal.is_holiday(date(2025, 8, 30))
    assert tatarstan.is_holiday(date(2025, 6, 12))
    assert odd.is_working_day(date(2025, 6, 12))
    assert tatarstan.row(date(2025, 8, 30)).kind is DayKind.HOLIDAY
