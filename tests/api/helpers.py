"""Shared helpers of the API tests: requests people make, and the checks every answer gets."""

from __future__ import annotations

import io
from pathlib import Path

from processes import PROCESS_DIR, bundle_files
from tests.engine.helpers import VALID_LEAVE

# A week the real leave route accepts from a demo person (notice, balance, no holidays inside).
LEAVE = {**VALID_LEAVE, "comment": "family trip"}
BUNDLES = Path(__file__).resolve().parent / "bundles"
ERROR_KEYS = {"code", "status", "message", "errors"}


def leave_bundle() -> dict[str, bytes]:
    """The shipped leave_request bundle, file name to content."""
    return bundle_files(PROCESS_DIR / "leave_request")


def bundle_file(name: str) -> dict[str, bytes]:
    """One file from tests/api/bundles, as an upload."""
    return {name: (BUNDLES / name).read_bytes()}


def upload(client, person, files: dict[str, bytes]):
    """POST /api/v1/definitions with ``files`` as the multipart field `files`."""
    return client.post(
        "/api/v1/definitions",
        data={"files": [(io.BytesIO(content), name) for name, content in files.items()]},
        content_type="multipart/form-data",
        headers=person.headers,
    )


def start_leave(client, person, data=None, *, business_key=None, idempotency_key=None):
    """Start a leave request as ``person``; returns the response."""
    body = {"data": LEAVE if data is None else data}
    if business_key is not None:
        body["business_key"] = business_key
    headers = dict(person.headers)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return client.post("/api/v1/definitions/leave_request/instances", json=body, headers=headers)


def started(client, person, **kwargs) -> dict:
    """Start a leave request that must succeed; returns the instance JSON."""
    response = start_leave(client, person, **kwargs)
    assert response.status_code == 201, response.json
    return response.json


def complete(client, person, task_id, data):
    return client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=person.headers)


def approved_to_hr(client, initiator, manager) -> tuple[dict, dict]:
    """Start a leave request and have the manager approve it; returns (instance, HR task)."""
    instance = started(client, initiator)
    (approval,) = instance["open_tasks"]
    done = complete(client, manager, approval["id"], {"manager_decision": "approve"})
    assert done.status_code == 200, done.json
    body = client.get(f"/api/v1/instances/{instance['id']}", headers=initiator.headers).json
    (registration,) = body["open_tasks"]
    assert registration["element_id"] == "hr_registration"
    return instance, registration


def history(client, person, instance_id) -> list[dict]:
    response = client.get(f"/api/v1/instances/{instance_id}/history", headers=person.headers)
    assert response.status_code == 200, response.json
    return response.json


def assert_error(response, status: int) -> dict:
    """The answer has this status and the API's one error shape; returns the body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json, response.get_data(as_text=True)
    body = response.json
    assert set(body) == ERROR_KEYS, body
    assert body["code"] == status
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    return body


def field_errors(body: dict) -> dict[str, str]:
    """Per-field errors of a 422 body, field name to message."""
    return {e["field"]: e["message"] for e in body["errors"]}
