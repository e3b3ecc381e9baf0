"""Shift replacement («замена на смене», hr-domain §2.2): is the named colleague able to take the shifts?

- S-01 ``shifts_in_period``, ``check_replacement_named``: a shift worker names a replacement for the
  shifts inside the leave.
- S-02: the replacement is not the requester (``REPLACEMENT_IS_REQUESTER``).
- S-03: the replacement is not away on any shift day, nor being replaced that day
  (``REPLACEMENT_UNAVAILABLE{date}``).
- S-04: the replacement holds each qualification a shift needs, with a credential valid on every day
  of the shift (``REPLACEMENT_NOT_QUALIFIED``, ``QUALIFICATION_EXPIRED{credential, expired}``).
- S-05 (ст. 103): no two shifts in a row: between the end of one of the replacement's shifts and the
  start of the next there must be rest, at least ``min_rest_hours`` when the rule table sets it
  (``TWO_SHIFTS_IN_ROW``). Weekly rest (ст. 110) and overtime caps (ст. 99) are not checked here.

Consent (S-06) and swapping the assignments (S-07) belong to the route and the service.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from rules import outcomes
from rules.outcomes import Outcome

MAX_SHIFT = timedelta(days=3)  # longer is a data error (a wrong year), not a shift


@dataclass(frozen=True)
class Shift:
    """A shift: when it runs and the qualifications it needs (e.g. ``("nurse",)``)."""

    id: str
    start: datetime
    end: datetime
    qualifications: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"end: shift {self.id} ends before it starts")
        if self.end - self.start > MAX_SHIFT:
            raise ValueError(f"end: shift {self.id} is longer than {MAX_SHIFT.days} days")

    @property
    def days(self) -> list[date]:
        """The calendar days the shift touches (two for a night shift)."""
        last = (self.end - timedelta(microseconds=1)).date() if self.end > self.start else self.start.date()
        return [self.start.date() + timedelta(days=i) for i in range((last - self.start.date()).days + 1)]


@dataclass(frozen=True)
class Away:
    """A period the replacement is away (leave, trip, sick, training) or is being replaced."""

    start: date
    end: date
    kind: str = "leave"


@dataclass(frozen=True)
class Credential:
    """Proof of a qualification (accreditation, допуск, medical exam) and its validity."""

    qualification: str
    kind: str = "credential"
    valid_from: date | None = None
    valid_until: date | None = None  # None: does not expire

    def valid_on(self, day: date) -> bool:
        """True if the credential is in force on ``day`` (both ends inclusive)."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True)
class Replacement:
    """Everything about the named replacement that the check needs, as plain data."""

    person_id: str
    away: Sequence[Away] = ()
    own_shifts: Sequence[Shift] = ()
    credentials: Sequence[Credential] = ()
    replaced_days: frozenset[date] = field(default_factory=frozenset)  # days they are replaced themselves


def shifts_in_period(shifts: Iterable[Shift], start: date, end: date) -> list[Shift]:
    """S-01: the requester's shifts that touch ``start..end``, in order."""
    return sorted((s for s in shifts if any(start <= d <= end for d in s.days)), key=lambda s: s.start)


def check_replacement_named(affected: Sequence[Shift], replacement_id: str | None) -> Outcome:
    """S-01: shifts inside the leave need a named replacement."""
    if affected and not replacement_id:
        return outcomes.failed(outcomes.REPLACEMENT_REQUIRED, shifts=[s.id for s in affected])
    return outcomes.passed()


def _qualification_problem(shift: Shift, credentials: Sequence[Credential]) -> Outcome | None:
    for qualification in shift.qualifications:
        held = [c for c in credentials if c.qualification == qualification]
        for day in shift.days:
            if any(c.valid_on(day) for c in held):
                continue
            expired = [c for c in held if c.valid_until is not None and c.valid_until < day]
            if expired:
                last = max(expired, key=lambda c: c.valid_until or day)
                return outcomes.failed(
                    outcomes.QUALIFICATION_EXPIRED,
                    credential=last.kind,
                    expired=last.valid_until,
                    qualification=qualification,
                    date=day,
                    shift=shift.id,
                )
            return outcomes.failed(
                outcomes.REPLACEMENT_NOT_QUALIFIED, qualification=qualification, date=day, shift=shift.id
            )
    return None


def _consecutive_problem(
    taken: Sequence[Shift], own: Sequence[Shift], min_rest_hours: float
) -> Outcome | None:
    taken_ids = {s.id for s in taken}
    ordered = sorted([*own, *taken], key=lambda s: (s.start, s.end))
    needed = timedelta(hours=min_rest_hours)
    for previous, current in itertools.pairwise(ordered):
        if previous.id not in taken_ids and current.id not in taken_ids:
            continue  # the replacement's own schedule is not ours to judge
        rest = current.start - previous.end
        # Rest of zero (one shift ends when the next starts) or less (they overlap) is two shifts in a row.
        if rest <= timedelta(0) or rest < needed:
            hours = rest.total_seconds() / 3600
            return outcomes.failed(
                outcomes.TWO_SHIFTS_IN_ROW,
                shift=current.id,
                previous=previous.id,
                rest_hours=int(hours) if hours == int(hours) else round(hours, 1),
            )
    return None


def check_replacement(
    requester_id: str,
    replacement: Replacement,
    shifts: Sequence[Shift],
    *,
    min_rest_hours: float = 0,
) -> Outcome:
    """S-02..S-05: the first reason ``replacement`` cannot take ``shifts``, or OK.

    Checks run in the order a person would ask: is it someone else, are they here, can they do the
    job, and may they work it. A25: away on 05-13 → ``REPLACEMENT_UNAVAILABLE{date:…-05-13}``;
    A26: own shift ends 08:00 when the replaced one starts → ``TWO_SHIFTS_IN_ROW``;
    A27: accreditation valid until 05-10, shift on 05-12 → ``QUALIFICATION_EXPIRED``.
    """
    if replacement.person_id == requester_id:
        return outcomes.failed(outcomes.REPLACEMENT_IS_REQUESTER)
    for shift in sorted(shifts, key=lambda s: s.start):
        for day in shift.days:
            away = day in replacement.replaced_days or any(a.start <= day <= a.end for a in replacement.away)
            if away:
                return outcomes.failed(outcomes.REPLACEMENT_UNAVAILABLE, date=day, shift=shift.id)
    for shift in sorted(shifts, key=lambda s: s.start):
        problem = _qualification_problem(shift, replacement.credentials)
        if problem is not None:
            return problem
    problem = _consecutive_problem(shifts, replacement.own_shifts, min_rest_hours)
    if problem is not None:
        return problem
    return outcomes.passed()
