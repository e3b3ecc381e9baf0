"""The leave ledger's arithmetic: working years, accrual under L-04, and balances. Pure: no database.

Terms (hr-domain §1):
- the *working year* (рабочий год) runs from the hire date, not from 1 January; unpaid leave beyond
  14 calendar days in a working year moves its end by one day per day (L-05, L-17);
- *accrual* (L-04) is ``days_per_year / 12`` per worked month of the working year; a remainder of
  less than half a month is dropped, half a month or more counts as a full month. We take half a
  month as 15 calendar days, the reading Роструд and payroll software use. Days are rounded up to
  2 decimal places, never down: rounding may only go in the employee's favour;
- unused days *carry over* into the next working year and never expire (L-12, ст. 127), so a
  past working year contributes its whole entitlement less what it used.

Accrual is computed when a balance is read, from the hire date and the day asked about; it is not
stored as monthly rows. That keeps a corrected hire date or a moved working year right at once,
with no scheduler to run and no rows to rewrite. Stored entries (``LedgerKind``) hold what people did:
use, reservations and their release, HR's adjustments, and opening balances carried in.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HALF_MONTH_DAYS = 15
MONTHS_PER_YEAR = 12
# Unpaid leave up to this many days in a working year still counts as service (ст. 121).
UNPAID_DAYS_COUNTED = 14


class LedgerKind(enum.StrEnum):
    """What a ledger entry records. ``days`` is a magnitude (> 0) except for adjustments (±)."""

    ACCRUAL = "accrual"  # accrued days recorded explicitly (e.g. an opening balance from payroll)
    USE = "use"  # days taken: an approved leave
    ADJUSTMENT = "adjustment"  # HR's correction, either sign
    CARRY_OVER = "carry_over"  # unused days brought in from before approute kept the ledger
    RESERVATION = "reservation"  # days held by a pending request
    RELEASE = "release"  # a reservation ended: rejected, cancelled, or turned into use


@dataclass(frozen=True)
class LeavePolicy:
    """How one leave type behaves on the ledger.

    ``accrues``: the type earns ``days_per_year`` through the working year (L-04). Types that do not
    accrue have a balance only through adjustments and carried days (e.g. additional leave HR grants).
    ``needs_balance``: a request must be covered by the available days (unpaid and study leave need
    none, L-17). ``counts_as_service``: False for unpaid leave, whose days beyond 14 in a working
    year move the end of that year (L-05).
    """

    code: str
    days_per_year: Decimal
    accrues: bool
    needs_balance: bool = True
    counts_as_service: bool = True


# The defaults until the leave_types rule table supplies policies (L-01, L-14, L-15/16, ст. 173).
DEFAULT_POLICIES: dict[str, LeavePolicy] = {
    "annual": LeavePolicy("annual", Decimal(28), accrues=True),
    "additional": LeavePolicy("additional", ZERO, accrues=False),
    "unpaid_agreed": LeavePolicy(
        "unpaid_agreed", ZERO, accrues=False, needs_balance=False, counts_as_service=False
    ),
    "unpaid_mandatory": LeavePolicy(
        "unpaid_mandatory", ZERO, accrues=False, needs_balance=False, counts_as_service=False
    ),
    "study": LeavePolicy("study", ZERO, accrues=False, needs_balance=False),
}


@dataclass(frozen=True)
class Entry:
    """One ledger entry as the arithmetic needs it."""

    kind: LedgerKind
    leave_type: str
    days: Decimal
    working_year: date


@dataclass(frozen=True)
class WorkingYear:
    """One working year: ``start`` and ``end`` inclusive; ``index`` 0 is the year the person was hired."""

    index: int
    start: date
    end: date

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Balance:
    """One leave type's balance as of a day.

    ``available = accrued + carried + adjustments − used − reserved``.
    ``accrued``, ``used`` and ``adjustments`` are the current working year's; ``carried`` is what
    earlier years left unused; ``reserved`` is every pending request's hold.
    """

    leave_type: str
    entitled: Decimal
    accrued: Decimal
    carried: Decimal
    used: Decimal
    reserved: Decimal
    adjustments: Decimal
    needs_balance: bool = True

    @property
    def available(self) -> Decimal:
        return self.accrued + self.carried + self.adjustments - self.used - self.reserved

    def as_dict(self) -> dict[str, Decimal | None]:
        """The figures, each to 2 decimal places.

        ``available`` is None for a type taken without a balance (unpaid, study leave): its used days
        are a record, and a negative "available" would only mislead.
        """
        names = ("entitled", "accrued", "carried", "used", "reserved", "adjustments")
        figures = {name: getattr(self, name).quantize(CENT) for name in names}
        figures["available"] = self.available.quantize(CENT) if self.needs_balance else None
        return figures


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months; a day the target month lacks becomes its last (31 Jan + 1 → 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def worked_months(start: date, as_of: date) -> int:
    """Months counted for accrual from ``start`` to ``as_of``, both inclusive, at most 12 (L-04).

    Whole months are counted from ``start`` (each month ends the day before the next monthly date);
    a remainder of 15 days or more counts as one more month, a shorter one is dropped.
    """
    after = as_of + timedelta(days=1)  # the first day not worked
    if after <= start:
        return 0
    months = 0
    while months < MONTHS_PER_YEAR and add_months(start, months + 1) <= after:
        months += 1
    if months < MONTHS_PER_YEAR and (after - add_months(start, months)).days >= HALF_MONTH_DAYS:
        months += 1
    return months


def accrued_days(days_per_year: Decimal, months: int) -> Decimal:
    """``days_per_year × months / 12``, rounded up to 2 decimals (in the employee's favour)."""
    exact = Decimal(days_per_year) * months / MONTHS_PER_YEAR
    return exact.quantize(CENT, rounding=ROUND_CEILING)


def working_years(
    hire_date: date, until: date, unpaid_days: Mapping[date, Decimal] | None = None
) -> list[WorkingYear]:
    """The working years from ``hire_date`` up to and including the one containing ``until``.

    ``unpaid_days`` maps a working year's start to the unpaid-leave days taken in it; the days
    beyond 14 move that year's end, and so every later year (L-05: hired 2025-03-15 with 20 unpaid
    days in year one → year one ends 2026-03-20, year two starts 2026-03-21).
    """
    unpaid_days = unpaid_days or {}
    years: list[WorkingYear] = []
    start = hire_date
    while True:
        excess = max(Decimal(0), Decimal(unpaid_days.get(start, 0)) - UNPAID_DAYS_COUNTED)
        # Only whole days move a date; a fraction of a day of unpaid leave does not exist.
        end = add_months(start, MONTHS_PER_YEAR) - timedelta(days=1) + timedelta(days=int(excess))
        years.append(WorkingYear(len(years), start, end))
        if end >= until:
            return years
        start = end + timedelta(days=1)


def year_containing(years: Iterable[WorkingYear], day: date) -> WorkingYear | None:
    """The working year ``day`` falls in, or None (before the hire date)."""
    return next((year for year in years if day in year), None)


def balance(
    policy: LeavePolicy,
    entries: Iterable[Entry],
    *,
    as_of: date,
    years: list[WorkingYear],
) -> Balance:
    """The balance of ``policy``'s leave type as of ``as_of``, from its entries and the working years.

    ``years`` comes from ``working_years`` (empty when the hire date is unknown: then nothing
    accrues and every entry counts as the current year's). Entries of other leave types are ignored.
    Past working years count in full: an accruing type earned its whole ``days_per_year`` in each.
    """
    current = year_containing(years, as_of)
    accrued = carried = used = reserved = adjustments = ZERO
    if policy.accrues and current is not None:
        accrued = accrued_days(policy.days_per_year, worked_months(current.start, as_of))
        carried = policy.days_per_year * current.index
    for entry in entries:
        if entry.leave_type != policy.code:
            continue
        days = Decimal(entry.days)
        if entry.kind is LedgerKind.RESERVATION:
            reserved += days
        elif entry.kind is LedgerKind.RELEASE:
            reserved -= days
        elif current is not None and entry.working_year < current.start:
            # An earlier year's entry: whatever it did is already part of what was carried over.
            carried += -days if entry.kind is LedgerKind.USE else days
        elif entry.kind is LedgerKind.USE:
            used += days
        elif entry.kind is LedgerKind.ADJUSTMENT:
            adjustments += days
        elif entry.kind is LedgerKind.ACCRUAL:
            accrued += days
        elif entry.kind is LedgerKind.CARRY_OVER:
            carried += days
    return Balance(
        leave_type=policy.code,
        entitled=Decimal(policy.days_per_year),
        accrued=accrued,
        carried=carried,
        used=used,
        reserved=reserved,
        adjustments=adjustments,
        needs_balance=policy.needs_balance,
    )
