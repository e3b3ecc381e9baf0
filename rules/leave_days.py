"""Leave arithmetic under ТК РФ: day count, overlap, the 14-day split, notice, unpaid caps, working year.

Each check returns an ``Outcome`` (``rules.outcomes``). Rule IDs are those of hr-domain §1:

- L-02, L-03: ``count_leave_days``, ``leave_end_for``, ``check_day_count``: calendar days minus ст. 112
  holidays; moved days off are counted.
- ``check_overlap``: a person's leaves may not overlap (hr-domain §1.3, §1.5 ``OVERLAP``).
- L-07: ``check_split_rule``.
- L-10: ``check_notice``, ``notice_due``.
- L-16: ``check_mandatory_unpaid``: caps of ст. 128 ч.2 per ground and year, ``strict`` or ``split``.
- L-05, L-17: ``working_year_shift``, ``working_years``: unpaid days over 14 move the working year.
- L-06: ``check_first_year_right``: leave before 6 months of work only by agreement.
- A22 (Frappe's chaining): ``check_max_continuous``.

The leave ledger (balances, L-04 accrual) is ``rules.leave_ledger``'s job, not this module's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rules import outcomes
from rules.calendar import ProductionCalendar
from rules.dates import add_months, add_years
from rules.outcomes import Effect, Outcome

MIN_SPLIT_PART = 14  # ст. 125 ч.1
ANNUAL_NOTICE_DAYS = 14  # ст. 123 ч.3
FREE_UNPAID_DAYS = 14  # ст. 121: unpaid days beyond these per working year leave the service
FIRST_LEAVE_AFTER_MONTHS = 6  # ст. 122
# L-16, ст. 128 ч.2: mandatory unpaid leave, calendar days per calendar year and ground.
# The defaults seed the leave-policy table; HR may raise a cap (a collective agreement), never lower it.
DEFAULT_UNPAID_CAPS: dict[str, int] = {
    "wwii_veteran": 35,
    "pensioner": 14,
    "serviceman_family": 14,
    "disabled": 60,
    "child_birth": 5,
    "marriage": 5,
    "relative_death": 5,
}
# Statuses of a leave that no longer holds its dates.
INACTIVE_STATUSES = frozenset({"rejected", "cancelled", "refused"})


@dataclass(frozen=True)
class DayCount:
    """How many days a leave charges, and why: the holidays it does not count (L-02)."""

    start: date
    end: date
    calendar_days: int
    holidays_excluded: tuple[date, ...]

    @property
    def days(self) -> int:
        """Days charged: calendar days minus the ст. 112 holidays inside the period."""
        return self.calendar_days - len(self.holidays_excluded)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form for task data and stored decisions."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": self.days,
            "calendar_days": self.calendar_days,
            "holidays_excluded": [d.isoformat() for d in self.holidays_excluded],
        }


@dataclass(frozen=True)
class BookedLeave:
    """A leave the person already has (approved or pending), as the overlap and chain checks need it."""

    id: str
    start: date
    end: date
    leave_type: str = ""
    status: str = "approved"

    @property
    def is_active(self) -> bool:
        """True while the leave holds its dates (not rejected or cancelled)."""
        return self.status not in INACTIVE_STATUSES


def count_leave_days(calendar: ProductionCalendar, start: date, end: date) -> DayCount:
    """The day count of a leave ``start..end`` inclusive (L-02, L-03).

    Raises:
        ValueError: ``end`` is before ``start``.
        CalendarRangeError: the period leaves the calendar's years.
    """
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    return DayCount(
        start=start,
        end=end,
        calendar_days=(end - start).days + 1,
        holidays_excluded=tuple(calendar.holidays_between(start, end)),
    )


def leave_end_for(calendar: ProductionCalendar, start: date, days: int) -> date:
    """The last day of a leave from ``start`` that charges ``days`` days (A03: 14 from 2025-11-01 → 11-15).

    The leave never ends on a holiday: the smallest such end is a charged day.
    """
    if days < 1:
        raise ValueError(f"days: {days} must be at least 1")
    current, charged = start, 0
    while True:
        if not calendar.is_holiday(current):
            charged += 1
            if charged == days:
                return current
        current += timedelta(days=1)


def check_day_count(calendar: ProductionCalendar, start: date, end: date) -> Outcome:
    """The day count as an outcome: ``OK{days, holidays_excluded}``, or why there is nothing to charge."""
    if end < start:
        return outcomes.failed(outcomes.INVALID_PERIOD, start=start, end=end)
    count = count_leave_days(calendar, start, end)
    if count.days == 0:
        return outcomes.failed(outcomes.NO_CHARGEABLE_DAYS, start=start, end=end)
    return outcomes.passed(
        days=count.days, calendar_days=count.calendar_days, holidays_excluded=list(count.holidays_excluded)
    )


def check_overlap(
    start: date, end: date, existing: Iterable[BookedLeave], *, ignore_id: str | None = None
) -> Outcome:
    """``OVERLAP`` with the first active leave of the person that shares a day with ``start..end``."""
    for leave in sorted(existing, key=lambda item: item.start):
        if leave.id == ignore_id or not leave.is_active:
            continue
        if leave.start <= end and start <= leave.end:
            return outcomes.failed(
                outcomes.OVERLAP, other_request_id=leave.id, other_start=leave.start, other_end=leave.end
            )
    return outcomes.passed()


def check_split_rule(
    entitlement: int | float,
    taken_parts: Sequence[int | float],
    requested: int | float,
    *,
    min_part: int = MIN_SPLIT_PART,
) -> Outcome:
    """L-07: after this request, one part of the working year's leave can still be ``min_part`` days or more.

    ``taken_parts`` are the charged days of the year's annual-leave parts already booked or pending.
    The request passes if a part (old or this one) already has ``min_part`` days, or if what is left of
    the entitlement can still hold such a part. An entitlement smaller than ``min_part`` cannot hold one
    at all, so the rule does not apply to it (e.g. a short first working year).
    A06: 28, taken 7 + 7, requested 8 → ``SPLIT_14_RULE{remaining:6, min_part:14}``; A07: 14 + 7, 3 → OK.
    """
    if entitlement < min_part or any(part >= min_part for part in [*taken_parts, requested]):
        return outcomes.passed()
    remaining = entitlement - sum(taken_parts) - requested
    if remaining >= min_part:
        return outcomes.passed(remaining=remaining)
    return outcomes.failed(outcomes.SPLIT_14_RULE, remaining=remaining, min_part=min_part)


def notice_due(start: date, notice_days: int = ANNUAL_NOTICE_DAYS) -> date:
    """The last day to request (or be told of) a leave that starts on ``start`` (A23: 07-14 → 06-30)."""
    return start - timedelta(days=notice_days)


def check_notice(filed_on: date, start: date, notice_days: int | None) -> Outcome:
    """L-10: a leave type with a notice period is requested ``notice_days`` calendar days before it starts.

    ``notice_days`` comes from the leave-type policy; ``None`` or 0 means the type needs no notice
    (unpaid leave, L-17).
    """
    if not notice_days:
        return outcomes.passed()
    given = (start - filed_on).days
    if given >= notice_days:
        return outcomes.passed(given=given, required=notice_days)
    return outcomes.failed(
        outcomes.NOTICE_TOO_SHORT, required=notice_days, given=given, due=notice_due(start, notice_days)
    )


@dataclass(frozen=True)
class UnpaidSplit:
    """The result of the L-16 cap: the outcome, and how many days are mandatory and how many by agreement."""

    outcome: Outcome
    mandatory_days: int
    agreed_days: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            **self.outcome.to_dict(),
            "mandatory_days": self.mandatory_days,
            "agreed_days": self.agreed_days,
        }


def check_mandatory_unpaid(
    ground: str,
    used: int,
    requested: int,
    *,
    policy: str = "strict",
    caps: Mapping[str, int] | None = None,
) -> UnpaidSplit:
    """L-16: mandatory unpaid leave (ст. 128 ч.2) within the yearly cap of its ground.

    ``used`` is what the person took on this ground this calendar year. Within the cap all days are
    mandatory (the manager cannot refuse). Over it, policy ``strict`` rejects with ``MANDATORY_CAP``,
    and ``split`` keeps the days up to the cap mandatory and sends the rest to the manager as unpaid
    leave by agreement (A16: cap 14, used 10, requested 6 → 4 mandatory + 2 agreed).
    """
    if policy not in ("strict", "split"):
        raise ValueError(f"policy: {policy!r} is not 'strict' or 'split'")
    table = DEFAULT_UNPAID_CAPS if caps is None else caps
    if ground not in table:
        return UnpaidSplit(outcomes.failed(outcomes.UNKNOWN_UNPAID_GROUND, ground=ground), 0, 0)
    cap = table[ground]
    left = max(0, cap - used)
    if requested <= left:
        return UnpaidSplit(outcomes.passed(cap=cap, used=used, requested=requested), requested, 0)
    params = {"cap": cap, "used": used, "requested": requested, "ground": ground}
    if policy == "split":
        return UnpaidSplit(
            outcomes.failed(outcomes.MANDATORY_CAP, Effect.WARN, **params), left, requested - left
        )
    return UnpaidSplit(outcomes.failed(outcomes.MANDATORY_CAP, **params), 0, 0)


def working_year_shift(unpaid_days: int, excluded_days: int = 0) -> int:
    """Days a working year moves by: unpaid leave over 14 days (L-05, L-17) plus other excluded days.

    ``excluded_days`` are the other periods ст. 121 leaves out of the service (absence without
    a valid reason, parental leave), which move the year day for day.
    """
    return max(0, unpaid_days - FREE_UNPAID_DAYS) + excluded_days


def working_years(
    hire_date: date, unpaid_days: Sequence[int], excluded_days: Sequence[int] = ()
) -> list[tuple[date, date]]:
    """The working years from ``hire_date``, each moved by its own unpaid and excluded days (L-05, L-17).

    One year per item of ``unpaid_days`` (the unpaid days taken in that working year).
    A09: hired 2025-03-15 with 20 unpaid days in year 1 → year 1 is 2025-03-15..2026-03-20.
    """
    years: list[tuple[date, date]] = []
    start = hire_date
    for index, unpaid in enumerate(unpaid_days):
        extra = excluded_days[index] if index < len(excluded_days) else 0
        end = add_years(start, 1) - timedelta(days=1) + timedelta(days=working_year_shift(unpaid, extra))
        years.append((start, end))
        start = end + timedelta(days=1)
    return years


def check_first_year_right(hire_date: date, start: date, *, must_grant: bool = False) -> Outcome:
    """L-06: the right to annual leave starts after 6 months of work; earlier only by agreement.

    ``must_grant`` marks the ст. 122 categories the employer must let go early; they pass.
    A10: hired 2025-03-15, leave from 2025-07-01 → ``EARLY_LEAVE_BY_AGREEMENT`` (a warning: the
    manager may refuse).
    """
    right_from = add_months(hire_date, FIRST_LEAVE_AFTER_MONTHS)
    if start >= right_from or must_grant:
        return outcomes.passed(right_from=right_from)
    return outcomes.failed(outcomes.EARLY_LEAVE_BY_AGREEMENT, Effect.WARN, right_from=right_from)


def check_max_continuous(
    start: date, end: date, same_type_leaves: Iterable[BookedLeave], max_days: int | None
) -> Outcome:
    """At most ``max_days`` calendar days in a row of one leave type, adjacent leaves chained (A22).

    Leaves that touch the request (one ends the day before it starts, or starts the day after it
    ends) are joined with it, so two back-to-back requests cannot dodge the limit.
    """
    if not max_days:
        return outcomes.passed()
    chain_start, chain_end = start, end
    active = sorted((leave for leave in same_type_leaves if leave.is_active), key=lambda item: item.start)
    grown = True
    while grown:
        grown = False
        for leave in active:
            touches = (
                leave.start <= chain_end + timedelta(days=1) and chain_start - timedelta(days=1) <= leave.end
            )
            if touches and (leave.start < chain_start or leave.end > chain_end):
                chain_start, chain_end = min(chain_start, leave.start), max(chain_end, leave.end)
                grown = True
    chain = (chain_end - chain_start).days + 1
    if chain > max_days:
        return outcomes.failed(outcomes.MAX_CONTINUOUS, max=max_days, chain=chain)
    return outcomes.passed(chain=chain)
