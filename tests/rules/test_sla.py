"""SLA moments in working days (rules/sla.py) on the real 2025-2026 production calendar."""

from __future__ import annotations

from datetime import date

import pytest

from rules import sla
from rules.calendar import default_calendar


@pytest.fixture(scope="module")
def calendar():
    return default_calendar(2025, 2026)


def test_a18_reminder_after_two_and_escalation_after_three_working_days(calendar):
    filed = date(2025, 10, 9)  # Thursday
    assert sla.policy_day(calendar, filed, 2) == date(2025, 10, 14)  # WD1 Fri, WD2 Mon -> Tue
    assert sla.policy_day(calendar, filed, 3) == date(2025, 10, 15)  # WD3 Tue -> "by end of Tue": Wed


def test_a_public_holiday_a_moved_day_off_and_a_working_saturday(calendar):
    # The 2025 decree: Sat 11-01 is a working day, Mon 11-03 a day off, Tue 11-04 Unity Day.
    assert calendar.is_working_day(date(2025, 11, 1))
    assert not calendar.is_working_day(date(2025, 11, 3))
    assert not calendar.is_working_day(date(2025, 11, 4))
    # Created Thu 10-30: WD1 Fri 10-31, WD2 Sat 11-01, so a reminder after 2 lands on Wed 11-05.
    assert sla.policy_day(calendar, date(2025, 10, 30), 2) == date(2025, 11, 5)
    # Created Fri 10-31: WD1 Sat 11-01, WD2 Wed 11-05 -> Thu 11-06.
    assert sla.policy_day(calendar, date(2025, 10, 31), 2) == date(2025, 11, 6)


def test_the_new_year_holidays(calendar):
    # 2025-12-31 is a day off by the 2025 decree; 2026-01-01..08 are holidays, 01-09 a day off too
    # (ПП РФ 2026), so a task filed on Tue 2025-12-30 counts its first working day on Mon 2026-01-12.
    assert sla.nth_working_day_after(calendar, date(2025, 12, 30), 1) == date(2026, 1, 12)
    assert sla.policy_day(calendar, date(2025, 12, 30), 1) == date(2026, 1, 13)


def test_a_task_created_on_a_weekend_counts_from_the_next_working_day(calendar):
    # Sat 2025-10-11: WD1 Mon 10-13, WD2 Tue 10-14 -> due Wed 10-15.
    assert sla.policy_day(calendar, date(2025, 10, 11), 2) == date(2025, 10, 15)


def test_warning_days_count_back_over_a_weekend(calendar):
    assert sla.warning_day(calendar, date(2025, 10, 15), 1) == date(2025, 10, 14)
    assert sla.warning_day(calendar, date(2025, 10, 13), 1) == date(2025, 10, 10)  # Mon -> Fri
    assert sla.warning_day(calendar, date(2025, 11, 5), 1) == date(2025, 11, 1)  # over 11-03/04
    assert sla.warning_day(calendar, date(2025, 11, 5), 2) == date(2025, 10, 31)


def test_outside_the_calendar_monday_to_friday_count():
    calendar = default_calendar(2025, 2025)
    # 2030 has no rows: weekdays count, so Fri 2030-01-04 -> Mon 01-07, Tue 01-08 -> Wed 01-09.
    assert sla.policy_day(calendar, date(2030, 1, 4), 2) == date(2030, 1, 9)
    assert sla.policy_day(None, date(2025, 10, 9), 3) == date(2025, 10, 15)


def test_nonsense_counts_are_refused(calendar):
    with pytest.raises(ValueError, match="at least 1"):
        sla.policy_day(calendar, date(2025, 10, 9), 0)
    with pytest.raises(ValueError, match="negative"):
        sla.nth_working_day_before(calendar, date(2025, 10, 9), -1)
