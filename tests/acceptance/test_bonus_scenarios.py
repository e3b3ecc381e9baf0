"""hr-domain §8 A29-A32, the bonus route, through the real API on SQLite and PostgreSQL.

The scene: anna (employee_sales_1) earns 100 000 ₽ a month; her manager (the SALES head) files.
The SALES head cannot approve their own filing, so the dept_director step goes one level up, to
the company director; hr is the HR partner of SALES; the CFO is named coordinator bonus.cfo.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from engine import clock
from engine.db import session_scope
from engine.models import BonusFundUsage
from rules.dates import add_months
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
    for key in ("employee_sales_1", "employee_sales_2"):
        set_facts(session_factory, org[key])
    cfo = make_cfo(session_factory, org["director"])
    name_coordinator(client, org["hr"], "cfo", cfo)
    return {**org, "cfo": cfo}


def test_a29_kpi_bonus_over_the_cap_is_rejected_at_submission(client, scene):
    response = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "kpi", 60_000)

    body = assert_error(response, 422)
    (problem,) = body["errors"]
    assert problem["rule"] == "BONUS_LIMIT_EXCEEDED"
    assert problem["message"] == "KPI bonus exceeds cap 50% of salary"
    assert problem["params"] == {"bonus_type": "kpi", "cap": 0.5}
    assert "ratio" not in problem["params"]  # the ratio would give the salary away
    listed = client.get("/api/v1/instances?key=bonus", headers=scene["manager_sales"].headers).json
    assert listed == []


def test_a30_over_the_fund_adds_the_cfo_to_the_chain(client, scene):
    set_fund(client, scene["hr"], 25_000)

    response = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "kpi", 40_000)

    assert response.status_code == 201, response.json
    started = response.json
    assert started["data"]["chain"] == ["dept_director", "hr_bp_check", "cfo"]
    (flag,) = started["data"]["flags"]
    assert flag["text"] == "OVER_FUND{available:25000}"
    (first,) = started["open_tasks"]
    assert first["element_id"] == "director_approval"
    assert first["assignee"] == scene["director"].email  # the SALES head filed: one level up

    assert approve(client, scene["director"], first["id"]).status_code == 200
    (second,) = instance(client, scene["hr"], started["id"])["open_tasks"]
    assert (second["element_id"], second["assignee"]) == ("hr_partner_check", scene["hr"].email)
    assert approve(client, scene["hr"], second["id"]).status_code == 200
    (third,) = instance(client, scene["hr"], started["id"])["open_tasks"]
    assert (third["element_id"], third["assignee"]) == ("position_approval", scene["cfo"].email)
    assert approve(client, scene["cfo"], third["id"]).status_code == 200

    assert instance(client, scene["hr"], started["id"])["status"] == "completed"
    records = decisions(client, scene["hr"], started["id"])
    fund = [r for r in records if r["rule"] == "bonus.fund"]
    assert (
        fund[0]["outcome"] == "OVER_FUND" and fund[0]["message"] == "exceeds department fund: 25000 available"
    )
    assert fund[0]["tables"]["bonus_funds"] >= 1
    assert fund[-1]["output"] == {"over_fund": True, "booked": True}


def test_a31_active_reprimand_blocks_a_kpi_bonus_not_a_one_off(client, session_factory, scene):
    reprimand = add_months(clock.today(), -3)
    recorded = client.patch(
        f"/api/v1/users/{scene['employee_sales_1'].email}",
        json={"sanctions": [{"type": "reprimand", "date": reprimand.isoformat()}]},
        headers=scene["hr"].headers,
    )
    assert recorded.status_code == 200, recorded.json
    set_fund(client, scene["hr"], 1_000_000)

    kpi = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "kpi", 20_000)

    until = add_months(reprimand, 12).isoformat()
    body = assert_error(kpi, 422)
    (problem,) = body["errors"]
    assert problem["rule"] == "BONUS_NOT_ELIGIBLE"
    assert problem["message"] == f"active disciplinary sanction until {until}"
    assert problem["params"] == {"rule": "sanction", "until": until}

    one_off = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "one_off", 20_000)
    assert one_off.status_code == 201, one_off.json
    (eligibility,) = [
        r for r in decisions(client, scene["hr"], one_off.json["id"]) if r["rule"] == "bonus.eligibility"
    ]
    assert eligibility["output"]["eligible"] is True
    assert eligibility["inputs"]["active_sanction"] is True


def test_a32_two_approvals_for_one_fund_at_once_the_second_goes_to_the_cfo(
    app, client, session_factory, scene
):
    set_fund(client, scene["hr"], 10_000)
    first = file_bonus(client, scene["manager_sales"], scene["employee_sales_1"], "kpi", 8_000)
    second = file_bonus(client, scene["director"], scene["employee_sales_2"], "kpi", 8_000)
    assert first.status_code == 201 and second.status_code == 201, (first.json, second.json)
    tasks = [first.json["open_tasks"][0]["id"], second.json["open_tasks"][0]["id"]]
    assert first.json["data"]["chain"] == second.json["data"]["chain"] == ["hr_bp_check"]

    barrier = threading.Barrier(2)

    def approve_at_once(task_id):
        worker = app.test_client()
        barrier.wait(timeout=60)
        return approve(worker, scene["hr"], task_id).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(approve_at_once, tasks)) == [200, 200]

    shown = [instance(client, scene["hr"], started.json["id"]) for started in (first, second)]
    done = [s for s in shown if s["status"] == "completed"]
    waiting = [s for s in shown if s["status"] == "running"]
    assert len(done) == 1 and len(waiting) == 1
    assert waiting[0]["data"]["chain"] == ["hr_bp_check", "cfo"]
    assert waiting[0]["data"]["flags"][0]["text"] == "OVER_FUND{available:2000}"
    (cfo_task,) = waiting[0]["open_tasks"]
    assert cfo_task["assignee"] == scene["cfo"].email
    with session_scope(session_factory) as s:
        booked = [(str(u.instance_id), int(u.amount)) for u in s.scalars(select(BonusFundUsage))]
    assert booked == [(done[0]["id"], 8000)]
    rechecks = [
        r for r in decisions(client, scene["hr"], waiting[0]["id"]) if r["element_id"] == "hr_partner_check"
    ]
    assert {r["rule"]: r["outcome"] for r in rechecks} == {
        "bonus.chain": "ESCALATED",
        "bonus.fund": "OVER_FUND",
    }
