"""Bonus eligibility, limits and fund (hr-domain §3.3 B-1, B-2; A29, A30, A31)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rules import outcomes
from rules.bonus import (
    BonusEmployee,
    BonusLimit,
    EligibilityPolicy,
    Sanction,
    check_bonus_eligibility,
    check_bonus_fund,
    check_bonus_limit,
    fund_left,
    tenure_months,
)
from rules.outcomes import Effect

TODAY = date(2025, 10, 15)
VETERAN = BonusEmployee(hire_date=date(2020, 1, 10))


def test_a29_kpi_over_half_the_salary():
    result = check_bonus_limit("kpi", 60_000, 100_000)
    assert (result.ok, result.code) == (False, outcomes.BONUS_LIMIT_EXCEEDED)
    assert result.message == "KPI bonus exceeds cap 50% of salary"
    assert result.params["ratio"] == Decimal("0.60")
    assert check_bonus_limit("kpi", 50_000, 100_000).ok


@pytest.mark.parametrize(
    ("bonus_type", "amount", "message"),
    [
        ("project", 100_001, "project bonus exceeds cap 100% of salary"),
        ("one_off", 200_001, "one-off bonus exceeds cap 2 salaries"),
    ],
)
def test_b2_caps_per_type(bonus_type, amount, message):
    assert check_bonus_limit(bonus_type, amount, 100_000).message == message
    assert check_bonus_limit(bonus_type, amount - 1, 100_000).ok


def test_absolute_caps_from_the_table():
    limits = [BonusLimit.from_dict({"bonus_type": "kpi", "max_ratio": None, "max_amount": "30000"})]
    result = check_bonus_limit("kpi", 30_001, 1_000_000, limits)
    assert result.message == "KPI bonus exceeds cap 30 000 ₽"
    assert check_bonus_limit("annual", 10**7, 100_000, limits).ok  # no row, no cap
    with pytest.raises(ValueError, match="monthly_salary"):
        check_bonus_limit("kpi", 1, 0)


def test_a30_over_the_fund_escalates():
    left = fund_left(100_000, approved=60_000, pending=15_000)
    assert left == Decimal(25_000)
    result = check_bonus_fund(40_000, left)
    assert (result.ok, result.effect) == (False, Effect.ESCALATE)
    assert str(result) == "OVER_FUND{available:25000}"
    assert check_bonus_fund(25_000, left).ok


def test_a32_second_bonus_on_the_same_fund():
    first = check_bonus_fund(8_000, fund_left(10_000))
    second = check_bonus_fund(8_000, fund_left(10_000, approved=8_000))
    assert first.ok and str(second) == "OVER_FUND{available:2000}"


def test_a31_reprimand_blocks_kpi_not_one_off():
    reprimanded = BonusEmployee(hire_date=date(2020, 1, 10), sanctions=[Sanction(date(2025, 7, 15))])
    kpi = check_bonus_eligibility(reprimanded, "kpi", TODAY)
    assert kpi.code == outcomes.BONUS_NOT_ELIGIBLE
    assert kpi.message == "active disciplinary sanction until 2026-07-15"
    assert kpi.params == {"rule": "sanction", "until": date(2026, 7, 15)}
    assert check_bonus_eligibility(reprimanded, "one_off", TODAY).ok


def test_sanction_ends_after_12_months_or_when_lifted():
    old = BonusEmployee(hire_date=date(2020, 1, 10), sanctions=[Sanction(date(2024, 10, 15))])
    assert check_bonus_eligibility(old, "kpi", TODAY).ok
    lifted = BonusEmployee(
        hire_date=date(2020, 1, 10), sanctions=[Sanction(date(2025, 7, 15), lifted_on=date(2025, 9, 1))]
    )
    assert check_bonus_eligibility(lifted, "kpi", TODAY).ok


def test_b1_dismissed_probation_and_not_working():
    assert (
        check_bonus_eligibility(BonusEmployee(status="dismissed"), "one_off", TODAY).params["rule"]
        == "dismissed"
    )
    newcomer = BonusEmployee(hire_date=date(2025, 8, 1))
    probation = check_bonus_eligibility(newcomer, "kpi", TODAY)
    assert probation.message == "tenure < 3 months (probation)"
    assert probation.params["tenure_months"] == 2
    assert check_bonus_eligibility(newcomer, "project", TODAY).ok
    on_leave = BonusEmployee(status="maternity", hire_date=date(2020, 1, 10))
    assert check_bonus_eligibility(on_leave, "kpi", TODAY).message == "not working in the period"
    assert check_bonus_eligibility(VETERAN, "kpi", TODAY).ok
    # HR's table can change who is blocked.
    lenient = EligibilityPolicy(probation_months=1)
    assert check_bonus_eligibility(newcomer, "kpi", TODAY, lenient).ok


def test_tenure_months():
    assert tenure_months(date(2025, 3, 15), date(2025, 6, 14)) == 2
    assert tenure_months(date(2025, 3, 15), date(2025, 6, 15)) == 3
    assert tenure_months(date(2025, 1, 31), date(2025, 2, 28)) == 1
    assert tenure_months(date(2025, 3, 15), date(2025, 3, 1)) == 0
