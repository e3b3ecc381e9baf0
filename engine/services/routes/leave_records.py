"""What the leave route reads about people's leave: their requests, who is away, shift rosters.

A leave is a ``leave_request`` instance; its dates and status live in its data. The status is
``pending`` from submission, ``approved`` once the last approver (manager, director or, for leave
the employer must grant, HR) said yes, and ``rejected`` or ``cancelled`` when it ends without
registration. Requests made before the route kept a status are read from the instance itself.

Shifts: hr-domain names no shift table, so a shift worker's roster is read from
``User.flags["shifts"]`` (a list of ``{"id", "start", "end"}`` with ISO date-times) when HR has put
one there; without a roster, every day of the leave counts as one day shift of ``DEFAULT_SHIFT``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Department, InstanceStatus, ProcessInstance, Substitution, User
from rules.dates import to_date
from rules.shift_replacement import Away, Shift

PROCESS_KEY = "leave_request"
ACTIVE = frozenset({"pending", "approved"})
DEFAULT_SHIFT = (time(8, 0), time(20, 0))  # a day shift, when a shift worker has no roster


@dataclass(frozen=True)
class Leave:
    """One leave request as the checks need it."""

    instance_id: str
    user_id: int
    leave_type: str
    start: date
    end: date
    days: int
    status: str
    data: dict[str, Any]


def status_of(instance: ProcessInstance) -> str:
    """``pending``, ``approved``, ``rejected`` or ``cancelled`` (see the module docstring)."""
    if instance.status == InstanceStatus.CANCELLED:
        return "cancelled"
    data = instance.data or {}
    stored = data.get("leave_status")
    if instance.status == InstanceStatus.COMPLETED:
        return "approved" if data.get("order_number") else "rejected"
    if instance.status != InstanceStatus.RUNNING:
        return "rejected"  # failed or otherwise stopped: it holds no dates
    return stored if stored in ACTIVE else "pending"


def _as_leave(instance: ProcessInstance) -> Leave | None:
    data = instance.data or {}
    try:
        start, end = to_date(data.get("start"), "start"), to_date(data.get("end"), "end")
    except (TypeError, ValueError):
        return None  # not a leave we can place on a calendar
    days = data.get("days")
    return Leave(
        instance_id=str(instance.id),
        user_id=instance.initiator_id,
        leave_type=str(data.get("leave_type", "")),
        start=start,
        end=end,
        days=int(days) if isinstance(days, int | float) else (end - start).days + 1,
        status=status_of(instance),
        data=data,
    )


def leaves_of(session: Session, user_ids: Iterable[int], *, exclude: str | None = None) -> list[Leave]:
    """The active (pending or approved) leaves of these people, except the request ``exclude``.

    Reads every leave request of the people that is running or completed; the dates are in the
    instance data, so they are filtered here, not in SQL.
    """
    ids = list(user_ids)
    if not ids:
        return []
    query = (
        select(ProcessInstance)
        .where(
            ProcessInstance.process_key == PROCESS_KEY,
            ProcessInstance.initiator_id.in_(ids),
            ProcessInstance.status.in_([InstanceStatus.RUNNING, InstanceStatus.COMPLETED]),
        )
        .execution_options(populate_existing=True)
    )
    found = []
    for instance in session.scalars(query):
        leave = _as_leave(instance)
        if leave is not None and leave.status in ACTIVE and leave.instance_id != exclude:
            found.append(leave)
    return sorted(found, key=lambda item: (item.start, item.instance_id))


def department_members(session: Session, code: str) -> list[User]:
    """The active people of a department (its headcount, D-01)."""
    query = select(User).where(User.department == code, User.is_active.is_(True)).order_by(User.id)
    return list(session.scalars(query))


def lock_department(session: Session, code: str) -> Department | None:
    """Lock the department's row for the rest of the transaction (D-07, A13).

    Every approval that re-checks this department's limit takes this lock first, so two approvals
    cannot both count the same last free slot. SQLite serialises writing transactions anyway.
    """
    query = (
        select(Department)
        .where(Department.code == code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalar(query)


def away_periods(session: Session, user: User, start: date, end: date) -> list[Away]:
    """When ``user`` is away around ``start..end``: their active leave and their out-of-office periods."""
    periods = [
        Away(leave.start, leave.end, "leave")
        for leave in leaves_of(session, [user.id])
        if leave.start <= end and start <= leave.end
    ]
    query = select(Substitution).where(
        Substitution.user_id == user.id,
        Substitution.ended_at.is_(None),
        Substitution.starts_on <= end,
        Substitution.ends_on >= start,
    )
    periods += [Away(row.starts_on, row.ends_on, "away") for row in session.scalars(query)]
    return periods


def roster(user: User) -> list[Shift] | None:
    """The person's shifts from ``flags["shifts"]``, or None when HR recorded no roster.

    Raises ValueError naming the bad entry when the roster is malformed.
    """
    raw = (user.flags or {}).get("shifts")
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise ValueError("flags.shifts: must be a list of {id, start, end}")
    shifts = []
    for index, item in enumerate(raw):
        try:
            shifts.append(
                Shift(
                    id=str(item.get("id") or f"{index + 1}"),
                    start=datetime.fromisoformat(item["start"]),
                    end=datetime.fromisoformat(item["end"]),
                )
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            raise ValueError(f"flags.shifts[{index}]: needs ISO date-times start and end") from None
    return shifts


def shifts_during(user: User, start: date, end: date, qualifications: tuple[str, ...]) -> list[Shift]:
    """The requester's shifts inside ``start..end`` (S-01), each needing ``qualifications``."""
    recorded = roster(user)
    if recorded is None:
        first, last = DEFAULT_SHIFT
        recorded = [
            Shift(
                id=day.isoformat(),
                start=datetime.combine(day, first),
                end=datetime.combine(day, last),
            )
            for day in (start + timedelta(days=i) for i in range((end - start).days + 1))
        ]
    inside = [s for s in recorded if any(start <= d <= end for d in s.days)]
    return [Shift(s.id, s.start, s.end, qualifications) for s in sorted(inside, key=lambda s: s.start)]
