"""The task inbox: who sees which task, claiming, and completing."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from tests.api.helpers import (
    LEAVE,
    approved_to_hr,
    assert_error,
    complete,
    field_errors,
    history,
    started,
)

TASK_FIELDS = {"id", "instance_id", "name", "element_id", "lane", "assignee", "due_at", "form_schema"}


def test_the_inbox_lists_what_the_caller_may_act_on(client, org, leave_definition):
    anna, vera = org["employee_sales_1"], org["employee_ops_1"]
    sales, ops = org["manager_sales"], org["manager_ops"]
    hers = started(client, anna)
    theirs = started(client, vera)

    (task,) = client.get("/api/v1/tasks", headers=sales.headers).json
    assert set(task) >= TASK_FIELDS
    assert task["id"] == hers["open_tasks"][0]["id"]
    assert task["instance_id"] == hers["id"]
    assert task["name"] == "Approve leave"
    assert task["element_id"] == "manager_approval"
    assert task["lane"] == "Manager"
    assert task["assignee"] == sales.email
    if task["due_at"] is not None:  # a due date, when the route sets one, lies ahead
        assert datetime.fromisoformat(task["due_at"]) > datetime.fromisoformat(task["created_at"])
    assert task["form_schema"]["properties"]["manager_decision"]["enum"] == ["approve", "reject"]

    assert [t["instance_id"] for t in client.get("/api/v1/tasks", headers=ops.headers).json] == [theirs["id"]]
    # Initiators and HR see the requests, but there is nothing for them to do yet.
    assert client.get("/api/v1/tasks", headers=anna.headers).json == []
    assert client.get("/api/v1/tasks", headers=org["hr"].headers).json == []


def test_a_task_is_visible_to_the_assignee_the_initiator_and_hr(client, org, leave_definition):
    anna = org["employee_sales_1"]
    instance = started(client, anna)
    (approval,) = instance["open_tasks"]
    for who in ("manager_sales", "employee_sales_1", "hr"):
        response = client.get(f"/api/v1/tasks/{approval['id']}", headers=org[who].headers)
        assert response.status_code == 200, (who, response.json)
        assert response.json["id"] == approval["id"]
        assert response.json["data"]["leave_type"] == LEAVE["leave_type"]


@pytest.mark.parametrize("outsider", ["employee_sales_2", "employee_ops_1", "manager_ops", "designer"])
def test_a_task_is_hidden_from_unrelated_people(client, org, leave_definition, outsider):
    instance = started(client, org["employee_sales_1"])
    (approval,) = instance["open_tasks"]
    body = assert_error(client.get(f"/api/v1/tasks/{approval['id']}", headers=org[outsider].headers), 404)
    assert LEAVE["leave_type"] not in str(body) and LEAVE["start"] not in str(body)


def test_an_unknown_task_is_not_found(client, org, leave_definition):
    missing = uuid.uuid4()
    assert_error(client.get(f"/api/v1/tasks/{missing}", headers=org["hr"].headers), 404)
    assert_error(client.post(f"/api/v1/tasks/{missing}/claim", headers=org["hr"].headers), 404)
    assert_error(complete(client, org["hr"], missing, {"order_number": "1"}), 404)


def test_the_manager_completes_the_approval(client, org, leave_definition):
    anna, manager, hr = org["employee_sales_1"], org["manager_sales"], org["hr"]
    instance = started(client, anna)
    (approval,) = instance["open_tasks"]

    done = complete(client, manager, approval["id"], {"manager_decision": "approve", "manager_comment": "ok"})
    assert done.status_code == 200, done.json
    assert done.json["status"] == "completed"
    assert done.json["completed_by"] == manager.email
    assert done.json["completed_at"]

    assert client.get("/api/v1/tasks", headers=manager.headers).json == []
    (registration,) = client.get("/api/v1/tasks", headers=hr.headers).json
    assert registration["element_id"] == "hr_registration"
    assert registration["assignee"] is None
    assert registration["candidate_roles"] == ["hr"]
    assert registration["form_schema"]["required"] == ["order_number"]

    again = complete(client, manager, approval["id"], {"manager_decision": "approve"})
    body = assert_error(again, 409)
    assert "completed" in body["message"]
    completions = [e for e in history(client, anna, instance["id"]) if e["action"] == "task.completed"]
    assert len(completions) == 1


def test_rejecting_needs_a_comment(client, org, leave_definition):
    anna, manager = org["employee_sales_1"], org["manager_sales"]
    instance = started(client, anna)
    (approval,) = instance["open_tasks"]

    response = complete(client, manager, approval["id"], {"manager_decision": "reject"})
    body = assert_error(response, 422)
    assert field_errors(body) == {"data.manager_comment": "this field is required"}

    unknown = complete(client, manager, approval["id"], {"manager_decision": "maybe"})
    assert "data.manager_decision" in field_errors(assert_error(unknown, 422))

    # The refused attempts changed nothing: the task is still the manager's to do.
    after = client.get(f"/api/v1/instances/{instance['id']}", headers=anna.headers).json
    assert [t["id"] for t in after["open_tasks"]] == [approval["id"]]
    assert "manager_decision" not in after["data"]
    assert [
        e["action"]
        for e in history(client, anna, instance["id"])
        if e["action"].startswith(("instance.", "task."))
    ] == [
        "instance.started",
        "task.created",
    ]

    done = complete(
        client, manager, approval["id"], {"manager_decision": "reject", "manager_comment": "peak"}
    )
    assert done.status_code == 200, done.json
    final = client.get(f"/api/v1/instances/{instance['id']}", headers=anna.headers).json
    assert final["status"] == "completed"
    assert final["data"]["manager_comment"] == "peak"
    assert client.get("/api/v1/tasks", headers=org["hr"].headers).json == []


def test_the_initiator_may_see_but_not_complete_the_managers_task(client, org, leave_definition):
    anna = org["employee_sales_1"]
    instance = started(client, anna)
    (approval,) = instance["open_tasks"]
    response = complete(client, anna, approval["id"], {"manager_decision": "approve"})
    assert_error(response, 403)
    after = client.get(f"/api/v1/instances/{instance['id']}", headers=anna.headers).json
    assert [t["id"] for t in after["open_tasks"]] == [approval["id"]]


def test_hr_may_see_but_not_complete_the_managers_task(client, org, leave_definition):
    instance = started(client, org["employee_sales_1"])
    (approval,) = instance["open_tasks"]
    assert_error(complete(client, org["hr"], approval["id"], {"manager_decision": "approve"}), 403)
    assert_error(client.post(f"/api/v1/tasks/{approval['id']}/claim", headers=org["hr"].headers), 409)


def test_claiming_the_hr_registration(client, org, make_person, leave_definition):
    anna, manager, hr = org["employee_sales_1"], org["manager_sales"], org["hr"]
    hr2 = make_person("hr2", "hr", "employee")
    instance, registration = approved_to_hr(client, anna, manager)
    task_id = registration["id"]
    assert registration["candidate_roles"] == ["hr"]
    assert {t["id"] for t in client.get("/api/v1/tasks", headers=hr2.headers).json} == {task_id}

    # The initiator sees the task but is no candidate for it.
    assert client.get(f"/api/v1/tasks/{task_id}", headers=anna.headers).status_code == 200
    assert_error(client.post(f"/api/v1/tasks/{task_id}/claim", headers=anna.headers), 403)

    claimed = client.post(f"/api/v1/tasks/{task_id}/claim", headers=hr.headers)
    assert claimed.status_code == 200, claimed.json
    assert claimed.json["assignee"] == hr.email
    assert claimed.json["status"] == "open"

    body = assert_error(client.post(f"/api/v1/tasks/{task_id}/claim", headers=hr2.headers), 409)
    assert "claimed" in body["message"]
    assert_error(complete(client, hr2, task_id, {"order_number": "ОТП-1"}), 403)
    assert client.get("/api/v1/tasks", headers=hr2.headers).json == []
    (mine,) = client.get("/api/v1/tasks", headers=hr.headers).json
    assert (mine["id"], mine["assignee"]) == (task_id, hr.email)

    # Claiming again is harmless for the claimer.
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=hr.headers).status_code == 200

    done = complete(client, hr, task_id, {"order_number": "ОТП-1"})
    assert done.status_code == 200, done.json
    assert done.json["completed_by"] == hr.email
    assert_error(client.post(f"/api/v1/tasks/{task_id}/claim", headers=hr2.headers), 409)

    final = client.get(f"/api/v1/instances/{instance['id']}", headers=anna.headers).json
    assert final["status"] == "completed"
    assert final["data"]["order_number"] == "ОТП-1"
    actions = [(e["action"], e["actor"]) for e in history(client, anna, instance["id"])]
    assert actions.count(("task.claimed", hr.email)) == 1
    assert [a for a, _ in actions].count("task.claimed") == 1


def test_hr_completes_the_registration_without_claiming(client, org, leave_definition):
    anna, manager, hr = org["employee_sales_1"], org["manager_sales"], org["hr"]
    instance, registration = approved_to_hr(client, anna, manager)
    missing = complete(client, hr, registration["id"], {})
    assert field_errors(assert_error(missing, 422)) == {"data.order_number": "this field is required"}
    done = complete(client, hr, registration["id"], {"order_number": "ОТП-9", "hr_comment": "ok"})
    assert done.status_code == 200, done.json
    final = client.get(f"/api/v1/instances/{instance['id']}", headers=anna.headers).json
    assert final["status"] == "completed"
    assert final["data"]["order_number"] == "ОТП-9"


def test_complete_wants_an_object(client, org, leave_definition):
    instance = started(client, org["employee_sales_1"])
    (approval,) = instance["open_tasks"]
    response = complete(client, org["manager_sales"], approval["id"], "approve")
    assert "data" in field_errors(assert_error(response, 422))
