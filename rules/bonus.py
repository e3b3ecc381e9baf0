"""Bonus checks (hr-domain §3): eligibility (B-1), limits per type (B-2 rows 1-3) and the fund (B-2 row 4).

The defaults are hr-domain §3.3's tables. The shipped bonus route takes its caps and chain from
DMN decisions HR edits (processes/bonus); these functions serve rows passed in by other callers.
The approval chain (B-3) is a DMN table, not this module's job.
Money is ``Decimal`` roubles. Bonus types are ``kpi``, ``project`` and ``one_off``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from rules import outcomes
from rules.dates import add_months
from rules.outcomes import Effect, Outcome

SANCTION_IN_FORCE_MONTHS = 12  # ст. 194
TYPE_NAMES: dict[str, tuple[str, str]] = {
    "kpi": ("KPI", "KPI"),
    "project": ("project", "проектная"),
    "one_off": ("one-off", "разовая"),
}


@dataclass(frozen=True)
class Sanction:
    """A disciplinary sanction (замечание, выговор) and the day it was lifted early, if it was."""

    issued_on: date
    lifted_on: date | None = None

    def in_force_until(self) -> date:
        """The last day the sanction is in force: 12 months after it was issued unless lifted (ст. 194)."""
        if self.lifted_on is not None:
            return self.lifted_on
        return add_months(self.issued_on, SANCTION_IN_FORCE_MONTHS)

    def in_force_on(self, day: date) -> bool:
        """True if the sanction is in force on ``day``."""
        return self.issued_on <= day < self.in_force_until()


@dataclass(frozen=True)
class BonusEmployee:
    """What B-1 needs to know about the person who would get the bonus."""

    status: str = "active"  # active | dismissed | maternity | parental
    hire_date: date | None = None
    sanctions: Sequence[Sanction] = ()


@dataclass(frozen=True)
class EligibilityPolicy:
    """Table B-1 as data: which bonus types each condition rules out."""

    sanction_blocks: frozenset[str] = frozenset({"kpi", "project"})
    probation_months: int = 3
    probation_blocks: frozenset[str] = frozenset({"kpi"})
    not_working_statuses: frozenset[str] = frozenset({"maternity", "parental"})
    not_working_blocks: frozenset[str] = frozenset({"kpi"})


@dataclass(frozen=True)
class BonusLimit:
    """Table B-2 rows 1-3: the cap of a bonus type, as a share of the monthly salary and/or in roubles."""

    bonus_type: str
    max_ratio: Decimal | None = None
    max_amount: Decimal | None = None

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> BonusLimit:
        """A limit from table data (numbers or numeric strings)."""
        ratio, amount = row.get("max_ratio"), row.get("max_amount")
        return cls(
            bonus_type=row["bonus_type"],
            max_ratio=None if ratio in (None, "") else Decimal(str(ratio)),
            max_amount=None if amount in (None, "") else Decimal(str(amount)),
        )


DEFAULT_LIMITS: tuple[BonusLimit, ...] = (
    BonusLimit("kpi", max_ratio=Decimal("0.5")),
    BonusLimit("project", max_ratio=Decimal("1.0")),
    BonusLimit("one_off", max_ratio=Decimal("2.0")),
)


def tenure_months(hire_date: date, on: date) -> int:
    """Whole months worked from ``hire_date`` to ``on``."""
    months = (on.year - hire_date.year) * 12 + on.month - hire_date.month
    if on < add_months(hire_date, months):
        months -= 1
    return max(0, months)


def _names(bonus_type: str) -> tuple[str, str]:
    return TYPE_NAMES.get(bonus_type, (bonus_type, bonus_type))


def _not_eligible(rule: str, english: str, russian: str, **params: Any) -> Outcome:
    return Outcome(
        ok=False,
        code=outcomes.BONUS_NOT_ELIGIBLE,
        params={"rule": rule, **params},
        message=english,
        message_ru=russian,
        effect=Effect.REJECT,
    )


def check_bonus_eligibility(
    employee: BonusEmployee, bonus_type: str, on: date, policy: EligibilityPolicy | None = None
) -> Outcome:
    """B-1 (hit policy FIRST): may this person get a bonus of ``bonus_type`` on ``on``?

    A31: a reprimand of 3 months ago blocks a KPI bonus ("active disciplinary sanction until …"),
    while a one-off bonus of the same amount is eligible.
    """
    rules = policy or EligibilityPolicy()
    if employee.status == "dismissed":
        return _not_eligible("dismissed", "employee dismissed", "работник уволен")
    if bonus_type in rules.sanction_blocks:
        active = [s for s in employee.sanctions if s.in_force_on(on)]
        if active:
            until = max(s.in_force_until() for s in active)
            return _not_eligible(
                "sanction",
                f"active disciplinary sanction until {until.isoformat()}",
                f"действует дисциплинарное взыскание до {until.isoformat()}",
                until=until,
            )
    if bonus_type in rules.probation_blocks and employee.hire_date is not None:
        months = tenure_months(employee.hire_date, on)
        if months < rules.probation_months:
            return _not_eligible(
                "tenure",
                f"tenure < {rules.probation_months} months (probation)",
                f"стаж менее {rules.probation_months} мес. (испытательный срок)",
                tenure_months=months,
                required=rules.probation_months,
            )
    if bonus_type in rules.not_working_blocks and employee.status in rules.not_working_statuses:
        return _not_eligible("not_working", "not working in the period", "не работал в периоде")
    return outcomes.passed()


def _cap_text(limit: BonusLimit, ratio_broken: bool) -> tuple[str, str]:
    if not ratio_broken:
        amount = f"{limit.max_amount:,.0f}".replace(",", " ")
        return f"{amount} ₽", f"{amount} ₽"
    ratio = limit.max_ratio or Decimal(0)
    if ratio > 1 and ratio == ratio.to_integral_value():
        return f"{int(ratio)} salaries", f"{int(ratio)} оклада"
    percent = (ratio * 100).normalize()
    return f"{percent:f}% of salary", f"{percent:f}% оклада"


def check_bonus_limit(
    bonus_type: str,
    amount: Decimal | int | str,
    monthly_salary: Decimal | int | str,
    limits: Iterable[BonusLimit] = DEFAULT_LIMITS,
) -> Outcome:
    """B-2 rows 1-3: the amount is within its type's cap (share of salary, absolute amount).

    A29: a KPI bonus of 60 000 on a salary of 100 000 (ratio 0.6) → "KPI bonus exceeds cap 50% of salary".
    A type without a row has no cap.
    """
    money, salary = Decimal(str(amount)), Decimal(str(monthly_salary))
    if salary <= 0:
        raise ValueError(f"monthly_salary: {salary} must be positive")
    ratio = money / salary
    limit = next((row for row in limits if row.bonus_type == bonus_type), None)
    if limit is None:
        return outcomes.passed(ratio=ratio)
    over_ratio = limit.max_ratio is not None and ratio > limit.max_ratio
    over_amount = limit.max_amount is not None and money > limit.max_amount
    if not (over_ratio or over_amount):
        return outcomes.passed(ratio=ratio)
    english_type, russian_type = _names(bonus_type)
    cap_en, cap_ru = _cap_text(limit, over_ratio)
    return Outcome(
        ok=False,
        code=outcomes.BONUS_LIMIT_EXCEEDED,
        params={
            "bonus_type": bonus_type,
            "ratio": ratio.quantize(Decimal("0.01")),
            "max_ratio": limit.max_ratio,
            "max_amount": limit.max_amount,
        },
        message=f"{english_type} bonus exceeds cap {cap_en}",
        message_ru=f"премия ({russian_type}) превышает лимит {cap_ru}",
        effect=Effect.REJECT,
    )


def fund_left(
    fund: Decimal | int | str, approved: Decimal | int | str = 0, pending: Decimal | int | str = 0
) -> Decimal:
    """The department fund for the period minus approved and pending bonuses (B-2's ``fund_left``)."""
    return Decimal(str(fund)) - Decimal(str(approved)) - Decimal(str(pending))


def check_bonus_fund(amount: Decimal | int | str, available: Decimal | int | str) -> Outcome:
    """B-2 row 4: a bonus over the fund left is not refused; it escalates to the CFO (``OVER_FUND``).

    A30: 40 000 with 25 000 left → ``OVER_FUND{available:25000}``, effect ``escalate``.
    """
    money, left = Decimal(str(amount)), Decimal(str(available))
    if money <= left:
        return outcomes.passed(available=left)
    return outcomes.failed(outcomes.OVER_FUND, Effect.ESCALATE, available=left)
