"""The bonus route through the API: who may file for whom, the chain the table gives, masking of the
salary-derived ratio, no self-approval, a rejection books nothing. Scenarios A29-A32 are in
tests/acceptance/test_bonus_scenarios.py."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from engine.db import session_scope
from engine.models import BonusFundUsage, ProcessInstance, User
from engine.services import visibility
from tests.acceptance.bonus_setup import (
    approve,
    decisions,
    deploy_bonus,
    file_bonus,
    instance,
    make_cfo,
    name_coordinator,
    set_facts,
    set_fund,
)
from tests.api.helpers import assert_error


@pytest.fixture
def scene(session_factory, client, org):
    deploy_bonus(session_factory)
    for key in ("employee_sales_1", "employee_sales_2", "employee_ops_1", "manager_sales"):
        set_facts(session_factory, org[key])
    set_fund(client, org["hr"], 1_000_000)
    return org


def _problem(response, status=422) -> dict:
    body = assert_error(response, status)
    (problem,) = body["errors"]
    return problem


def test_filing_needs_credentials(client, scene):
    response = client.post("/api/v1/definitions/bonus/instances", json={"data": {}})
    assert_error(response, 401)


@pytest.mark.parametrize(
    ("filer", "employee", "rule"),
    [
        ("manager_ops", "employee_sales_1", "BONUS_NOT_IN_LINE"),  # another department's manager
        ("employee_sales_1", "employee_sales_2", "BONUS_NOT_IN_LINE"),  # a colleague
        ("manager_sales", "manager_sales", "BONUS_SELF_APPROVAL"),
        ("employee_sales_1", "manager_sales", "BONUS_NOT_IN_LINE"),  # upwards
    ],
)
def test_only_a_manager_above_the_employee_may_file(client, scene, filer, employee, rule):
    problem = _problem(file_bonus(client, scene[filer], scene[employee]))
    assert (problem["field"], problem["rule"]) == ("data.employee_email", rule)
    assert client.get("/api/v1/instances?key=bonus", headers=scene["hr"].headers).json == []


def test_an_unknown_employee_is_refused(client, scene):
    response = client.post(
        "/api/v1/definitions/bonus/instances",
        json={
            "data": {
                "employee_email": "nobody@demo.approute.test",
                "bonus_type": "kpi",
                "amount": 1000,
                "period": "2026-03",
                "justification": "x",
            }
        },
        headers=scene["manager_sales"].headers,
    )
    assert _problem(response)["rule"] == "BONUS_EMPLOYEE_UNKNOWN"


def test_the_director_two_levels_up_may_file(client, scene):
    response = file_bonus(client, scene["director"], scene["employee_sales_1"])
    assert response.status_code == 201, response.json


def test_a_bad_period_is_refused_by_the_form(client, scene):
    body = assert_error(
        file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], period="2026-13"), 422
    )
    assert [e["field"] for e in body["errors"]] == ["data.period"]


def test_no_salary_on_record_is_refused_without_numbers(client, session_factory, scene):
    set_facts(session_factory, scene["employee_sales_1"], salary=None)
    problem = _problem(file_bonus(client, scene["manager_sales"], scene["employee_sales_1"]))
    assert problem["rule"] == "BONUS_NO_SALARY"


def test_the_chain_follows_the_table_by_amount(client, session_factory, scene):
    small = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "kpi", 20_000)
    medium = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "kpi", 40_000)
    assert small.json["data"]["chain"] == ["hr_bp_check"]
    assert small.json["open_tasks"][0]["element_id"] == "hr_partner_check"
    assert medium.json["data"]["chain"] == ["dept_director", "hr_bp_check"]

    # 150 000 one-off (1.5 salaries, under the cap of 2): row 3 names positions nobody holds yet.
    body = assert_error(
        file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "one_off", 150_000), 422
    )
    assert [(p["rule"], p["params"]["step"]) for p in body["errors"]] == [
        ("BONUS_ROUTE_GAP", "hr_director"),
        ("BONUS_ROUTE_GAP", "finance_controller"),
    ]
    assert "coordinator 'bonus.hr_director'" in body["errors"][0]["message"]

    cfo = make_cfo(session_factory, scene["director"])
    name_coordinator(client, scene["hr"], "hr_director", scene["hr"])
    name_coordinator(client, scene["hr"], "finance_controller", cfo)
    large = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "one_off", 150_000)
    assert large.status_code == 201, large.json
    assert large.json["data"]["chain"] == ["dept_director", "hr_director", "finance_controller"]
    (chain_record,) = [
        r for r in decisions(client, scene["hr"], large.json["id"]) if r["rule"] == "bonus.chain"
    ]
    assert chain_record["tables"] == {"dmn:bonus_route": 0}  # the bundle's own copy
    assert chain_record["output"] == {"steps": ["dept_director", "hr_director", "finance_controller"]}


def test_the_ratio_is_masked_for_the_approving_manager(client, scene):
    started = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "kpi", 40_000).json
    (task,) = started["open_tasks"]
    assert task["assignee"] == scene["director"].email

    shown_to_director = {r["rule"]: r for r in decisions(client, scene["director"], started["id"])}
    shown_to_hr = {r["rule"]: r for r in decisions(client, scene["hr"], started["id"])}
    assert shown_to_director["bonus.limit"]["inputs"]["ratio"] == "*****"
    assert shown_to_director["bonus.limit"]["masked"] is True
    assert shown_to_hr["bonus.limit"]["inputs"]["ratio"] == 0.4
    data = instance(client, scene["director"], started["id"])["data"]
    assert not {"ratio", "monthly_salary", "salary"} & set(data)


def test_the_filing_manager_sees_the_ratio_masked_the_employee_is_whom_it_is_about(
    client, session_factory, scene
):
    started = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "kpi", 40_000).json

    shown_to_filer = {r["rule"]: r for r in decisions(client, scene["manager_sales"], started["id"])}
    assert shown_to_filer["bonus.limit"]["inputs"]["ratio"] == "*****"  # 40 000 / ratio = the salary
    assert shown_to_filer["bonus.limit"]["masked"] is True
    data = instance(client, scene["manager_sales"], started["id"])["data"]
    assert data["employee_id"] == scene["employee_sales_1"].id
    assert not {"ratio", "monthly_salary", "salary"} & set(data)
    assert "0.4" not in str(data) and "100000" not in str(data)
    # The employee is not shown the request (nobody asks them anything) ...
    response = client.get(
        f"/api/v1/instances/{started['id']}/decisions", headers=scene["employee_sales_1"].headers
    )
    assert_error(response, 404)
    # ... but they are the one it is about: the filer is not.
    with session_scope(session_factory) as s:
        stored = s.get(ProcessInstance, uuid.UUID(started["id"]))
        assert visibility.subject_id(stored) == scene["employee_sales_1"].id
        assert visibility.sees_sensitive_data(s.get(User, scene["employee_sales_1"].id), stored)
        assert not visibility.sees_sensitive_data(s.get(User, scene["manager_sales"].id), stored)


def test_a_request_filed_before_employee_id_was_kept_finds_its_employee_by_email(
    client, session_factory, scene
):
    started = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "kpi", 40_000).json
    with session_scope(session_factory) as s:
        stored = s.get(ProcessInstance, uuid.UUID(started["id"]))
        stored.data = {k: v for k, v in stored.data.items() if k != "employee_id"}
    shown = {r["rule"]: r for r in decisions(client, scene["manager_sales"], started["id"])}
    assert shown["bonus.limit"]["inputs"]["ratio"] == "*****"
    with session_scope(session_factory) as s:
        stored = s.get(ProcessInstance, uuid.UUID(started["id"]))
        assert visibility.subject_id(stored) == scene["employee_sales_1"].id


def _edit_limit_check(client, hr, old: str, new: str) -> None:
    """HR replaces one cell of B-2 through the decisions API."""
    current = client.get("/api/v1/decisions/bonus_limit_check", headers=hr.headers)
    assert current.status_code == 200, current.json
    text = current.get_data(as_text=True)
    assert old in text
    headers = {**hr.headers, "Content-Type": "application/xml", "If-Match": current.headers["ETag"]}
    edited = client.put(
        "/api/v1/decisions/bonus_limit_check", data=text.replace(old, new).encode(), headers=headers
    )
    assert edited.status_code == 200, edited.json


def test_a_ratio_hr_writes_into_the_message_is_scrubbed_for_the_filer(client, scene):
    _edit_limit_check(
        client,
        scene["hr"],
        '<outputEntry><text>""</text></outputEntry>',
        '<outputEntry><text>"within the cap at " + string(ratio) + " of salary"</text></outputEntry>',
    )

    started = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "kpi", 40_000).json

    to_filer = {r["rule"]: r for r in decisions(client, scene["manager_sales"], started["id"])}["bonus.limit"]
    to_hr = {r["rule"]: r for r in decisions(client, scene["hr"], started["id"])}["bonus.limit"]
    assert to_hr["message"] == "within the cap at 0.4 of salary"
    assert to_hr["tables"]["dmn:bonus_limit_check"] == 1
    assert to_filer["message"] == "within the cap at ***** of salary"
    assert "0.4" not in str(to_filer["output"])


def test_a_ratio_hr_writes_into_a_refusal_is_scrubbed(client, scene):
    _edit_limit_check(
        client,
        scene["hr"],
        '"KPI bonus exceeds cap 50% of salary"',
        '"KPI bonus of " + string(ratio) + " salaries exceeds cap 50%"',
    )

    refused = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "kpi", 60_000)

    body = assert_error(refused, 422)
    assert body["errors"][0]["rule"] == "BONUS_LIMIT_EXCEEDED"
    assert body["errors"][0]["message"] == "KPI bonus of ***** salaries exceeds cap 50%"
    assert "0.6" not in str(body)


def test_the_filer_may_not_approve_their_own_filing(client, scene):
    started = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "kpi", 40_000).json
    (task,) = started["open_tasks"]
    # dept_director of SALES is the filer: the step went one level up.
    assert task["element_id"] == "director_approval" and task["assignee"] == scene["director"].email
    response = approve(client, scene["manager_sales"], task["id"])
    assert response.status_code in (403, 404), response.json
    assert instance(client, scene["hr"], started["id"])["open_tasks"][0]["id"] == task["id"]


def test_a_rejection_ends_the_request_and_books_nothing(client, session_factory, scene):
    started = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "kpi", 20_000).json
    (task,) = started["open_tasks"]

    missing_comment = approve(client, scene["hr"], task["id"], "reject")
    assert_error(missing_comment, 422)
    assert approve(client, scene["hr"], task["id"], "reject", comment="budget frozen").status_code == 200

    shown = instance(client, scene["hr"], started["id"])
    assert shown["status"] == "completed" and shown["open_tasks"] == []
    with session_scope(session_factory) as s:
        assert s.scalar(select(func.count()).select_from(BonusFundUsage)) == 0


def test_the_last_approval_books_the_amount_against_the_fund(client, session_factory, scene):
    set_fund(client, scene["hr"], 30_000)
    started = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "kpi", 20_000).json
    (task,) = started["open_tasks"]
    assert approve(client, scene["hr"], task["id"]).status_code == 200

    with session_scope(session_factory) as s:
        (usage,) = s.scalars(select(BonusFundUsage)).all()
        assert (usage.department, usage.fund_period, usage.period, int(usage.amount)) == (
            "SALES",
            "2026-Q1",
            "2026-03",
            20000,
        )
    # The next filing sees 10 000 left: over the fund, so the chain takes the CFO.
    second = file_bonus(client, scene["manager_sales"], scene["employee_sales_2"], "kpi", 20_000)
    assert _problem(second)["rule"] == "BONUS_ROUTE_GAP"  # nobody is named CFO yet
    assert "bonus.cfo" in _problem(second)["message"]
