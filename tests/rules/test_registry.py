"""The registry BPMN expressions call, and the outcomes every check returns."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from rules import REGISTRY, outcomes
from rules.outcomes import MESSAGES, Effect, Outcome

R = REGISTRY


def test_the_issue_s_compact_form():
    outcome = outcomes.failed(outcomes.INSUFFICIENT_BALANCE, available=10, requested=14)
    assert str(outcome) == "INSUFFICIENT_BALANCE{available:10, requested:14}"
    assert outcome.message == "balance 10, requested 14: insufficient"
    assert outcome.message_ru == "остаток 10, запрошено 14: недостаточно"
    assert (outcome.ok, outcome.effect) == (False, Effect.REJECT)
    assert str(outcomes.passed()) == "OK"


def test_to_dict_is_plain_json():
    outcome = Outcome(
        ok=False,
        code="X",
        params={
            "day": date(2025, 1, 2),
            "money": Decimal("2500.00"),
            "share": Decimal("0.25"),
            "ids": ("a", "b"),
        },
    )
    data = outcome.to_dict()
    assert data["params"] == {"day": "2025-01-02", "money": 2500, "share": 0.25, "ids": ["a", "b"]}
    assert json.loads(json.dumps(data)) == data
    assert data["text"] == "X{day:2025-01-02, money:2500, share:0.25, ids:['a', 'b']}"


def test_every_code_has_both_messages():
    for code, (english, russian) in MESSAGES.items():
        assert english and russian, code
        assert code == code.upper()


def test_days_between_is_kept():
    assert R["days_between"]("2025-07-01", "2025-07-14") == 14


def test_every_registry_function_is_documented():
    for name, function in R.items():
        assert function.__doc__, name


def test_calendar_functions_with_the_default_and_with_given_rows():
    assert R["leave_days_count"]("2025-11-01", "2025-11-14")["days"] == 13
    assert R["leave_end"]("2025-11-01", 14) == "2025-11-15"
    assert R["is_working_day"]("2025-11-01") is True
    assert R["working_days_between"]("2025-11-01", "2025-11-09") == 4
    assert R["add_working_days"]("2025-10-06", 10) == "2025-10-20"
    assert R["next_working_day"]("2025-12-30") == "2026-01-12"
    assert R["sla_due"]("2025-10-09", 3) == "2025-10-13"
    assert R["sla_due"]("2025-10-09", 3, False) == "2025-10-14"
    # HR's table, passed as rows: a regional holiday on 2025-11-05 is not charged there.
    rows = [
        {"date": "2025-11-04", "kind": "holiday", "region": "", "name": "День народного единства"},
        {"date": "2025-11-05", "kind": "holiday", "region": "RU-XX", "name": "regional"},
    ]
    assert R["leave_days_count"]("2025-11-01", "2025-11-14", rows)["days"] == 13
    assert R["leave_days_count"]("2025-11-01", "2025-11-14", rows, "RU-XX")["days"] == 12


def test_leave_checks_through_the_registry():
    assert R["check_split_rule"](28, [7, 7], 8)["text"] == "SPLIT_14_RULE{remaining:6, min_part:14}"
    assert R["check_notice"]("2025-07-01", "2025-07-14", 14)["code"] == "NOTICE_TOO_SHORT"
    unpaid = R["check_mandatory_unpaid"]("pensioner", 10, 6, "split")
    assert (unpaid["mandatory_days"], unpaid["agreed_days"], unpaid["effect"]) == (4, 2, "warn")
    overlap = R["check_overlap"](
        "2025-07-10", "2025-07-20", [{"id": 7, "start": "2025-07-01", "end": "2025-07-14"}]
    )
    assert overlap["params"]["other_request_id"] == "7"
    chained = R["check_max_continuous"](
        "2025-03-11", "2025-03-12", [{"start": "2025-03-09", "end": "2025-03-10"}], 3
    )
    assert chained["text"] == "MAX_CONTINUOUS{max:3, chain:4}"
    assert R["check_first_year_right"]("2025-03-15", "2025-07-01")["code"] == "EARLY_LEAVE_BY_AGREEMENT"
    assert R["working_years"]("2025-03-15", [20]) == [{"start": "2025-03-15", "end": "2026-03-20"}]


def test_department_and_blocked_dates_through_the_registry():
    limit = R["check_department_limit"](
        "2025-07-15", "2025-07-15", 7, {"2025-07-15": ["p1", "p2"]}, {"max_share": 0.3, "mode": "block"}
    )
    assert limit["text"] == "DEPT_LIMIT{date:2025-07-15, on_leave:2, limit:2}"
    assert limit["days"][0]["limit"] == 2
    blocks = [
        {
            "department": "FIN",
            "from": "2025-12-25",
            "to": "2025-12-31",
            "reason": "year close",
            "allow": ["cfo"],
        }
    ]
    applied = R["check_blocked_on_apply"]("2025-12-29", "2025-12-30", blocks, ["FIN", "HQ"], "annual")
    assert (applied["code"], applied["effect"]) == ("BLOCKED_DATE", "warn")
    refused = R["check_blocked_on_approve"]("2025-12-29", "2025-12-30", blocks, ["FIN"], "annual", "boss")
    assert refused["code"] == "BLOCKED_DATE_NOT_AUTHORIZED"
    assert R["check_blocked_on_approve"]("2025-12-29", "2025-12-30", blocks, ["FIN"], "annual", "cfo")["ok"]


def test_replacement_through_the_registry():
    shift = {
        "id": "s-12",
        "start": "2025-05-12T08:00",
        "end": "2025-05-12T20:00",
        "qualifications": ["nurse"],
    }
    expired = {
        "person_id": "z",
        "credentials": [{"qualification": "nurse", "kind": "accreditation", "valid_until": "2025-05-10"}],
    }
    result = R["check_replacement"]("me", expired, [shift])
    assert result["code"] == "QUALIFICATION_EXPIRED"
    assert (result["params"]["credential"], result["params"]["expired"]) == ("accreditation", "2025-05-10")
    away = {"person_id": "x", "away": [{"start": "2025-05-12", "end": "2025-05-12"}]}
    assert R["check_replacement"]("me", away, [shift])["code"] == "REPLACEMENT_UNAVAILABLE"


def test_bonus_through_the_registry():
    assert R["check_bonus_limit"]("kpi", 60000, 100000)["message"] == "KPI bonus exceeds cap 50% of salary"
    assert R["check_bonus_limit"]("kpi", 60000, 100000, [{"bonus_type": "kpi", "max_ratio": 0.7}])["ok"]
    assert R["check_bonus_fund"](40000, 100000, 60000, 15000)["text"] == "OVER_FUND{available:25000}"
    employee = {"hire_date": "2020-01-10", "sanctions": [{"issued_on": "2025-07-15"}]}
    assert R["check_bonus_eligibility"](employee, "kpi", "2025-10-15")["params"]["until"] == "2026-07-15"
    assert R["check_bonus_eligibility"](employee, "one_off", "2025-10-15")["ok"]


def test_bad_input_names_the_field():
    with pytest.raises(ValueError, match=r"^start: '2025-13-01' is not an ISO date"):
        R["leave_days_count"]("2025-13-01", "2025-11-14")
    with pytest.raises(ValueError, match=r"^calendar: no rows"):
        R["leave_days_count"]("2025-11-01", "2025-11-14", [])


def test_every_check_returns_json_the_task_data_can_hold():
    results = [
        R["check_split_rule"](28, [7, 7], 8),
        R["check_department_limit"]("2025-07-15", "2025-07-16", 10, {"2025-07-15": 3}, {"max_people": 3}),
        R["check_bonus_limit"]("kpi", 60000, 100000),
        R["leave_days_count"]("2026-01-01", "2026-01-14"),
    ]
    for result in results:
        assert json.loads(json.dumps(result)) == result
