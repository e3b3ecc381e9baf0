"""Starting, listing, reading and cancelling leave requests through the API."""

from __future__ import annotations

import uuid

import pytest

from tests.api.helpers import (
    LEAVE,
    assert_error,
    bundle_file,
    complete,
    field_errors,
    history,
    start_leave,
    started,
    upload,
)


def ids(response) -> set[str]:
    assert response.status_code == 200, response.json
    return {row["id"] for row in response.json}


# --- starting ---------------------------------------------------------------------------------


def test_starting_answers_the_instance_with_its_first_task(client, org, leave_definition):
    anna, manager = org["employee_sales_1"], org["manager_sales"]
    response = start_leave(client, anna, business_key="LR-1")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["key"] == "leave_request"
    assert body["version"] == leave_definition["version"]
    assert body["definition_id"] == str(leave_definition["id"])
    assert body["status"] == "running"
    assert body["business_key"] == "LR-1"
    assert body["initiator"] == anna.email
    assert body["data"]["leave_type"] == LEAVE["leave_type"]
    (task,) = body["open_tasks"]
    assert task["element_id"] == "manager_approval"
    assert task["assignee"] == manager.email
    assert task["instance_id"] == body["id"]
    assert task["status"] == "open"


def test_start_form_errors_are_reported_per_field(client, org, leave_definition):
    anna = org["employee_sales_1"]
    missing = start_leave(client, anna, data={"start": "2026-12-01", "end": "2026-12-14"})
    body = assert_error(missing, 422)
    assert field_errors(body) == {"data.leave_type": "this field is required"}

    wrong = start_leave(client, anna, data={**LEAVE, "leave_type": "holiday", "start": "1st of May"})
    errors = field_errors(assert_error(wrong, 422))
    assert set(errors) == {"data.leave_type", "data.start"}

    extra = start_leave(client, anna, data={**LEAVE, "salary": 1})
    assert field_errors(assert_error(extra, 422)) == {"data.salary": "this field is not part of the form"}

    not_an_object = start_leave(client, anna, data=["annual"])
    assert "data" in field_errors(assert_error(not_an_object, 422))

    assert client.get("/api/v1/instances", headers=anna.headers).json == []
    assert client.get("/api/v1/tasks", headers=org["manager_sales"].headers).json == []


def test_starting_an_unknown_process_is_not_found(client, org, leave_definition):
    response = client.post(
        "/api/v1/definitions/no_such_process/instances", json={"data": LEAVE}, headers=org["hr"].headers
    )
    body = assert_error(response, 404)
    assert "no_such_process" in body["message"]


def test_a_business_key_is_unique_among_active_instances(client, org, leave_definition):
    anna, boris = org["employee_sales_1"], org["employee_sales_2"]
    first = started(client, anna, business_key="HR-2026-001")

    duplicate = start_leave(client, boris, business_key="HR-2026-001")
    body = assert_error(duplicate, 409)
    assert "HR-2026-001" in body["message"]
    assert ids(client.get("/api/v1/instances", headers=org["hr"].headers)) == {first["id"]}

    cancelled = client.post(f"/api/v1/instances/{first['id']}/cancel", headers=anna.headers)
    assert cancelled.status_code == 200, cancelled.json

    again = start_leave(client, boris, business_key="HR-2026-001")
    assert again.status_code == 201, again.json
    assert again.json["id"] != first["id"]
    assert again.json["business_key"] == "HR-2026-001"


def test_a_repeated_idempotency_key_replays_the_first_start(client, org, leave_definition):
    anna = org["employee_sales_1"]
    first = start_leave(client, anna, idempotency_key="submit-7f3a")
    second = start_leave(client, anna, idempotency_key="submit-7f3a")
    assert first.status_code == 201, first.json
    assert second.status_code == 201, second.json
    assert first.headers.get("Idempotent-Replayed") != "true"
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json["id"] == first.json["id"]
    assert [t["id"] for t in second.json["open_tasks"]] == [t["id"] for t in first.json["open_tasks"]]

    assert ids(client.get("/api/v1/instances", headers=anna.headers)) == {first.json["id"]}
    assert len(client.get("/api/v1/tasks", headers=org["manager_sales"].headers).json) == 1
    started_events = [e for e in history(client, anna, first.json["id"]) if e["action"] == "instance.started"]
    assert len(started_events) == 1


def test_the_same_idempotency_key_from_two_people_starts_two_instances(client, org, leave_definition):
    anna, vera = org["employee_sales_1"], org["employee_ops_1"]
    hers = start_leave(client, anna, idempotency_key="my-leave")
    theirs = start_leave(client, vera, idempotency_key="my-leave")
    assert hers.status_code == theirs.status_code == 201
    assert theirs.headers.get("Idempotent-Replayed") != "true"
    assert hers.json["id"] != theirs.json["id"]
    assert theirs.json["initiator"] == vera.email
    assert len(client.get("/api/v1/instances", headers=org["hr"].headers).json) == 2


