"""Department limit per day (hr-domain §2.1 D-01..D-06; A11, A12)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rules import outcomes
from rules.department_limits import Absence, LimitRule, absent_per_day, check_department_limit
from rules.outcomes import Effect

DAY = date(2025, 7, 15)


def test_a11_block_mode_rejects_on_the_first_full_day():
    rule = LimitRule(max_share=Decimal("0.3"), mode="block")
    result = check_department_limit(date(2025, 7, 14), date(2025, 7, 16), 10, {DAY: 3}, rule)
    assert str(result.outcome) == "DEPT_LIMIT{date:2025-07-15, on_leave:3, limit:3}"
    assert result.outcome.effect is Effect.REJECT
    assert [d.ok for d in result.days] == [True, False, True]
    assert result.days[1].bound == "max_share"


def test_a11_escalate_and_warn_modes():
    for mode, effect in (("escalate", Effect.ESCALATE), ("warn", Effect.WARN)):
        result = check_department_limit(
            DAY, DAY, 10, {DAY: 3}, LimitRule(max_share=Decimal("0.3"), mode=mode)
        )
        assert (result.outcome.ok, result.outcome.effect) == (False, effect)


def test_a12_share_is_floored():
    rule = LimitRule(max_share=Decimal("0.3"))
    result = check_department_limit(DAY, DAY, 7, {DAY: 2}, rule)
    assert result.outcome.params["limit"] == 2  # floor(7 × 0.3) = 2
    assert not result.outcome.ok
    assert check_department_limit(DAY, DAY, 7, {DAY: 1}, rule).outcome.ok


def test_the_share_is_exact_decimal_not_float():
    # 10 × 0.3 as floats is 2.9999999999999996; the limit must still be 3.
    assert LimitRule.from_dict({"max_share": 0.3, "mode": "block"}).limit_for(10) == (3, "max_share")


def test_the_tightest_bound_applies():
    rule = LimitRule(max_share=Decimal("0.5"), max_people=2, min_present=7)
    assert rule.limit_for(10) == (2, "max_people")
    assert LimitRule(max_share=Decimal("0.5"), min_present=7).limit_for(10) == (3, "min_present")
    result = check_department_limit(DAY, DAY, 10, {DAY: 2}, rule)
    assert str(result.outcome) == "DEPT_LIMIT{date:2025-07-15, on_leave:2, limit:2}"


def test_people_away_are_counted_once_each_and_headcount_may_vary_by_day():
    rule = LimitRule(max_people=2)
    absent = {DAY: ["p1", "p2", "p1"]}
    assert not check_department_limit(DAY, DAY, 10, absent, rule).outcome.ok
    small_day = check_department_limit(DAY, DAY, {DAY: 4}, {DAY: 1}, LimitRule(max_share=Decimal("0.5")))
    assert small_day.outcome.ok and small_day.days[0].limit == 2


def test_no_bounds_means_no_limit():
    assert check_department_limit(DAY, DAY, 3, {DAY: 3}, LimitRule()).outcome.ok


def test_scheduled_leave_is_never_blocked():
    rule = LimitRule(max_share=Decimal("0.3"), mode="block")
    result = check_department_limit(DAY, DAY, 10, {DAY: 3}, rule, in_schedule=True)
    assert result.outcome.code == outcomes.DEPT_LIMIT
    assert result.outcome.effect is Effect.WARN


def test_absent_per_day_follows_the_policy():
    absences = [
        Absence("p1", date(2025, 7, 14), date(2025, 7, 16)),
        Absence("p2", date(2025, 7, 15), date(2025, 7, 15), status="pending"),
        Absence("p3", date(2025, 7, 15), date(2025, 7, 15), fraction=Decimal("0.5")),
        Absence("p4", date(2025, 7, 15), date(2025, 7, 15), status="rejected"),
        Absence("me", date(2025, 7, 15), date(2025, 7, 15)),
    ]
    every = absent_per_day(absences, DAY, DAY, LimitRule(), exclude_person="me")
    assert every == {DAY: Decimal(3)}
    approved_only = absent_per_day(absences, DAY, DAY, LimitRule(count_pending=False), exclude_person="me")
    assert approved_only == {DAY: Decimal(2)}
    halves = absent_per_day(absences, DAY, DAY, LimitRule(half_days=True), exclude_person="me")
    assert halves == {DAY: Decimal("2.5")}


def test_bad_rows_are_refused_with_the_field():
    with pytest.raises(ValueError, match=r"^mode:"):
        LimitRule(mode="panic")
    with pytest.raises(ValueError, match=r"^max_share:"):
        LimitRule.from_dict({"max_share": 1.5, "mode": "block"})


def test_to_dict_is_json_friendly():
    result = check_department_limit(DAY, DAY, 10, {DAY: 3}, LimitRule(max_share=Decimal("0.3")))
    data = result.to_dict()
    assert data["code"] == "DEPT_LIMIT"
    assert data["days"] == [
        {"date": "2025-07-15", "headcount": 10, "on_leave": 3, "limit": 3, "bound": "max_share", "ok": False}
    ]


def test_a_period_of_years_is_a_data_error():
    with pytest.raises(ValueError, match=r"^end: the period"):
        check_department_limit(date(2025, 1, 1), date(2035, 1, 1), 10, {}, LimitRule(max_people=1))
