"""/api/v1/coordinators: HR names who receives each kind of request; routes find them."""

from __future__ import annotations

from sqlalchemy import select

from engine.db import session_scope
from engine.models import AuditEvent
from tests.api.helpers import assert_error, field_errors

URL = "/api/v1/coordinators"


def test_coordinators_need_a_signed_in_caller(client):
    assert_error(client.get(URL), 401)
    assert_error(client.put(f"{URL}/leave_request", json={"email": "x@y.z"}), 401)


def test_hr_names_and_removes_a_coordinator_everyone_can_see(client, org, admin):
    hr, designer = org["hr"], org["designer"]
    assert client.get(URL, headers=org["employee_ops_1"].headers).json == []

    put = client.put(f"{URL}/leave_request", json={"email": designer.email}, headers=hr.headers)
    assert put.status_code == 200, put.json
    assert put.json["coordinator"] == {"email": designer.email, "name": "Денис Схемов"}
    again = client.put(
        f"{URL}/leave_request", json={"email": org["manager_ops"].email}, headers=admin.headers
    )
    assert again.status_code == 200, again.json

    listed = client.get(URL, headers=org["employee_ops_1"].headers).json
    assert [(c["request_type"], c["coordinator"]["email"]) for c in listed] == [
        ("leave_request", org["manager_ops"].email)
    ]

    assert client.delete(f"{URL}/leave_request", headers=hr.headers).status_code == 204
    assert client.get(URL, headers=hr.headers).json == []
    assert_error(client.delete(f"{URL}/leave_request", headers=hr.headers), 404)


def test_only_hr_and_admins_name_coordinators(client, org):
    for who in ("employee_sales_1", "manager_sales", "designer"):
        person = org[who]
        assert_error(
            client.put(f"{URL}/leave_request", json={"email": person.email}, headers=person.headers), 403
        )
        assert_error(client.delete(f"{URL}/leave_request", headers=person.headers), 403)
    assert client.get(URL, headers=org["hr"].headers).json == []


def test_a_coordinator_must_be_an_active_user(client, org):
    body = assert_error(
        client.put(
            f"{URL}/leave_request", json={"email": "nobody@demo.approute.test"}, headers=org["hr"].headers
        ),
        422,
    )
    assert "email" in field_errors(body)
    assert_error(client.put(f"{URL}/leave_request", json={}, headers=org["hr"].headers), 422)
    assert client.get(URL, headers=org["hr"].headers).json == []


def test_naming_a_coordinator_is_audited_with_ids(client, org, session_factory):
    hr, designer = org["hr"], org["designer"]
    assert (
        client.put(f"{URL}/bonus_request", json={"email": designer.email}, headers=hr.headers).status_code
        == 200
    )
    assert client.delete(f"{URL}/bonus_request", headers=hr.headers).status_code == 204

    with session_scope(session_factory) as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action.like("coordinator.%"))).all()
        events = [(e.action, e.actor_id, e.details["request_type"], e.details["user_id"]) for e in rows]
        details = [str(e.details) for e in rows]
    assert sorted(events) == [
        ("coordinator.removed", hr.id, "bonus_request", designer.id),
        ("coordinator.set", hr.id, "bonus_request", designer.id),
    ]
    assert not any(designer.email in d for d in details)
