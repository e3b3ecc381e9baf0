"""When a human task's SLA policy falls due, counted in working days on the production calendar (C-01, A18).

The one rule: a policy "after N working days" on a task created on day D falls due at the start of
the working day that follows the N-th working day after D. D itself is not counted, whatever time of
day the task arrived, and the N-th working day is the last full day the holder has. The engine puts
that day's start at 09:00 company-local (``DAY_START_HOUR``).

A18: created Thu 2025-10-09, so WD1 is Fri 10-10, WD2 Mon 10-13, WD3 Tue 10-14. A reminder after 2
working days is due Tue 10-14 at 09:00; an escalation after 3 on Wed 10-15 at 09:00, which is "no
action by the end of Tue 10-14".

"N working days before a due day" is the N-th working day counted back from that day (the due day not
counted): a warning 1 working day before a task due on Wed 10-15 goes out on Tue 10-14.

A day outside the years the calendar covers (HR has not loaded them yet) counts as working on Monday
to Friday: a reminder is better late-by-a-holiday than never set.
"""

from __future__ import annotations

from datetime import date, timedelta

from rules.calendar import CalendarRangeError, ProductionCalendar

DAY_START_HOUR = 9


def is_working_day(calendar: ProductionCalendar | None, day: date) -> bool:
    """The calendar's answer for ``day``; Monday to Friday where the calendar has no rows for its year."""
    if calendar is not None:
        try:
            return calendar.is_working_day(day)
        except CalendarRangeError:
            pass
    return day.weekday() < 5


def nth_working_day_after(calendar: ProductionCalendar | None, day: date, n: int) -> date:
    """The ``n``-th working day after ``day``, ``day`` not counted (n=0 gives ``day``)."""
    if n < 0:
        raise ValueError(f"n: {n} working days is negative")
    current = day
    for _ in range(n):
        current += timedelta(days=1)
        while not is_working_day(calendar, current):
            current += timedelta(days=1)
    return current


def nth_working_day_before(calendar: ProductionCalendar | None, day: date, n: int) -> date:
    """The ``n``-th working day before ``day``, ``day`` not counted (n=0 gives ``day``)."""
    if n < 0:
        raise ValueError(f"n: {n} working days is negative")
    current = day
    for _ in range(n):
        current -= timedelta(days=1)
        while not is_working_day(calendar, current):
            current -= timedelta(days=1)
    return current


def policy_day(calendar: ProductionCalendar | None, created_on: date, working_days: int) -> date:
    """The local day an "after ``working_days`` working days" policy falls due (at DAY_START_HOUR).

    It is the working day after the ``working_days``-th working day after ``created_on``.
    """
    if working_days < 1:
        raise ValueError(f"working_days: {working_days} must be at least 1")
    last_full_day = nth_working_day_after(calendar, created_on, working_days)
    return nth_working_day_after(calendar, last_full_day, 1)


def warning_day(calendar: ProductionCalendar | None, due_on: date, working_days: int) -> date:
    """The local day of a warning ``working_days`` working days before a task due on ``due_on``."""
    if working_days < 1:
        raise ValueError(f"working_days: {working_days} must be at least 1")
    return nth_working_day_before(calendar, due_on, working_days)
