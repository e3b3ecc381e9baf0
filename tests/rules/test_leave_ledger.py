"""The leave ledger's arithmetic (rules/leave_ledger.py): L-04 accrual, working years, balances.

Every expected figure is worked out by hand in the comment next to it: 28 days a year is
28/12 = 2.333… days per counted month, and the product is rounded *up* to kopeck-like hundredths.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rules.leave_ledger import (
    DEFAULT_POLICIES,
    Entry,
    LedgerKind,
    accrued_days,
    add_months,
    balance,
    worked_months,
    working_years,
    year_containing,
)

ANNUAL = DEFAULT_POLICIES["annual"]
HIRED = date(2025, 3, 10)


@pytest.mark.parametrize(
    ("as_of", "months", "days"),
    [
        # the first day: 1 day worked, less than half a month → nothing yet
        (date(2025, 3, 10), 0, "0.00"),
        # 10..23 March: 14 days, still under half a month → dropped
        (date(2025, 3, 23), 0, "0.00"),
        # 10..24 March: 15 days, half a month → one full month → 28/12 = 2.333… → 2.34
        (date(2025, 3, 24), 1, "2.34"),
        # 10 Mar..9 Apr: exactly one month → 2.34
        (date(2025, 4, 9), 1, "2.34"),
        # 10 Mar..9 Aug is 5 months, 10..23 Aug 14 more days (dropped) → 5 × 28/12 = 11.666… → 11.67
        (date(2025, 8, 23), 5, "11.67"),
        # 5 months and 10..29 Aug, 20 days (≥ 15) → 6 months → 6 × 28/12 = 14.00
        (date(2025, 8, 29), 6, "14.00"),
        # 10 Mar..9 Oct: 7 months → 7 × 28/12 = 16.333… → 16.34 (up, not 16.33)
        (date(2025, 10, 9), 7, "16.34"),
        # 11 months and 10..28 Feb, 19 days → 12 months → 28.00
        (date(2026, 2, 28), 12, "28.00"),
        # the last day of the working year → 12 months → 28.00
        (date(2026, 3, 9), 12, "28.00"),
    ],
)
def test_accrual_follows_l04_from_the_hire_date(as_of, months, days):
    assert worked_months(HIRED, as_of) == months
    assert accrued_days(Decimal(28), months) == Decimal(days)


def test_a08_hired_on_the_15th():
    hired = date(2025, 3, 15)
    # 15 Mar..14 Aug is 5 months; 15..31 Aug is 17 days (≥ 15) → 6 months → 14.00
    assert worked_months(hired, date(2025, 8, 31)) == 6
    assert accrued_days(Decimal(28), 6) == Decimal("14.00")
    # 15..28 Aug is 14 days → dropped → 5 months → 11.67
    assert worked_months(hired, date(2025, 8, 28)) == 5
    assert accrued_days(Decimal(28), 5) == Decimal("11.67")


def test_rounding_never_goes_against_the_employee():
    # 2.33 per month would give 2.33, 4.66, 6.99…; the exact 28/12 × n rounded up never falls below it.
    for months in range(13):
        exact = Decimal(28) * months / 12
        assert accrued_days(Decimal(28), months) >= exact
        assert accrued_days(Decimal(28), months) - exact < Decimal("0.01")
    assert accrued_days(Decimal(28), 1) == Decimal("2.34")
    assert accrued_days(Decimal(28), 3) == Decimal("7.00")  # exact values stay exact


def test_before_the_hire_date_nothing_is_worked():
    assert worked_months(HIRED, date(2025, 3, 9)) == 0
    assert working_years(HIRED, date(2025, 3, 9)) == [working_years(HIRED, HIRED)[0]]
    assert year_containing(working_years(HIRED, HIRED), date(2025, 3, 9)) is None


def test_months_at_the_end_of_a_month_clamp():
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    # hired 31 Jan: the first month is 31 Jan..27 Feb (the next monthly date is 28 Feb)
    assert worked_months(date(2025, 1, 31), date(2025, 2, 27)) == 1


def test_working_years_run_from_the_hire_date():
    years = working_years(HIRED, date(2027, 3, 10))
    assert [(y.start, y.end) for y in years] == [
        (date(2025, 3, 10), date(2026, 3, 9)),
        (date(2026, 3, 10), date(2027, 3, 9)),
        (date(2027, 3, 10), date(2028, 3, 9)),
    ]


def test_a09_unpaid_days_beyond_14_move_the_working_year():
    hired = date(2025, 3, 15)
    # 20 unpaid days in year one: 20 − 14 = 6 days move its end from 2026-03-14 to 2026-03-20
    years = working_years(hired, date(2026, 4, 1), {hired: Decimal(20)})
    assert (years[0].start, years[0].end) == (date(2025, 3, 15), date(2026, 3, 20))
    assert (years[1].start, years[1].end) == (date(2026, 3, 21), date(2027, 3, 20))
    # 14 unpaid days still count as service: nothing moves
    assert working_years(hired, hired, {hired: Decimal(14)})[0].end == date(2026, 3, 14)


def _entry(kind, days, year=HIRED, leave_type="annual"):
    return Entry(LedgerKind(kind), leave_type, Decimal(days), year)


def _balance(as_of, entries=(), policy=ANNUAL, hired=HIRED):
    years = working_years(hired, as_of) if hired else []
    return balance(policy, entries, as_of=as_of, years=years).as_dict()


def test_unused_days_carry_into_the_next_working_year_and_never_expire():
    used_in_year_one = [_entry("use", 10)]
    # first day of year two (10 Mar 2026): nothing accrued yet; 28 − 10 = 18 carried
    first_day = _balance(date(2026, 3, 10), used_in_year_one)
    assert first_day["accrued"] == Decimal("0.00")
    assert first_day["carried"] == Decimal("18.00")
    assert first_day["used"] == Decimal("0.00")
    assert first_day["available"] == Decimal("18.00")
    # three years on: 3 × 28 − 10 carried, nothing lost (L-12); 10 Mar..9 Apr 2028 is 1 month → 2.34
    later = _balance(date(2028, 4, 9), used_in_year_one)
    assert later["carried"] == Decimal("74.00")
    assert later["available"] == Decimal("76.34")


def test_adjustments_and_use_of_the_current_year():
    year_two = date(2026, 3, 10)
    entries = [
        _entry("adjustment", "3.5"),  # year one: part of what was carried
        _entry("adjustment", "-2", year_two),
        _entry("use", "7", year_two),
    ]
    # as of 9 Oct 2026: 7 months of year two → 16.34; carried 28 + 3.5 = 31.5
    figures = _balance(date(2026, 10, 9), entries)
    assert figures == {
        "entitled": Decimal("28.00"),
        "accrued": Decimal("16.34"),
        "carried": Decimal("31.50"),
        "used": Decimal("7.00"),
        "reserved": Decimal("0.00"),
        "adjustments": Decimal("-2.00"),
        # 16.34 + 31.50 − 2 − 7 = 38.84
        "available": Decimal("38.84"),
    }


def test_reservations_hold_days_until_released_or_used():
    held = [_entry("reservation", 5)]
    assert _balance(date(2025, 10, 9), held)["reserved"] == Decimal("5.00")
    # 16.34 accrued − 5 held
    assert _balance(date(2025, 10, 9), held)["available"] == Decimal("11.34")
    released = [*held, _entry("release", 5)]
    assert _balance(date(2025, 10, 9), released)["available"] == Decimal("16.34")
    booked = [*released, _entry("use", 5)]
    figures = _balance(date(2025, 10, 9), booked)
    assert (figures["reserved"], figures["used"], figures["available"]) == (
        Decimal("0.00"),
        Decimal("5.00"),
        Decimal("11.34"),
    )


def test_types_that_do_not_accrue_have_what_hr_grants():
    additional = DEFAULT_POLICIES["additional"]
    entries = [_entry("adjustment", 7, leave_type="additional"), _entry("use", 100)]
    figures = _balance(date(2025, 10, 9), entries, policy=additional)
    assert figures["accrued"] == Decimal("0.00")
    assert figures["available"] == Decimal("7.00")  # the annual use is another type's


def test_without_a_hire_date_nothing_accrues():
    figures = _balance(date(2025, 10, 9), [_entry("adjustment", 4, date(2025, 1, 1))], hired=None)
    assert figures["accrued"] == Decimal("0.00")
    assert figures["adjustments"] == Decimal("4.00")
    assert figures["available"] == Decimal("4.00")
