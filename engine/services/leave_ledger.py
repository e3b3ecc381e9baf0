"""The leave ledger in the database: HR's adjustments, requests' reservations and use, and balances.

The arithmetic is ``rules.leave_ledger`` (pure); this module stores entries and feeds it. Entries
are only ever added. A request's reservation, release and use are each one row per leave type
(a unique constraint), so ``reserve``, ``release`` and ``book`` are idempotent: a route may call
them again after a retry and nothing is counted twice, even when two calls race.

Leave types and their policies come from ``leave_policies()``: the defaults of ``rules.leave_ledger``
until the leave_types rule table provides them; every function also takes ``policies=`` so a
caller that evaluated a table version passes exactly that.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Conflict, InvalidData
from engine.models import LeaveLedgerEntry, LedgerKind, User
from engine.services import audit
from rules import leave_ledger as arithmetic
from rules.leave_ledger import Balance, LeavePolicy, WorkingYear

MAX_DAYS = Decimal("366")  # one entry never moves more than a year's worth of days
REASON_MAX = 500


def today() -> date:
    """The day balances are computed for when none is given (the company's date)."""
    return clock.today()


def leave_policies() -> Mapping[str, LeavePolicy]:
    """The leave types and how each behaves on the ledger."""
    return arithmetic.DEFAULT_POLICIES


@dataclass(frozen=True)
class PersonBalance:
    """A person's balances as of a day: per leave type, and the working year the day falls in."""

    as_of: date
    working_year: WorkingYear | None
    balances: dict[str, Balance]


def _entries(session: Session, user_id: int) -> list[arithmetic.Entry]:
    rows = session.execute(
        select(
            LeaveLedgerEntry.kind,
            LeaveLedgerEntry.leave_type,
            LeaveLedgerEntry.days,
            LeaveLedgerEntry.working_year,
        ).where(LeaveLedgerEntry.user_id == user_id)
    )
    return [arithmetic.Entry(kind, leave_type, days, year) for kind, leave_type, days, year in rows]


def _working_years(
    user: User, until: date, entries: list[arithmetic.Entry], known: Mapping[str, LeavePolicy]
) -> list[WorkingYear]:
    """The person's working years up to ``until``, moved by unpaid leave beyond 14 days (L-05)."""
    if user.hire_date is None or until < user.hire_date:
        return []
    unpaid: dict[date, Decimal] = {}
    for entry in entries:
        policy = known.get(entry.leave_type)
        if entry.kind is LedgerKind.USE and policy is not None and not policy.counts_as_service:
            unpaid[entry.working_year] = unpaid.get(entry.working_year, Decimal(0)) + entry.days
    return arithmetic.working_years(user.hire_date, until, unpaid)


def working_year_start(session: Session, user: User, on: date) -> date:
    """The start of the working year ``on`` falls in; 1 January of that year if the hire date is
    unknown or later (the entry then still has a year to belong to)."""
    years = _working_years(user, on, _entries(session, user.id), leave_policies())
    year = arithmetic.year_containing(years, on)
    return year.start if year is not None else date(on.year, 1, 1)


def balance(
    session: Session,
    user: User,
    as_of: date | None = None,
    *,
    policies: Mapping[str, LeavePolicy] | None = None,
) -> PersonBalance:
    """The person's balance of every leave type as of ``as_of`` (default today).

    Accrual is computed from the hire date (L-04); without a hire date nothing accrues, and the
    balance is what adjustments and carried days make it.
    """
    as_of = as_of or today()
    known = policies if policies is not None else leave_policies()
    entries = _entries(session, user.id)
    years = _working_years(user, as_of, entries, known)
    result = {
        code: arithmetic.balance(policy, entries, as_of=as_of, years=years) for code, policy in known.items()
    }
    return PersonBalance(as_of, arithmetic.year_containing(years, as_of), result)


def _check_leave_type(leave_type: Any, known: Mapping[str, LeavePolicy], problems: list[dict]) -> None:
    if leave_type not in known:
        problems.append(
            {"field": "leave_type", "message": f"unknown leave type; use one of {', '.join(sorted(known))}"}
        )


def _days(value: Any, field: str, problems: list[dict], *, signed: bool) -> Decimal | None:
    """``value`` as days to 2 decimals, or None with a problem recorded for ``field``."""
    try:
        if isinstance(value, bool) or value is None:
            raise InvalidOperation
        days = Decimal(str(value))
        if not days.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        problems.append({"field": field, "message": "must be a number of days"})
        return None
    if days != days.quantize(arithmetic.CENT):
        problems.append({"field": field, "message": "at most 2 decimal places"})
    elif days == 0 or (not signed and days < 0):
        problems.append({"field": field, "message": "must not be zero" if signed else "must be more than 0"})
    elif abs(days) > MAX_DAYS:
        problems.append({"field": field, "message": f"at most {MAX_DAYS} days in one entry"})
    else:
        return days.quantize(arithmetic.CENT)
    return None


def adjust(
    session: Session,
    user: User,
    *,
    leave_type: str,
    days: Any,
    reason: str,
    actor: User | None,
    on: date | None = None,
    kind: LedgerKind = LedgerKind.ADJUSTMENT,
    policies: Mapping[str, LeavePolicy] | None = None,
) -> LeaveLedgerEntry:
    """Post HR's correction (``days`` may be negative), or with ``kind=CARRY_OVER`` an opening balance.

    Raises InvalidData per field for an unknown leave type, zero days, more than 2 decimals or a
    missing reason. Records ``leave.adjusted`` with ids, the type and the days; the reason text stays
    in the ledger only (it may describe the person).
    """
    known = policies if policies is not None else leave_policies()
    problems: list[dict] = []
    _check_leave_type(leave_type, known, problems)
    amount = _days(days, "days", problems, signed=kind is LedgerKind.ADJUSTMENT)
    reason = (reason or "").strip()
    if not reason:
        problems.append({"field": "reason", "message": "a reason is required"})
    elif len(reason) > REASON_MAX:
        problems.append({"field": "reason", "message": f"at most {REASON_MAX} characters"})
    if kind not in (LedgerKind.ADJUSTMENT, LedgerKind.CARRY_OVER, LedgerKind.ACCRUAL):
        problems.append(
            {"field": "kind", "message": "only adjustments and opening balances are posted by hand"}
        )
    if problems:
        raise InvalidData("the ledger entry was not posted", problems)
    on = on or today()
    entry = LeaveLedgerEntry(
        user_id=user.id,
        leave_type=leave_type,
        kind=kind,
        days=amount,
        working_year=working_year_start(session, user, on),
        reason=reason,
        created_by_id=actor.id if actor is not None else None,
    )
    session.add(entry)
    session.flush()
    audit.record(
        session,
        "leave.adjusted",
        actor=actor,
        subject_id=user.id,
        entry_id=entry.id,
        kind=kind.value,
        leave_type=leave_type,
        days=str(amount),
    )
    return entry


def _instance_entries(session: Session, instance_id: uuid.UUID) -> list[LeaveLedgerEntry]:
    return list(
        session.scalars(
            select(LeaveLedgerEntry)
            .where(LeaveLedgerEntry.instance_id == instance_id)
            .order_by(LeaveLedgerEntry.id)
        )
    )


def _insert_once(session: Session, rows: list[LeaveLedgerEntry]) -> bool:
    """Insert ``rows`` together in a savepoint; False (nothing inserted) if a racing call got there first."""
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError:
        return False
    return True


def reserve(
    session: Session,
    user: User,
    leave_type: str,
    days: Any,
    instance_id: uuid.UUID,
    *,
    actor: User | None = None,
    on: date | None = None,
    policies: Mapping[str, LeavePolicy] | None = None,
) -> LeaveLedgerEntry:
    """Hold ``days`` of ``leave_type`` for a pending request. Calling it again returns the same hold.

    It does not check the balance: the route's rule check does that and records its decision.
    Raises InvalidData for an unknown type or days that are not positive, and Conflict if the
    request already holds a different number of days, or its hold was released or used.
    """
    known = policies if policies is not None else leave_policies()
    problems: list[dict] = []
    _check_leave_type(leave_type, known, problems)
    amount = _days(days, "days", problems, signed=False)
    if problems:
        raise InvalidData("the days were not reserved", problems)
    existing = _hold(session, instance_id, leave_type)
    if existing is None:
        entry = LeaveLedgerEntry(
            user_id=user.id,
            leave_type=leave_type,
            kind=LedgerKind.RESERVATION,
            days=amount,
            working_year=working_year_start(session, user, on or today()),
            instance_id=instance_id,
            created_by_id=actor.id if actor is not None else None,
        )
        if _insert_once(session, [entry]):
            audit.record(
                session,
                "leave.reserved",
                actor=actor,
                instance_id=instance_id,
                subject_id=user.id,
                leave_type=leave_type,
                days=str(amount),
            )
            return entry
        existing = _hold(session, instance_id, leave_type)
    if existing.user_id != user.id or existing.days != amount:
        raise Conflict(f"request {instance_id} already holds a different reservation of {leave_type} leave")
    if _has(session, instance_id, leave_type, LedgerKind.RELEASE):
        raise Conflict(f"the reservation of request {instance_id} was already released or used")
    return existing


def _hold(session: Session, instance_id: uuid.UUID, leave_type: str) -> LeaveLedgerEntry | None:
    return session.scalar(
        select(LeaveLedgerEntry).where(
            LeaveLedgerEntry.instance_id == instance_id,
            LeaveLedgerEntry.leave_type == leave_type,
            LeaveLedgerEntry.kind == LedgerKind.RESERVATION,
        )
    )


def _has(session: Session, instance_id: uuid.UUID, leave_type: str, kind: LedgerKind) -> bool:
    query = select(LeaveLedgerEntry.id).where(
        LeaveLedgerEntry.instance_id == instance_id,
        LeaveLedgerEntry.leave_type == leave_type,
        LeaveLedgerEntry.kind == kind,
    )
    return session.scalar(query) is not None


def release(session: Session, instance_id: uuid.UUID, *, actor: User | None = None) -> list[LeaveLedgerEntry]:
    """End the request's holds (it was rejected or cancelled); returns the release entries written.

    Idempotent: a hold already released, or already turned into use by ``book``, is left alone,
    and a request without a hold is not an error. Booked days come back only by an adjustment.
    """
    written = []
    for hold in _open_holds(session, instance_id):
        entry = _release_of(hold, actor)
        if _insert_once(session, [entry]):
            written.append(entry)
            audit.record(
                session,
                "leave.released",
                actor=actor,
                instance_id=instance_id,
                subject_id=hold.user_id,
                leave_type=hold.leave_type,
                days=str(hold.days),
            )
    return written


def book(session: Session, instance_id: uuid.UUID, *, actor: User | None = None) -> list[LeaveLedgerEntry]:
    """Turn the request's holds into use (it was approved); returns the use entries written.

    Idempotent: calling it again after success writes nothing. Raises Conflict if the request has
    no hold, or its hold was released (a cancelled request cannot be approved into use).
    """
    holds = [e for e in _instance_entries(session, instance_id) if e.kind is LedgerKind.RESERVATION]
    if not holds:
        raise Conflict(f"request {instance_id} has no reserved days to book")
    written = []
    for hold in holds:
        if _has(session, instance_id, hold.leave_type, LedgerKind.USE):
            continue
        if _has(session, instance_id, hold.leave_type, LedgerKind.RELEASE):
            raise Conflict(f"the reservation of request {instance_id} was released; it cannot be booked")
        use = LeaveLedgerEntry(
            user_id=hold.user_id,
            leave_type=hold.leave_type,
            kind=LedgerKind.USE,
            days=hold.days,
            working_year=hold.working_year,
            instance_id=instance_id,
            created_by_id=actor.id if actor is not None else None,
        )
        if _insert_once(session, [_release_of(hold, actor), use]):
            written.append(use)
            audit.record(
                session,
                "leave.booked",
                actor=actor,
                instance_id=instance_id,
                subject_id=hold.user_id,
                leave_type=hold.leave_type,
                days=str(hold.days),
            )
        elif not _has(session, instance_id, hold.leave_type, LedgerKind.USE):
            raise Conflict(f"the reservation of request {instance_id} was released; it cannot be booked")
    return written


def record_use(
    session: Session,
    user: User,
    leave_type: str,
    days: Any,
    instance_id: uuid.UUID,
    *,
    on: date,
    actor: User | None = None,
) -> LeaveLedgerEntry | None:
    """Write the use of leave that held no reservation (unpaid leave), in the working year of ``on``.

    Unpaid leave needs no balance, so nothing is reserved for it; its use is still what moves the
    working year (L-05), which reads the use entries. Idempotent: returns None, writing nothing,
    when the request's use of ``leave_type`` is already on the ledger.
    """
    known = leave_policies()
    problems: list[dict] = []
    _check_leave_type(leave_type, known, problems)
    amount = _days(days, "days", problems, signed=False)
    if problems:
        raise InvalidData("the leave used was not recorded", problems)
    if _has(session, instance_id, leave_type, LedgerKind.USE):
        return None
    use = LeaveLedgerEntry(
        user_id=user.id,
        leave_type=leave_type,
        kind=LedgerKind.USE,
        days=amount,
        # The whole leave belongs to the year it starts in; one crossing a year's end is rare enough
        # that splitting it is not worth a second entry.
        working_year=working_year_start(session, user, on),
        instance_id=instance_id,
        created_by_id=actor.id if actor is not None else None,
    )
    if not _insert_once(session, [use]):
        return None  # a racing call wrote it
    audit.record(
        session,
        "leave.booked",
        actor=actor,
        instance_id=instance_id,
        subject_id=user.id,
        leave_type=leave_type,
        days=str(amount),
    )
    return use


def _open_holds(session: Session, instance_id: uuid.UUID) -> list[LeaveLedgerEntry]:
    entries = _instance_entries(session, instance_id)
    ended = {e.leave_type for e in entries if e.kind is LedgerKind.RELEASE}
    return [e for e in entries if e.kind is LedgerKind.RESERVATION and e.leave_type not in ended]


def _release_of(hold: LeaveLedgerEntry, actor: User | None) -> LeaveLedgerEntry:
    return LeaveLedgerEntry(
        user_id=hold.user_id,
        leave_type=hold.leave_type,
        kind=LedgerKind.RELEASE,
        days=hold.days,
        working_year=hold.working_year,
        instance_id=hold.instance_id,
        created_by_id=actor.id if actor is not None else None,
    )
