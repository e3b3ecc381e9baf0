"""In-app notifications through the API: what arrives, in which language, reading them; A23's notices."""

from __future__ import annotations

from sqlalchemy import select

from engine.db import session_scope
from engine.models import Notification
from tests.api.helpers import assert_error, complete, started

BASE = "/api/v1/notifications"


def _list(client, person, **query):
    response = client.get(BASE, query_string=query, headers=person.headers)
    assert response.status_code == 200, response.json
    return response.json


def test_a_new_task_tells_the_manager_in_the_app_in_russian(client, org, leave_definition):
    instance = started(client, org["employee_sales_1"])
    (task,) = instance["open_tasks"]

    (item,) = _list(client, org["manager_sales"])
    assert item["kind"] == "task_assigned"
    assert item["subject"] == "Новая задача: Approve leave"
    assert item["instance_id"] == instance["id"] and item["task_id"] == task["id"]
    assert item["link"].endswith(f"/api/v1/tasks/{task['id']}")
    assert item["read_at"] is None
    # Nobody else was told: the employee has no task, and other managers are not involved.
    assert _list(client, org["employee_sales_1"]) == []
    assert _list(client, org["manager_ops"]) == []


def test_the_initiator_is_told_the_decision_in_their_language(client, org, leave_definition):
    employee = org["employee_sales_1"]
    assert (
        client.patch("/api/v1/users/me", json={"language": "en"}, headers=employee.headers).status_code == 200
    )
    instance = started(client, employee)
    (task,) = instance["open_tasks"]
    done = complete(
        client,
        org["manager_sales"],
        task["id"],
        {"manager_decision": "reject", "manager_comment": "busy week"},
    )
    assert done.status_code == 200, done.json

    (item,) = _list(client, employee)
    assert item["kind"] == "request_decided"
    assert item["subject"].startswith("Your request") and item["subject"].endswith(": rejected")
    assert "has been decided: rejected" in item["body"]


def test_read_one_read_all_and_the_unread_filter(client, org, leave_definition):
    manager = org["manager_sales"]
    started(client, org["employee_sales_1"])
    started(client, org["employee_sales_2"])
    newest, oldest = _list(client, manager)
    assert newest["id"] > oldest["id"]

    marked = client.post(f"{BASE}/{oldest['id']}/read", headers=manager.headers)
    assert marked.status_code == 200 and marked.json["read_at"] is not None
    again = client.post(f"{BASE}/{oldest['id']}/read", headers=manager.headers)
    assert again.json["read_at"] == marked.json["read_at"]  # the first reading stays
    assert [n["id"] for n in _list(client, manager, unread="true")] == [newest["id"]]

    everything = client.post(f"{BASE}/read-all", headers=manager.headers)
    assert everything.status_code == 200 and everything.json == {"marked": 1}
    assert _list(client, manager, unread="true") == []
    assert len(_list(client, manager, limit=1)) == 1 and len(_list(client, manager, offset=1)) == 1


def test_someone_elses_notification_is_as_unknown_as_a_missing_one(
    client, org, leave_definition, session_factory
):
    started(client, org["employee_sales_1"])
    (item,) = _list(client, org["manager_sales"])

    other = client.post(f"{BASE}/{item['id']}/read", headers=org["manager_ops"].headers)
    missing = client.post(f"{BASE}/999999/read", headers=org["manager_ops"].headers)
    assert assert_error(other, 404)["message"] == f"no notification {item['id']}"
    assert assert_error(missing, 404)["message"] == "no notification 999999"
    assert client.post(f"{BASE}/read-all", headers=org["manager_ops"].headers).json == {"marked": 0}
    with session_scope(session_factory) as s:
        assert s.scalar(select(Notification.read_at).where(Notification.id == item["id"])) is None


def test_language_is_ru_or_en_and_nothing_else(client, org):
    person = org["employee_ops_1"]
    assert client.get("/api/v1/users/me", headers=person.headers).json["language"] == "ru"
    refused = client.patch("/api/v1/users/me", json={"language": "de"}, headers=person.headers)
    assert assert_error(refused, 422)["errors"]["json"]["language"] == ["Must be one of: ru, en."]
    missing = client.patch("/api/v1/users/me", json={}, headers=person.headers)
    assert "language" in assert_error(missing, 422)["errors"]["json"]
    assert client.get("/api/v1/users/me", headers=person.headers).json["language"] == "ru"


def test_limit_and_unread_are_checked(client, org):
    person = org["employee_ops_1"]
    assert (
        "limit" in assert_error(client.get(f"{BASE}?limit=0", headers=person.headers), 422)["errors"]["query"]
    )
    maybe = client.get(f"{BASE}?unread=maybe", headers=person.headers)
    assert "unread" in assert_error(maybe, 422)["errors"]["query"]


def test_the_request_is_named_in_the_readers_language(client, org, leave_definition, session_factory):
    started(client, org["employee_sales_1"])
    manager = org["manager_sales"]
    (item,) = client.get("/api/v1/notifications", headers=manager.headers).json
    assert "«Заявление на отпуск»" in item["subject"] + item["body"]

    assert (
        client.patch("/api/v1/users/me", json={"language": "en"}, headers=manager.headers).status_code == 200
    )
    (item,) = client.get("/api/v1/notifications", headers=manager.headers).json
    assert "Leave request" in item["subject"] + item["body"] and "Заявление" not in item["body"]
    definition = client.get("/api/v1/definitions/leave_request", headers=manager.headers).json
    assert definition["names"] == {"ru": "Заявление на отпуск", "en": "Leave request"}