def test_an_idempotency_key_reused_for_another_process_is_refused(client, org, leave_definition):
    designer, anna = org["designer"], org["employee_sales_1"]
    files = {**bundle_file("open_form.bpmn"), **bundle_file("open_form.json")}
    assert upload(client, designer, files).status_code == 201
    assert start_leave(client, anna, idempotency_key="k-1").status_code == 201

    other = client.post(
        "/api/v1/definitions/open_form/instances",
        json={"data": {}},
        headers={**anna.headers, "Idempotency-Key": "k-1"},
    )

    assert_error(other, 409)
    assert "already started a leave_request request" in other.json["message"]
    assert len(client.get("/api/v1/instances", headers=anna.headers).json) == 1


# --- listing ----------------------------------------------------------------------------------


@pytest.fixture
def requests_of_four(client, org, leave_definition) -> dict[str, str]:
    """One running leave request each from anna, boris (sales) and vera, gleb (ops)."""
    return {
        who: started(client, org[who])["id"]
        for who in ("employee_sales_1", "employee_sales_2", "employee_ops_1", "employee_ops_2")
    }


def test_who_sees_which_instances(client, org, admin, requests_of_four):
    mine = requests_of_four
    assert ids(client.get("/api/v1/instances", headers=org["employee_sales_1"].headers)) == {
        mine["employee_sales_1"]
    }
    assert ids(client.get("/api/v1/instances", headers=org["manager_sales"].headers)) == {
        mine["employee_sales_1"],
        mine["employee_sales_2"],
    }
    assert ids(client.get("/api/v1/instances", headers=org["manager_ops"].headers)) == {
        mine["employee_ops_1"],
        mine["employee_ops_2"],
    }
    assert ids(client.get("/api/v1/instances", headers=org["hr"].headers)) == set(mine.values())
    assert ids(client.get("/api/v1/instances", headers=admin.headers)) == set(mine.values())
    assert ids(client.get("/api/v1/instances", headers=org["designer"].headers)) == set()


def test_instances_filter_by_key_and_status(client, org, requests_of_four):
    hr = org["hr"]
    gleb = requests_of_four["employee_ops_2"]
    cancelled = client.post(f"/api/v1/instances/{gleb}/cancel", headers=org["employee_ops_2"].headers)
    assert cancelled.status_code == 200, cancelled.json

    running = ids(client.get("/api/v1/instances?status=running", headers=hr.headers))
    assert running == set(requests_of_four.values()) - {gleb}
    assert ids(client.get("/api/v1/instances?status=cancelled", headers=hr.headers)) == {gleb}
    assert ids(client.get("/api/v1/instances?status=completed", headers=hr.headers)) == set()
    assert ids(client.get("/api/v1/instances?key=leave_request", headers=hr.headers)) == set(
        requests_of_four.values()
    )
    assert ids(client.get("/api/v1/instances?key=other_process", headers=hr.headers)) == set()
    assert ids(client.get("/api/v1/instances?key=leave_request&status=cancelled", headers=hr.headers)) == {
        gleb
    }
    # The manager's filtered view stays within their reports.
    assert ids(client.get("/api/v1/instances?status=running", headers=org["manager_ops"].headers)) == {
        requests_of_four["employee_ops_1"]
    }


def test_an_unknown_status_filter_is_refused(client, org, leave_definition):
    body = assert_error(client.get("/api/v1/instances?status=bogus", headers=org["hr"].headers), 422)
    assert "status" in str(body["errors"])


def test_the_listing_shows_summaries(client, org, leave_definition):
    anna = org["employee_sales_1"]
    instance = started(client, anna, business_key="LR-42")
    (row,) = client.get("/api/v1/instances", headers=anna.headers).json
    assert row["id"] == instance["id"]
    assert row["key"] == "leave_request"
    assert row["status"] == "running"
    assert row["business_key"] == "LR-42"
    assert row["initiator"] == anna.email


# --- reading ----------------------------------------------------------------------------------


def test_reading_an_instance(client, org, leave_definition):
    anna, manager = org["employee_sales_1"], org["manager_sales"]
    instance = started(client, anna)
    for viewer in (anna, manager, org["hr"]):
        response = client.get(f"/api/v1/instances/{instance['id']}", headers=viewer.headers)
        assert response.status_code == 200, response.json
        body = response.json
        assert body["status"] == "running"
        assert body["data"]["start"] == LEAVE["start"]
        assert [t["element_id"] for t in body["open_tasks"]] == ["manager_approval"]


@pytest.mark.parametrize("outsider", ["employee_ops_1", "manager_ops", "employee_sales_2", "designer"])
def test_an_instance_is_hidden_from_people_outside_it(client, org, leave_definition, outsider):
    instance = started(client, org["employee_sales_1"])
    assert_error(client.get(f"/api/v1/instances/{instance['id']}", headers=org[outsider].headers), 404)
    assert_error(
        client.get(f"/api/v1/instances/{instance['id']}/history", headers=org[outsider].headers), 404
    )


