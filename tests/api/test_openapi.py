"""The published API description, and the one error shape every failure uses."""

from __future__ import annotations

import uuid

from tests.api.helpers import ERROR_KEYS, complete, started, upload

PATHS = {
    "/api/v1/definitions": {"get", "post"},
    "/api/v1/definitions/{key}": {"get"},
    "/api/v1/definitions/{key}/instances": {"post"},
    "/api/v1/instances": {"get"},
    "/api/v1/instances/{instance_id}": {"get"},
    "/api/v1/instances/{instance_id}/history": {"get"},
    "/api/v1/instances/{instance_id}/cancel": {"post"},
    "/api/v1/tasks": {"get"},
    "/api/v1/tasks/{task_id}": {"get"},
    "/api/v1/tasks/{task_id}/claim": {"post"},
    "/api/v1/tasks/{task_id}/complete": {"post"},
}


def test_the_openapi_document_needs_no_token_and_lists_every_path(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "approute"
    for path, methods in PATHS.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), (path, set(spec["paths"][path]))
    assert "bearer" in spec["components"]["securitySchemes"]


def test_the_openapi_document_describes_the_upload_and_the_idempotency_header(client):
    spec = client.get("/api/v1/openapi.json").json
    upload_body = spec["paths"]["/api/v1/definitions"]["post"]["requestBody"]["content"]
    assert "files" in upload_body["multipart/form-data"]["schema"]["properties"]
    start = spec["paths"]["/api/v1/definitions/{key}/instances"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in start.get("parameters", [])]
    assert {"201", "409", "422"} <= set(start["responses"])


def test_every_error_has_the_same_shape(client, org, leave_definition):
    anna, manager = org["employee_sales_1"], org["manager_sales"]
    instance = started(client, anna)
    (approval,) = instance["open_tasks"]
    missing = uuid.uuid4()
    cancel_url = f"/api/v1/instances/{instance['id']}/cancel"

    answers = {
        401: [
            client.get("/api/v1/tasks"),
            client.get("/api/v1/tasks", headers={"Authorization": "Bearer nope"}),
        ],
        403: [
            upload(client, anna, {"x.bpmn": b"<x/>"}),
            client.post(cancel_url, headers=manager.headers),
            complete(client, anna, approval["id"], {"manager_decision": "approve"}),
        ],
        404: [
            client.get(f"/api/v1/instances/{missing}", headers=anna.headers),
            client.get(f"/api/v1/tasks/{missing}", headers=anna.headers),
            client.get("/api/v1/definitions/nope", headers=anna.headers),
            client.get("/api/v1/no-such-endpoint", headers=anna.headers),
        ],
        422: [
            client.post(
                "/api/v1/definitions/leave_request/instances", json={"data": {}}, headers=anna.headers
            ),
            complete(client, manager, approval["id"], {"manager_decision": "reject"}),
            client.get("/api/v1/instances?status=bogus", headers=anna.headers),
            client.get("/api/v1/tasks?limit=0", headers=anna.headers),
            upload(client, org["designer"], {"broken.bpmn": b"<not-closed>"}),
            client.post(
                "/api/v1/definitions",
                data={},
                content_type="multipart/form-data",
                headers=org["designer"].headers,
            ),
        ],
    }
    client.post(cancel_url, headers=anna.headers)
    answers[409] = [client.post(cancel_url, headers=anna.headers)]
    answers[405] = [client.delete("/api/v1/instances", headers=anna.headers)]

    wrong = [
        (status, response.request.method, response.request.path, response.get_data(as_text=True))
        for status, responses in answers.items()
        for response in responses
        if not _is_error(response, status)
    ]
    assert wrong == []


def _is_error(response, status: int) -> bool:
    if response.status_code != status or not response.is_json:
        return False
    body = response.json
    return (
        set(body) == ERROR_KEYS
        and body["code"] == status
        and isinstance(body["status"], str)
        and bool(body["message"])
    )
