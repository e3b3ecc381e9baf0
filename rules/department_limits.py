"""How many people of a department may be away on one day (hr-domain §2.1, D-01..D-04, D-06).

A limit row has up to three bounds, and the tightest one applies on each day:

- D-01 ``max_share``: at most ``floor(headcount × max_share)`` people away;
- D-02 ``max_people``: at most N people away;
- D-03 ``min_present``: at least M people present, so at most ``headcount − M`` away.

The request passes on a day when the people already away there, plus the requester, stay within the
limit. On the first day that does not, the outcome is ``DEPT_LIMIT{date, on_leave, limit}`` with the
effect of the row's ``mode`` (D-04): ``block`` rejects, ``escalate`` adds a director step, ``warn``
goes on. Leave from the approved schedule (D-04) is never blocked: it gets at most a warning.

The function is pure and linear in the number of days; counting absences and locking per
(department, date) at approval time (D-07) is the calling service's job.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from rules import outcomes
from rules.outcomes import Effect, Outcome

MODES: dict[str, Effect] = {"block": Effect.REJECT, "escalate": Effect.ESCALATE, "warn": Effect.WARN}
# Scripts call these checks with dates from task data; a bound keeps a wrong year from looping for long.
MAX_PERIOD_DAYS = 731


@dataclass(frozen=True)
class LimitRule:
    """One department-limit row. ``None`` leaves a bound out."""

    max_share: Decimal | None = None
    max_people: int | None = None
    min_present: int | None = None
    mode: str = "block"
    count_pending: bool = True  # whether pending requests take a slot, not only approved ones
    half_days: bool = False  # D-06: a half-day absence counts as 0.5

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode: {self.mode!r} is not one of {', '.join(MODES)}")
        if self.max_share is not None and not Decimal(0) <= Decimal(str(self.max_share)) <= Decimal(1):
            raise ValueError(f"max_share: {self.max_share} is not between 0 and 1")

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> LimitRule:
        """A rule from table data; ``max_share`` may be a number or a string such as ``"0.3"``."""
        share = row.get("max_share")
        return cls(
            max_share=None if share in (None, "") else Decimal(str(share)),
            max_people=row.get("max_people"),
            min_present=row.get("min_present"),
            mode=row.get("mode") or "block",
            count_pending=bool(row.get("count_pending", True)),
            half_days=bool(row.get("half_days", False)),
        )

    def limit_for(self, headcount: int) -> tuple[int | None, str | None]:
        """The most people who may be away with this headcount, and which bound sets it."""
        bounds: list[tuple[int, str]] = []
        if self.max_share is not None:
            # Decimal, not float: 10 × 0.3 must floor to 3, not to 2 (0.3 is 0.29999... as a float).
            bounds.append((math.floor(Decimal(headcount) * Decimal(str(self.max_share))), "max_share"))
        if self.max_people is not None:
            bounds.append((self.max_people, "max_people"))
        if self.min_present is not None:
            bounds.append((headcount - self.min_present, "min_present"))
        if not bounds:
            return None, None
        return min(bounds)


@dataclass(frozen=True)
class DayLimit:
    """The check on one day."""

    day: date
    headcount: int
    on_leave: Decimal
    limit: int | None
    bound: str | None

    @property
    def ok(self) -> bool:
        """True when the requester fits: one more person away stays within the limit."""
        return self.limit is None or self.on_leave + 1 <= self.limit

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "date": self.day.isoformat(),
            "headcount": self.headcount,
            "on_leave": outcomes.plain(self.on_leave),
            "limit": self.limit,
            "bound": self.bound,
            "ok": self.ok,
        }


@dataclass(frozen=True)
class LimitCheck:
    """The check over the whole request: every day, and the outcome (the first day over the limit)."""

    days: tuple[DayLimit, ...]
    outcome: Outcome

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {**self.outcome.to_dict(), "days": [d.to_dict() for d in self.days]}


@dataclass(frozen=True)
class Absence:
    """Someone of the department away for ``start..end``, as ``absent_per_day`` counts them."""

    person_id: str
    start: date
    end: date
    status: str = "approved"  # approved | pending
    fraction: Decimal = Decimal(1)  # 0.5 for a half day (D-06)


def absent_per_day(
    absences: Iterable[Absence],
    start: date,
    end: date,
    rule: LimitRule,
    *,
    exclude_person: str | None = None,
) -> dict[date, Decimal]:
    """People away on each day of ``start..end``, counted once each (D-01), by the rule's policy.

    Pending absences count if ``rule.count_pending``; half days count 0.5 if ``rule.half_days``
    (D-06), else 1. ``exclude_person`` leaves out the requester's own other absences.
    """
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise ValueError(
            f"end: the period {start.isoformat()}..{end.isoformat()} is over {MAX_PERIOD_DAYS} days"
        )
    per_day: dict[date, dict[str, Decimal]] = {}
    for absence in absences:
        if absence.person_id == exclude_person:
            continue
        if absence.status == "pending" and not rule.count_pending:
            continue
        if absence.status not in ("approved", "pending"):
            continue
        weight = Decimal(str(absence.fraction)) if rule.half_days else Decimal(1)
        day = max(absence.start, start)
        while day <= min(absence.end, end):
            people = per_day.setdefault(day, {})
            people[absence.person_id] = max(people.get(absence.person_id, Decimal(0)), weight)
            day += timedelta(days=1)
    return {day: sum(people.values(), Decimal(0)) for day, people in per_day.items()}


def check_department_limit(
    start: date,
    end: date,
    headcount: int | Mapping[date, int],
    absent: Mapping[date, int | float | Decimal | Collection[str]],
    rule: LimitRule,
    *,
    in_schedule: bool = False,
) -> LimitCheck:
    """D-01..D-04: can one more person of the department be away on every day of ``start..end``?

    ``headcount`` is the active staff, one number or one per day. ``absent`` gives for each day the
    people already away (a count, or a collection of distinct person ids); days not in it have none.
    A11: headcount 10, max_share 0.3, 3 away on 2025-07-15 → ``DEPT_LIMIT{date:2025-07-15, on_leave:3,
    limit:3}``; A12: headcount 7, 2 away → limit floor(2.1) = 2 → over.
    """
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise ValueError(
            f"end: the period {start.isoformat()}..{end.isoformat()} is over {MAX_PERIOD_DAYS} days"
        )
    checks: list[DayLimit] = []
    day = start
    while day <= end:
        size = headcount[day] if isinstance(headcount, Mapping) else headcount
        raw = absent.get(day, 0)
        away = (
            Decimal(len(set(raw)))
            if isinstance(raw, Collection) and not isinstance(raw, str)
            else Decimal(str(raw))
        )
        limit, bound = rule.limit_for(size)
        checks.append(DayLimit(day=day, headcount=size, on_leave=away, limit=limit, bound=bound))
        day += timedelta(days=1)
    first = next((c for c in checks if not c.ok), None)
    if first is None:
        return LimitCheck(tuple(checks), outcomes.passed())
    effect = MODES[rule.mode]
    if in_schedule and effect is not Effect.WARN:
        effect = Effect.WARN  # D-04: leave in the approved schedule binds the employer
    outcome = outcomes.failed(
        outcomes.DEPT_LIMIT,
        effect,
        date=first.day,
        on_leave=first.on_leave,
        limit=first.limit,
    )
    return LimitCheck(tuple(checks), outcome)