def test_an_unknown_instance_is_not_found(client, org, leave_definition):
    missing = uuid.uuid4()
    body = assert_error(client.get(f"/api/v1/instances/{missing}", headers=org["hr"].headers), 404)
    assert str(missing) in body["message"]
    assert_error(client.get(f"/api/v1/instances/{missing}/history", headers=org["hr"].headers), 404)
    assert_error(client.post(f"/api/v1/instances/{missing}/cancel", headers=org["hr"].headers), 404)


def test_the_history_tells_who_did_what(client, org, leave_definition):
    anna, manager = org["employee_sales_1"], org["manager_sales"]
    instance = started(client, anna)
    (approval,) = instance["open_tasks"]
    done = complete(
        client, manager, approval["id"], {"manager_decision": "reject", "manager_comment": "busy"}
    )
    assert done.status_code == 200, done.json

    events = history(client, anna, instance["id"])
    steps = [e for e in events if e["action"].startswith(("instance.", "task."))]
    assert [(e["action"], e["actor"], e["task_id"]) for e in steps] == [
        ("instance.started", anna.email, None),
        ("task.created", anna.email, approval["id"]),
        ("task.completed", manager.email, approval["id"]),
        ("instance.completed", manager.email, None),
    ]
    assert all(e["at"] for e in events)
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)

    final = client.get(f"/api/v1/instances/{instance['id']}", headers=anna.headers).json
    assert final["status"] == "completed"
    assert final["data"]["manager_decision"] == "reject"
    assert final["open_tasks"] == []


# --- cancelling -------------------------------------------------------------------------------


def test_the_initiator_cancels_and_the_task_disappears(client, org, leave_definition):
    anna, manager = org["employee_sales_1"], org["manager_sales"]
    instance = started(client, anna)
    (approval,) = instance["open_tasks"]

    response = client.post(f"/api/v1/instances/{instance['id']}/cancel", headers=anna.headers)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "cancelled"
    assert response.json["open_tasks"] == []

    after = client.get(f"/api/v1/instances/{instance['id']}", headers=anna.headers).json
    assert after["status"] == "cancelled"
    assert after["open_tasks"] == []
    assert client.get("/api/v1/tasks", headers=manager.headers).json == []
    late = complete(client, manager, approval["id"], {"manager_decision": "approve"})
    assert_error(late, 409)

    actions = [(e["action"], e["actor"]) for e in history(client, anna, instance["id"])]
    assert actions[-2:] == [("task.cancelled", anna.email), ("instance.cancelled", anna.email)]

    again = client.post(f"/api/v1/instances/{instance['id']}/cancel", headers=anna.headers)
    body = assert_error(again, 409)
    assert "cancelled" in body["message"]
    assert [e["action"] for e in history(client, anna, instance["id"])].count("instance.cancelled") == 1


def test_the_manager_may_not_cancel(client, org, leave_definition):
    anna, manager = org["employee_sales_1"], org["manager_sales"]
    instance = started(client, anna)
    body = assert_error(
        client.post(f"/api/v1/instances/{instance['id']}/cancel", headers=manager.headers), 403
    )
    assert "initiator" in body["message"]
    assert_error(client.post(f"/api/v1/instances/{instance['id']}/cancel", headers=org["hr"].headers), 403)
    after = client.get(f"/api/v1/instances/{instance['id']}", headers=anna.headers).json
    assert after["status"] == "running"
    assert len(client.get("/api/v1/tasks", headers=manager.headers).json) == 1


def test_an_admin_may_cancel_anyones_request(client, org, admin, leave_definition):
    vera = org["employee_ops_1"]
    instance = started(client, vera)
    response = client.post(f"/api/v1/instances/{instance['id']}/cancel", headers=admin.headers)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "cancelled"
    assert client.get("/api/v1/tasks", headers=org["manager_ops"].headers).json == []
    (last,) = history(client, vera, instance["id"])[-1:]
    assert (last["action"], last["actor"]) == ("instance.cancelled", admin.email)
    assert_error(client.post(f"/api/v1/instances/{instance['id']}/cancel", headers=admin.headers), 409)


def test_a_completed_request_cannot_be_cancelled(client, org, leave_definition):
    anna, manager = org["employee_sales_1"], org["manager_sales"]
    instance = started(client, anna)
    (approval,) = instance["open_tasks"]
    rejected = complete(
        client, manager, approval["id"], {"manager_decision": "reject", "manager_comment": "no"}
    )
    assert rejected.status_code == 200, rejected.json
    body = assert_error(client.post(f"/api/v1/instances/{instance['id']}/cancel", headers=anna.headers), 409)
    assert "completed" in body["message"]
    assert (
        client.get(f"/api/v1/instances/{instance['id']}", headers=anna.headers).json["status"] == "completed"
    )
