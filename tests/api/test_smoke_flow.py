"""The leave route end to end through the HTTP API, as the three people involved see it."""

from __future__ import annotations

from datetime import datetime, timedelta

LEAVE = {"leave_type": "annual", "start": "2026-12-01", "end": "2026-12-14", "comment": "family trip"}


def test_leave_request_from_submission_to_registration(client, org, leave_definition):
    anna, manager, hr = org["employee_sales_1"], org["manager_sales"], org["hr"]

    started = client.post(
        "/api/v1/definitions/leave_request/instances", json={"data": LEAVE}, headers=anna.headers
    )
    assert started.status_code == 201, started.json
    instance = started.json
    assert instance["status"] == "running"
    assert instance["initiator"] == anna.email
    (approval,) = instance["open_tasks"]
    assert approval["element_id"] == "manager_approval"
    assert approval["assignee"] == manager.email
    assert approval["form_schema"]["required"] == ["manager_decision"]
    # camunda:dueDate="P3D" on the task; times are UTC with their offset on both databases
    assert approval["created_at"].endswith("+00:00")
    due = datetime.fromisoformat(approval["due_at"]) - datetime.fromisoformat(approval["created_at"])
    assert due == timedelta(days=3)

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

    actions = [
        e["action"]
        for e in client.get(f"/api/v1/instances/{instance['id']}/history", headers=anna.headers).json
    ]
    assert actions == [
        "instance.started",
        "task.created",
        "task.completed",
        "task.created",
        "task.completed",
        "instance.completed",
    ]
