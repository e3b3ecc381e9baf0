"""GET /api/v1/definitions/{key}/route-preview: who would approve, in order, and nothing is stored."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from engine.models import AuditEvent, HumanTask, ProcessInstance, TaskCandidate
from engine.services import substitutes
from tests.api.helpers import LEAVE, assert_error, field_errors, upload
from tests.engine.helpers import bundle_file, count

STORED = (ProcessInstance, HumanTask, TaskCandidate, AuditEvent)


def _preview(client, person, key="leave_request", data=LEAVE):
    query = {"data": data if isinstance(data, str) else json.dumps(data)}
    return client.get(f"/api/v1/definitions/{key}/route-preview", query_string=query, headers=person.headers)


def _counts(session_factory) -> list[int]:
    return [count(session_factory, model) for model in STORED]


def _deploy(client, org, fixture: str) -> str:
    response = upload(client, org["designer"], bundle_file(f"approvers/{fixture}.bpmn"))
    assert response.status_code == 201, response.json
    return response.json["key"]


def test_preview_lists_the_approvers_in_order_and_writes_nothing(
    client, org, leave_definition, session_factory
):
    before = _counts(session_factory)

    response = _preview(client, org["employee_sales_1"])

    assert response.status_code == 200, response.json
    assert response.json["stopped"] == "end"
    steps = response.json["steps"]
    assert [s["element_id"] for s in steps] == ["manager_approval", "hr_registration"]
    assert steps[0]["assignee"] == {"email": org["manager_sales"].email, "name": "Марина Продажина"}
    assert steps[0]["candidates"] is None
    assert (steps[0]["on_behalf_of"], steps[0]["reason"]) == (None, None)
    assert steps[1]["assignee"] is None
    assert steps[1]["candidates"] == {"users": [], "roles": ["hr"]}
    assert _counts(session_factory) == before


def test_preview_needs_a_signed_in_caller(client, leave_definition):
    assert_error(client.get("/api/v1/definitions/leave_request/route-preview"), 401)


def test_preview_of_a_heads_own_request_goes_one_level_up(client, org, session_factory):
    key = _deploy(client, org, "lane_department_head")
    before = _counts(session_factory)

    response = _preview(client, org["manager_sales"], key=key, data={})

    assert response.status_code == 200, response.json
    (step,) = response.json["steps"]
    assert step["assignee"]["email"] == org["director"].email
    assert step["reason"] == "one level up: separation of duties"
    assert _counts(session_factory) == before


def test_preview_shows_the_substitute_of_someone_away(client, org, leave_definition):
    today = substitutes.today()
    away = {
        "substitute_email": org["manager_ops"].email,
        "from": today.isoformat(),
        "to": (today + timedelta(days=3)).isoformat(),
    }
    assert (
        client.put("/api/v1/users/me/away", json=away, headers=org["manager_sales"].headers).status_code
        == 200
    )

    (first, _hr) = _preview(client, org["employee_sales_2"]).json["steps"]

    assert first["assignee"]["email"] == org["manager_ops"].email
    assert first["on_behalf_of"]["email"] == org["manager_sales"].email


def test_preview_follows_distinct_approver(client, org):
    key = _deploy(client, org, "distinct_camunda")

    steps = _preview(client, org["employee_sales_1"], key=key, data={}).json["steps"]

    assert [s["assignee"]["email"] for s in steps] == [
        org["manager_sales"].email,
        org["director"].email,
        org["manager_sales"].email,
    ]
    assert steps[1]["reason"] == "one level up: already approved an earlier step"


@pytest.mark.parametrize("data", ["{not json", "[1, 2"])
def test_malformed_data_is_a_422_naming_data(client, org, leave_definition, data):
    body = assert_error(_preview(client, org["employee_sales_1"], data=data), 422)
    assert "data" in field_errors(body)


def test_data_failing_the_start_form_is_a_422_per_field(client, org, leave_definition):
    body = assert_error(_preview(client, org["employee_sales_1"], data={"leave_type": "annual"}), 422)
    assert "data.start" in field_errors(body)


def test_unknown_key_is_a_404(client, org):
    assert_error(_preview(client, org["employee_sales_1"], key="no_such_process"), 404)


def test_a_route_naming_nobody_is_a_422_naming_the_element(client, org, session_factory):
    key = _deploy(client, org, "department_head_literal")
    before = _counts(session_factory)

    body = assert_error(_preview(client, org["employee_ops_1"], key=key, data={}), 422)

    assert body["errors"] == {"element_id": "approve"}
    assert "no department 'FINANCE'" in body["message"]
    assert _counts(session_factory) == before
