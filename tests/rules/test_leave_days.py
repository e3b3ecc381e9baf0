"""Leave arithmetic on hr-domain §1 and the numbers of §8 (A02-A07, A09, A10, A16, A17, A22, A23)."""

from __future__ import annotations

from datetime import date

import pytest

from rules import outcomes
from rules.calendar import CalendarRangeError, ProductionCalendar, default_calendar, default_rows
from rules.leave_days import (
    BookedLeave,
    check_day_count,
    check_first_year_right,
    check_mandatory_unpaid,
    check_max_continuous,
    check_notice,
    check_overlap,
    check_split_rule,
    count_leave_days,
    leave_end_for,
    notice_due,
    working_year_shift,
    working_years,
)
from rules.outcomes import Effect


@pytest.fixture(scope="module")
def rf() -> ProductionCalendar:
    return default_calendar()


# Day count (L-02, L-03)


def test_a02_november_with_unity_day(rf):
    count = count_leave_days(rf, date(2025, 11, 1), date(2025, 11, 14))
    assert (count.calendar_days, count.days) == (14, 13)
    assert count.holidays_excluded == (date(2025, 11, 4),)
    # 3 Nov 2025 is a moved day off, not a holiday: it is charged.
    assert date(2025, 11, 3) not in count.holidays_excluded


def test_a03_end_for_14_charged_days(rf):
    assert leave_end_for(rf, date(2025, 11, 1), 14) == date(2025, 11, 15)


def test_a04_new_year_holidays(rf):
    count = count_leave_days(rf, date(2026, 1, 1), date(2026, 1, 14))
    assert count.days == 6
    assert len(count.holidays_excluded) == 8
    # 9 Jan 2026 is a decree-moved day off: charged (L-03).
    assert count_leave_days(rf, date(2026, 1, 9), date(2026, 1, 9)).days == 1


def test_a05_2023_moved_day_off_is_counted():
    cal = ProductionCalendar(default_rows(2023, 2023), first_year=2023, last_year=2023)
    count = count_leave_days(cal, date(2023, 11, 1), date(2023, 11, 14))
    assert count.days == 13
    assert count.holidays_excluded == (date(2023, 11, 4),)  # 6 Nov (moved from Sat 4 Nov) is counted


def test_may_holidays_2025(rf):
    # 1 and 9 May are holidays; 2 and 8 May are moved days off and are charged.
    assert count_leave_days(rf, date(2025, 5, 1), date(2025, 5, 11)).days == 9


def test_leave_across_new_year_2026_2027(rf):
    count = count_leave_days(rf, date(2026, 12, 28), date(2027, 1, 10))
    assert count.calendar_days == 14
    assert count.days == 6


def test_leave_end_never_lands_on_a_holiday(rf):
    assert leave_end_for(rf, date(2025, 12, 29), 3) == date(2025, 12, 31)
    assert leave_end_for(rf, date(2025, 12, 29), 4) == date(2026, 1, 9)  # 1-8 Jan are not charged
    assert leave_end_for(rf, date(2025, 11, 3), 1) == date(2025, 11, 3)


def test_check_day_count_outcomes(rf):
    ok = check_day_count(rf, date(2025, 11, 1), date(2025, 11, 14))
    assert ok.ok and ok.params["days"] == 13
    assert ok.to_dict()["params"]["holidays_excluded"] == ["2025-11-04"]
    inverted = check_day_count(rf, date(2025, 11, 14), date(2025, 11, 1))
    assert (inverted.ok, inverted.code) == (False, outcomes.INVALID_PERIOD)
    only_holidays = check_day_count(rf, date(2026, 1, 1), date(2026, 1, 8))
    assert only_holidays.code == outcomes.NO_CHARGEABLE_DAYS
    assert "2026-01-01..2026-01-08" in only_holidays.message


def test_count_refuses_years_the_calendar_does_not_know(rf):
    with pytest.raises(CalendarRangeError):
        count_leave_days(rf, date(2027, 12, 28), date(2028, 1, 10))
    with pytest.raises(ValueError, match="before start"):
        count_leave_days(rf, date(2025, 1, 2), date(2025, 1, 1))


# Overlap


def test_overlap_with_an_active_leave_only():
    mine = [
        BookedLeave("r-1", date(2025, 7, 1), date(2025, 7, 14)),
        BookedLeave("r-2", date(2025, 8, 1), date(2025, 8, 5), status="cancelled"),
    ]
    hit = check_overlap(date(2025, 7, 14), date(2025, 7, 20), mine)
    assert str(hit) == "OVERLAP{other_request_id:r-1, other_start:2025-07-01, other_end:2025-07-14}"
    assert check_overlap(date(2025, 7, 15), date(2025, 7, 20), mine).ok
    assert check_overlap(date(2025, 8, 2), date(2025, 8, 3), mine).ok  # the cancelled one holds no dates
    assert check_overlap(date(2025, 7, 10), date(2025, 7, 12), mine, ignore_id="r-1").ok


# Split (L-07)


def test_a06_split_rule_rejects_when_no_14_day_part_is_left():
    result = check_split_rule(28, [7, 7], 8)
    assert (result.ok, result.effect) == (False, Effect.REJECT)
    assert str(result) == "SPLIT_14_RULE{remaining:6, min_part:14}"


def test_a07_split_rule_passes_once_a_14_day_part_exists():
    assert check_split_rule(28, [14, 7], 3).ok


