"""Many people (or many clicks) at once: exactly one wins, the rest are told why.

Each worker has its own test client, hence its own request and database session; a barrier
releases them together.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.api.helpers import LEAVE, approved_to_hr, history, started

WORKERS = 8


def all_at_once(app, call) -> list:
    """Run ``call(client)`` in WORKERS threads released together; returns (status, body) each."""
    barrier = threading.Barrier(WORKERS)

    def worker(_index):
        client = app.test_client()
        barrier.wait(timeout=60)
        response = call(client)
        return response.status_code, response.json, dict(response.headers)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(worker, range(WORKERS)))


def test_one_of_many_simultaneous_completions_wins(app, client, org, leave_definition):
    anna, manager, hr = org["employee_sales_1"], org["manager_sales"], org["hr"]
    instance = started(client, anna)
    (approval,) = instance["open_tasks"]

    results = all_at_once(
        app,
        lambda c: c.post(
            f"/api/v1/tasks/{approval['id']}/complete",
            json={"data": {"manager_decision": "approve"}},
            headers=manager.headers,
        ),
    )

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200] + [409] * (WORKERS - 1), [(s, b) for s, b, _ in results]
    for status, body, _ in results:
        if status == 409:
            assert set(body) == {"code", "status", "message", "errors"}
            assert "completed" in body["message"]

    events = history(client, anna, instance["id"])
    completions = [e for e in events if e["action"] == "task.completed" and e["task_id"] == approval["id"]]
    assert len(completions) == 1
    assert completions[0]["actor"] == manager.email
    hr_tasks_created = [e for e in events if e["action"] == "task.created" and e["task_id"] != approval["id"]]
    assert len(hr_tasks_created) == 1

    now = client.get(f"/api/v1/instances/{instance['id']}", headers=anna.headers).json
    assert now["status"] == "running"
    assert [t["element_id"] for t in now["open_tasks"]] == ["hr_registration"]
    assert len(client.get("/api/v1/tasks", headers=hr.headers).json) == 1
    assert client.get("/api/v1/tasks", headers=manager.headers).json == []


def test_one_of_many_simultaneous_claims_wins(app, client, org, make_person, leave_definition):
    anna, manager = org["employee_sales_1"], org["manager_sales"]
    clerks = [make_person(f"hr_clerk_{i}", "hr") for i in range(WORKERS)]
    instance, registration = approved_to_hr(client, anna, manager)
    turn = iter(clerks)
    lock = threading.Lock()

    def claim(c):
        with lock:
            clerk = next(turn)
        return c.post(f"/api/v1/tasks/{registration['id']}/claim", headers=clerk.headers)

    results = all_at_once(app, claim)

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200] + [409] * (WORKERS - 1), [(s, b) for s, b, _ in results]
    (winner,) = [body["assignee"] for status, body, _ in results if status == 200]
    assert winner in {clerk.email for clerk in clerks}
    task = client.get(f"/api/v1/tasks/{registration['id']}", headers=anna.headers).json
    assert task["assignee"] == winner
    claims = [e for e in history(client, anna, instance["id"]) if e["action"] == "task.claimed"]
    assert [e["actor"] for e in claims] == [winner]


def test_a_double_submit_with_one_idempotency_key_starts_one_instance(app, client, org, leave_definition):
    anna = org["employee_sales_1"]
    headers = {**anna.headers, "Idempotency-Key": "double-click-1"}

    results = all_at_once(
        app,
        lambda c: c.post(
            "/api/v1/definitions/leave_request/instances", json={"data": LEAVE}, headers=headers
        ),
    )

    assert [status for status, _, _ in results] == [201] * WORKERS, [(s, b) for s, b, _ in results]
    assert len({body["id"] for _, body, _ in results}) == 1
    replayed = sorted(h.get("Idempotent-Replayed") == "true" for _, _, h in results)
    assert replayed == [False] + [True] * (WORKERS - 1)
    assert len(client.get("/api/v1/instances", headers=anna.headers).json) == 1
    assert len(client.get("/api/v1/tasks", headers=org["manager_sales"].headers).json) == 1


def test_one_business_key_started_by_many_at_once_starts_one_instance(app, client, org, leave_definition):
    anna = org["employee_sales_1"]

    results = all_at_once(
        app,
        lambda c: c.post(
            "/api/v1/definitions/leave_request/instances",
            json={"data": LEAVE, "business_key": "LR-RACE"},
            headers=anna.headers,
        ),
    )

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] + [409] * (WORKERS - 1), [(s, b) for s, b, _ in results]
    (row,) = client.get("/api/v1/instances", headers=org["hr"].headers).json
    assert row["business_key"] == "LR-RACE"
