"""Blocked dates with an allow-list (hr-domain §2.1 D-05; A14, A15)."""

from __future__ import annotations

from datetime import date

import pytest

from rules import outcomes
from rules.blocked_dates import BlockPeriod, blocks_hit, check_blocked_on_apply, check_blocked_on_approve
from rules.outcomes import Effect

YEAR_CLOSE = BlockPeriod(
    start=date(2025, 12, 25),
    end=date(2025, 12, 31),
    reason="year close",
    department="FIN",
    allowed_people=frozenset({"cfo@example.com"}),
    allowed_positions=frozenset({"chief_accountant"}),
)
FINANCE = ("FIN", "HQ")


def test_a14_applying_gives_a_warning():
    result = check_blocked_on_apply(
        [YEAR_CLOSE], date(2025, 12, 29), date(2025, 12, 30), department_codes=FINANCE, leave_type="annual"
    )
    assert (result.ok, result.effect) == (False, Effect.WARN)
    assert str(result) == "BLOCKED_DATE{date:2025-12-29, reason:year close}"


def test_a14_only_an_allow_listed_approver_may_approve():
    kwargs = {"department_codes": FINANCE, "leave_type": "annual"}
    refused = check_blocked_on_approve(
        [YEAR_CLOSE], date(2025, 12, 29), date(2025, 12, 30), approver="manager@example.com", **kwargs
    )
    assert refused.code == outcomes.BLOCKED_DATE_NOT_AUTHORIZED
    assert refused.message.startswith("not authorized to approve on blocked dates")
    assert check_blocked_on_approve(
        [YEAR_CLOSE], date(2025, 12, 29), date(2025, 12, 30), approver="cfo@example.com", **kwargs
    ).ok
    assert check_blocked_on_approve(
        [YEAR_CLOSE],
        date(2025, 12, 29),
        date(2025, 12, 30),
        approver="someone@example.com",
        approver_position="chief_accountant",
        **kwargs,
    ).ok


def test_a15_mandatory_leave_bypasses_the_block_and_says_so():
    applied = check_blocked_on_apply(
        [YEAR_CLOSE],
        date(2025, 12, 29),
        date(2025, 12, 30),
        department_codes=FINANCE,
        leave_type="unpaid_mandatory",
        legal_bypass=True,
    )
    assert (applied.ok, applied.code) == (True, outcomes.BLOCK_BYPASS_LEGAL)
    approved = check_blocked_on_approve(
        [YEAR_CLOSE],
        date(2025, 12, 29),
        date(2025, 12, 30),
        department_codes=FINANCE,
        leave_type="unpaid_mandatory",
        approver="manager@example.com",
        legal_bypass=True,
    )
    assert approved.code == outcomes.BLOCK_BYPASS_LEGAL


def test_block_on_apply_refuses_unless_allow_listed():
    hard = BlockPeriod(date(2025, 12, 25), date(2025, 12, 31), "inventory", mode="block_on_apply")
    kwargs = {"department_codes": ("OPS",), "leave_type": "annual"}
    refused = check_blocked_on_apply([hard], date(2025, 12, 20), date(2025, 12, 26), **kwargs)
    assert (refused.effect, refused.params["date"]) == (Effect.REJECT, date(2025, 12, 25))
    allowed = BlockPeriod(
        date(2025, 12, 25),
        date(2025, 12, 31),
        "inventory",
        mode="block_on_apply",
        allowed_people=frozenset({"u1"}),
    )
    assert check_blocked_on_apply([allowed], date(2025, 12, 20), date(2025, 12, 26), person="u1", **kwargs).ok


def test_scope_by_department_type_and_dates():
    typed = BlockPeriod(date(2025, 12, 25), date(2025, 12, 31), "close", leave_types=frozenset({"annual"}))
    assert blocks_hit([YEAR_CLOSE], date(2025, 12, 29), date(2025, 12, 30), ("OPS", "HQ"), "annual") == []
    assert blocks_hit([YEAR_CLOSE], date(2025, 12, 20), date(2025, 12, 24), FINANCE, "annual") == []
    assert blocks_hit([typed], date(2025, 12, 29), date(2025, 12, 30), ("OPS",), "study") == []
    assert len(blocks_hit([typed], date(2025, 12, 29), date(2025, 12, 30), ("OPS",), "annual")) == 1
    # A block on a parent department covers the departments below it: the caller passes the ancestors.
    parent = BlockPeriod(date(2025, 12, 25), date(2025, 12, 31), "close", department="HQ")
    assert (
        check_blocked_on_apply(
            [parent], date(2025, 12, 29), date(2025, 12, 29), department_codes=FINANCE, leave_type="annual"
        ).code
        == outcomes.BLOCKED_DATE
    )


def test_rows_in_the_rule_table_format():
    block = BlockPeriod.from_dict(
        {"department": "*", "from": "2025-12-25", "to": "2025-12-31", "reason": "close", "allow": ["hr@x.ru"]}
    )
    assert block.department is None and block.allows("hr@x.ru", None)
    with pytest.raises(ValueError, match=r"^to:"):
        BlockPeriod.from_dict({"from": "2025-12-25", "to": "31.12.2025", "reason": "x"})
    with pytest.raises(ValueError, match=r"^end:"):
        BlockPeriod(date(2025, 12, 31), date(2025, 12, 25), "x")
