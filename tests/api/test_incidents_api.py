"""/api/v1/incidents: HR sees service tasks that failed for good, and retries, skips or cancels."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from engine import clock
from engine.db import session_scope
from engine.services.definitions import deploy_bundle
from tests.api.helpers import assert_error
from tests.engine import service_task_ops
from tests.engine.helpers import bundle_file


@pytest.fixture
def failed(client, org, session_factory, background):
    """A request whose service task failed three times: (instance id, incident id, key)."""
    with session_scope(session_factory) as s:
        deploy_bundle(s, bundle_file("service_tasks/call_then_review.bpmn"), actor=None)
    key = uuid.uuid4().hex
    response = client.post(
        "/api/v1/definitions/call_then_review/instances",
        json={"data": {"key": key, "fail_times": 3, "amount": 21}},
        headers=org["employee_sales_1"].headers,
    )
    assert response.status_code == 201, response.json
    instance_id = response.json["id"]
    background()
    clock.advance(timedelta(seconds=11))
    background()
    clock.advance(timedelta(seconds=101))
    background()
    listed = client.get(
        "/api/v1/incidents", query_string={"instance_id": instance_id}, headers=org["hr"].headers
    )
    (incident,) = listed.json
    return instance_id, incident["id"], key


def _instance(client, org, instance_id) -> dict:
    response = client.get(f"/api/v1/instances/{instance_id}", headers=org["hr"].headers)
    assert response.status_code == 200, response.json
    return response.json


def test_hr_lists_open_incidents_and_reads_one_with_its_traceback(client, org, failed):
    instance_id, incident_id, _key = failed

    listed = client.get("/api/v1/incidents", query_string={"status": "open"}, headers=org["hr"].headers)
    assert listed.status_code == 200
    (row,) = [r for r in listed.json if r["id"] == incident_id]
    assert row["instance_id"] == instance_id
    assert row["instance_status"] == "running"
    assert row["process_key"] == "call_then_review"
    assert (row["element_id"], row["operator"], row["kind"]) == ("call", "test.flaky", "service_task")
    assert row["error"] == "ConnectionError: the HR system is down (call 3)"
    assert (row["attempts"], row["status"], row["resolution"]) == (3, "open", None)
    assert "traceback" not in row

    detail = client.get(f"/api/v1/incidents/{incident_id}", headers=org["hr"].headers)
    assert detail.status_code == 200
    assert "Traceback (most recent call last)" in detail.json["traceback"]
    resolved = client.get("/api/v1/incidents", query_string={"status": "resolved"}, headers=org["hr"].headers)
    assert incident_id not in [r["id"] for r in resolved.json]
    # The request shows what stopped it.
    assert "failed after 3 attempt(s)" in _instance(client, org, instance_id)["error"]


def test_bad_filters_and_unknown_incidents(client, org, failed):
    bad = assert_error(client.get("/api/v1/incidents?status=stuck", headers=org["hr"].headers), 422)
    assert "status" in str(bad["errors"])
    assert_error(client.get("/api/v1/incidents/987654", headers=org["hr"].headers), 404)
    assert_error(client.post("/api/v1/incidents/987654/retry", headers=org["hr"].headers), 404)


def test_people_outside_hr_are_refused(client, org, failed):
    _instance_id, incident_id, _key = failed
    employee = org["employee_sales_1"].headers  # the request's own initiator
    assert_error(client.get("/api/v1/incidents", headers=employee), 403)
    assert_error(client.get(f"/api/v1/incidents/{incident_id}", headers=employee), 403)
    assert_error(client.post(f"/api/v1/incidents/{incident_id}/cancel", headers=employee), 403)
    assert_error(client.get("/api/v1/incidents"), 401)


def test_retry_runs_it_again_and_the_request_moves_on(client, org, failed, background):
    instance_id, incident_id, key = failed

    retried = client.post(f"/api/v1/incidents/{incident_id}/retry", headers=org["hr"].headers)
    assert retried.status_code == 200, retried.json
    assert (retried.json["status"], retried.json["resolution"]) == ("resolved", "retried")
    assert retried.json["resolved_by"] == org["hr"].email
    assert_error(client.post(f"/api/v1/incidents/{incident_id}/retry", headers=org["hr"].headers), 409)

    background()

    body = _instance(client, org, instance_id)
    assert body["error"] is None
    assert [t["element_id"] for t in body["open_tasks"]] == ["review"]
    assert body["data"]["outcome"]["answer"] == 42
    assert service_task_ops.CALLS[key] == 4


def test_skip_needs_an_object_and_completes_the_task_with_it(client, org, failed):
    instance_id, incident_id, _key = failed
    url = f"/api/v1/incidents/{incident_id}/skip"

    for body in ({"data": [1, 2]}, {"data": "done"}, {}):
        refused = assert_error(client.post(url, json=body, headers=org["hr"].headers), 422)
        assert "data" in str(refused["errors"])
    skipped = client.post(url, json={"data": {"answer": 5}}, headers=org["hr"].headers)
    assert skipped.status_code == 200, skipped.json
    assert (skipped.json["resolution"], skipped.json["resolution_data"]) == ("skipped", {"answer": 5})

    body = _instance(client, org, instance_id)
    assert body["data"]["outcome"] == {"answer": 5}
    assert [t["element_id"] for t in body["open_tasks"]] == ["review"]
    assert_error(client.post(url, json={"data": {}}, headers=org["hr"].headers), 409)


def test_cancel_ends_the_request(client, org, failed):
    instance_id, incident_id, _key = failed

    cancelled = client.post(f"/api/v1/incidents/{incident_id}/cancel", headers=org["hr"].headers)
    assert cancelled.status_code == 200, cancelled.json
    assert (cancelled.json["resolution"], cancelled.json["instance_status"]) == ("cancelled", "cancelled")
    assert _instance(client, org, instance_id)["status"] == "cancelled"
    conflict = assert_error(
        client.post(f"/api/v1/incidents/{incident_id}/cancel", headers=org["hr"].headers), 409
    )
    assert "already resolved" in conflict["message"]
