"""The leave route end to end through the HTTP API, as the three people involved see it."""

from __future__ import annotations

from datetime import datetime, timedelta

from engine import clock
from tests.engine.helpers import VALID_LEAVE

# Annual leave, Monday to Friday a few weeks ahead: five charged days off Anna's balance.
LEAVE = {**VALID_LEAVE, "leave_type": "annual", "comment": "family trip"}


def annual_balance(client, person, viewer) -> dict:
    response = client.get(
        "/api/v1/leave/balance", query_string={"email": person.email}, headers=viewer.headers
    )
    assert response.status_code == 200, response.json
    return response.json["balances"]["annual"]


def test_leave_request_from_submission_to_registration(client, org, leave_definition):
    anna, manager, hr = org["employee_sales_1"], org["manager_sales"], org["hr"]
    before = annual_balance(client, anna, anna)

    started = client.post(
        "/api/v1/definitions/leave_request/instances", json={"data": LEAVE}, headers=anna.headers
    )
    assert started.status_code == 201, started.json
    instance = started.json
    assert instance["status"] == "running"
    assert instance["initiator"] == anna.email
    assert instance["data"]["days"] == 5
    pending = annual_balance(client, anna, manager)
    assert (pending["reserved"], pending["available"]) == (before["reserved"] + 5, before["available"] - 5)
    (approval,) = instance["open_tasks"]
    assert approval["element_id"] == "manager_approval"
    assert approval["assignee"] == manager.email
    assert approval["form_schema"]["required"] == ["manager_decision"]
    # dueInWorkingDays=3 on the task: 09:00 company-local on the working day after the third working
    # day (rules/sla.py); times are UTC with their offset on both databases
    assert approval["created_at"].endswith("+00:00")
    due = datetime.fromisoformat(approval["due_at"]) - datetime.fromisoformat(approval["created_at"])
    assert timedelta(days=3) < due < timedelta(days=3 + 4 + 14)  # a weekend and a long holiday at most
    assert datetime.fromisoformat(approval["due_at"]).astimezone(clock.company_timezone()).hour == 9

    inbox = client.get("/api/v1/tasks", headers=manager.headers).json
    assert [t["id"] for t in inbox] == [approval["id"]]

    done = client.post(
        f"/api/v1/tasks/{approval['id']}/complete",
        json={"data": {"manager_decision": "approve", "manager_comment": "ok"}},
        headers=manager.headers,
    )
    assert done.status_code == 200, done.json
    assert done.json["status"] == "completed"
    assert done.json["completed_by"] == manager.email

    (registration,) = client.get("/api/v1/tasks", headers=hr.headers).json
    assert registration["candidate_roles"] == ["hr"]
    done = client.post(
        f"/api/v1/tasks/{registration['id']}/complete",
        json={"data": {"order_number": "ОТП-17"}},
        headers=hr.headers,
    )
    assert done.status_code == 200, done.json

    final = client.get(f"/api/v1/instances/{instance['id']}", headers=anna.headers).json
    assert final["status"] == "completed"
    assert final["open_tasks"] == []
    assert final["data"]["order_number"] == "ОТП-17"
    assert final["data"]["manager_decision"] == "approve"

    booked = annual_balance(client, anna, hr)
    assert (booked["used"], booked["reserved"]) == (before["used"] + 5, before["reserved"])
    assert booked["available"] == before["available"] - 5

    actions = [
        e["action"]
        for e in client.get(f"/api/v1/instances/{instance['id']}/history", headers=anna.headers).json
    ]
    assert [a for a in actions if a.startswith(("instance.", "task."))] == [
        "instance.started",
        "task.created",
        "task.completed",
        "task.created",
        "task.completed",
        "instance.completed",
    ]
    assert {"decision.recorded", "leave.reserved", "leave.booked"} <= set(actions)