@pytest.mark.parametrize(
    ("taken", "requested", "ok"),
    [([], 14, True), ([], 7, True), ([7], 7, True), ([7], 8, False), ([7, 7], 14, True), ([5], 9, True)],
)
def test_split_rule_cases(taken, requested, ok):
    assert check_split_rule(28, taken, requested).ok is ok


def test_split_rule_does_not_apply_to_an_entitlement_below_14():
    assert check_split_rule(10, [3], 3).ok


# Notice (L-10)


def test_notice_for_annual_leave():
    start = date(2025, 7, 14)
    assert notice_due(start) == date(2025, 6, 30)  # A23
    assert check_notice(date(2025, 6, 30), start, 14).ok
    late = check_notice(date(2025, 7, 1), start, 14)
    assert str(late) == "NOTICE_TOO_SHORT{required:14, given:13, due:2025-06-30}"
    assert "14 days" in late.message and "14 дн." in late.message_ru


def test_types_without_notice_pass():
    assert check_notice(date(2025, 7, 13), date(2025, 7, 14), None).ok
    assert check_notice(date(2025, 7, 13), date(2025, 7, 14), 0).ok


# Mandatory unpaid leave caps (L-16)


def test_a16_pensioner_over_the_cap_strict_and_split():
    strict = check_mandatory_unpaid("pensioner", used=10, requested=6)
    assert str(strict.outcome) == "MANDATORY_CAP{cap:14, used:10, requested:6, ground:pensioner}"
    assert strict.outcome.effect is Effect.REJECT
    split = check_mandatory_unpaid("pensioner", used=10, requested=6, policy="split")
    assert (split.mandatory_days, split.agreed_days) == (4, 2)
    assert split.outcome.effect is Effect.WARN
    assert split.to_dict()["agreed_days"] == 2


def test_a17_wedding_five_days_then_a_sixth_by_agreement():
    five = check_mandatory_unpaid("marriage", used=0, requested=5)
    assert five.outcome.ok and five.mandatory_days == 5
    six = check_mandatory_unpaid("marriage", used=0, requested=6, policy="split")
    assert (six.mandatory_days, six.agreed_days) == (5, 1)


@pytest.mark.parametrize(("ground", "cap"), [("wwii_veteran", 35), ("disabled", 60), ("relative_death", 5)])
def test_statutory_caps(ground, cap):
    assert check_mandatory_unpaid(ground, used=0, requested=cap).outcome.ok
    assert not check_mandatory_unpaid(ground, used=0, requested=cap + 1).outcome.ok


def test_caps_from_the_table_and_unknown_grounds():
    caps = {"pensioner": 20}  # a collective agreement may raise a cap
    assert check_mandatory_unpaid("pensioner", used=10, requested=6, caps=caps).outcome.ok
    unknown = check_mandatory_unpaid("holiday_mood", used=0, requested=1)
    assert unknown.outcome.code == outcomes.UNKNOWN_UNPAID_GROUND
    with pytest.raises(ValueError, match="policy"):
        check_mandatory_unpaid("pensioner", used=0, requested=1, policy="lenient")


# Working year (L-05, L-17)


def test_a09_unpaid_days_over_14_move_the_working_year():
    assert working_year_shift(20) == 6
    assert working_year_shift(14) == 0
    assert working_year_shift(3, excluded_days=2) == 2
    years = working_years(date(2025, 3, 15), [20, 0])
    assert years == [(date(2025, 3, 15), date(2026, 3, 20)), (date(2026, 3, 21), date(2027, 3, 20))]


def test_working_year_from_29_february():
    assert working_years(date(2024, 2, 29), [0]) == [(date(2024, 2, 29), date(2025, 2, 28))]


# First-year right (L-06)


def test_a10_leave_before_six_months_is_by_agreement():
    early = check_first_year_right(date(2025, 3, 15), date(2025, 7, 1))
    assert (early.ok, early.code, early.effect) == (False, outcomes.EARLY_LEAVE_BY_AGREEMENT, Effect.WARN)
    assert early.params["right_from"] == date(2025, 9, 15)
    assert check_first_year_right(date(2025, 3, 15), date(2025, 7, 1), must_grant=True).ok
    assert check_first_year_right(date(2025, 3, 15), date(2025, 9, 15)).ok


# Max continuous (A22)


def test_a22_adjacent_requests_are_chained():
    before = [BookedLeave("r-1", date(2025, 3, 9), date(2025, 3, 10), leave_type="day_off")]
    result = check_max_continuous(date(2025, 3, 11), date(2025, 3, 12), before, 3)
    assert str(result) == "MAX_CONTINUOUS{max:3, chain:4}"
    # A gap of one day breaks the chain.
    assert check_max_continuous(date(2025, 3, 12), date(2025, 3, 13), before, 3).ok
    assert check_max_continuous(date(2025, 3, 11), date(2025, 3, 12), before, None).ok


def test_chain_grows_on_both_sides():
    around = [
        BookedLeave("a", date(2025, 3, 1), date(2025, 3, 2)),
        BookedLeave("b", date(2025, 3, 5), date(2025, 3, 6)),
        BookedLeave("c", date(2025, 3, 7), date(2025, 3, 7), status="rejected"),
    ]
    assert check_max_continuous(date(2025, 3, 3), date(2025, 3, 4), around, 6).params == {"chain": 6}
