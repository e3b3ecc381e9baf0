"""A step that fails mid-route is rolled back, answered with 422, and noted on the instance."""

from __future__ import annotations

from tests.api.helpers import assert_error, bundle_file, complete, upload


def test_a_failed_step_shows_on_the_instance_and_its_task_stays_open(client, org):
    assert upload(client, org["designer"], bundle_file("divide_after_approval.bpmn")).status_code == 201
    anna = org["employee_sales_1"]
    started = client.post(
        "/api/v1/definitions/divide_after_approval/instances",
        json={"data": {"amount": 1000, "people": 0}},
        headers=anna.headers,
    ).json
    (approve,) = started["open_tasks"]

    failed = complete(client, anna, approve["id"], {})

    body = assert_error(failed, 422)
    assert body["errors"] == {"element_id": "share"}
    assert "division by zero" in body["message"]
    instance = client.get(f"/api/v1/instances/{started['id']}", headers=anna.headers).json
    assert instance["status"] == "running"
    assert "division by zero" in instance["error"]
    assert [t["id"] for t in instance["open_tasks"]] == [approve["id"]]  # nothing of the step was kept
    history = client.get(f"/api/v1/instances/{started['id']}/history", headers=anna.headers).json
    (failure,) = [e for e in history if e["action"] == "step.failed"]
    assert (failure["actor"], failure["task_id"], failure["details"]["element_id"]) == (
        anna.email,
        approve["id"],
        "share",
    )
    assert not any(e["action"] == "task.completed" for e in history)
