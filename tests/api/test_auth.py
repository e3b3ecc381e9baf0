"""Who gets in, and what the API answers those it keeps out."""

from __future__ import annotations

import uuid

import pytest

from tests.api.helpers import assert_error, leave_bundle, started, upload

PROTECTED = [
    ("get", "/api/v1/definitions"),
    ("get", "/api/v1/definitions/leave_request"),
    ("post", "/api/v1/definitions/leave_request/instances"),
    ("get", "/api/v1/instances"),
    ("get", f"/api/v1/instances/{uuid.UUID(int=1)}"),
    ("get", f"/api/v1/instances/{uuid.UUID(int=1)}/history"),
    ("post", f"/api/v1/instances/{uuid.UUID(int=1)}/cancel"),
    ("get", "/api/v1/tasks"),
    ("get", f"/api/v1/tasks/{uuid.UUID(int=1)}"),
    ("post", f"/api/v1/tasks/{uuid.UUID(int=1)}/claim"),
    ("post", f"/api/v1/tasks/{uuid.UUID(int=1)}/complete"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_endpoint_wants_a_token(client, org, leave_definition, method, path):
    response = getattr(client, method)(path, json={})
    body = assert_error(response, 401)
    assert "bearer" in body["message"].lower()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer art_not-a-real-token",
        "Bearer ",
        "Basic YWRtaW46YWRtaW4=",
        "art_token-without-scheme",
    ],
)
def test_a_bad_token_is_refused(client, org, header):
    response = client.get("/api/v1/instances", headers={"Authorization": header})
    assert_error(response, 401)


def test_another_users_token_with_a_typo_is_refused(client, org):
    token = org["hr"].token
    response = client.get("/api/v1/instances", headers={"Authorization": f"Bearer {token[:-1]}x"})
    assert_error(response, 401)


def test_a_valid_token_lets_the_caller_in(client, org):
    response = client.get("/api/v1/instances", headers=org["employee_sales_1"].headers)
    assert response.status_code == 200, response.json
    assert response.json == []


@pytest.mark.parametrize("who", ["employee_sales_1", "hr", "manager_sales"])
def test_deploying_needs_the_designer_or_admin_role(client, org, who):
    response = upload(client, org[who], leave_bundle())
    body = assert_error(response, 403)
    assert "designer" in body["message"]
    assert client.get("/api/v1/definitions", headers=org["designer"].headers).json == []


def test_an_admin_may_deploy(client, admin):
    response = upload(client, admin, leave_bundle())
    assert response.status_code == 201, response.json
    assert response.json["key"] == "leave_request"


def test_an_instance_of_someone_else_is_not_found_rather_than_forbidden(client, org, leave_definition):
    instance = started(client, org["employee_sales_1"])
    outsider = org["employee_ops_1"]
    for path in (f"/api/v1/instances/{instance['id']}", f"/api/v1/instances/{instance['id']}/history"):
        body = assert_error(client.get(path, headers=outsider.headers), 404)
        assert "employee_sales_1" not in body["message"]
    assert_error(client.post(f"/api/v1/instances/{instance['id']}/cancel", headers=outsider.headers), 404)
    (task,) = instance["open_tasks"]
    assert_error(client.get(f"/api/v1/tasks/{task['id']}", headers=outsider.headers), 404)
    assert_error(client.post(f"/api/v1/tasks/{task['id']}/claim", headers=outsider.headers), 404)
    assert_error(
        client.post(
            f"/api/v1/tasks/{task['id']}/complete",
            json={"data": {"manager_decision": "approve"}},
            headers=outsider.headers,
        ),
        404,
    )
    # Nothing the outsider tried changed the request.
    after = client.get(f"/api/v1/instances/{instance['id']}", headers=org["employee_sales_1"].headers).json
    assert after["status"] == "running"
    assert [t["id"] for t in after["open_tasks"]] == [task["id"]]
    assert after["open_tasks"][0]["assignee"] == org["manager_sales"].email
