"""The world of the acceptance scenarios (hr-domain §8): the demo org, the shipped leave route, the
production calendar for the scenarios' years, a clock set to the scenario's day, and people hired for
one scenario. The Given part is set up directly where no API exists for it (a roster, a colleague's
hire date); everything a person does (submit, approve, register, read a balance) goes through the API.
"""

from __future__ import annotations

from datetime import date

import pytest

from engine.db import session_scope
from engine.services import org as org_service
from engine.services import person_facts, users
from engine.services.routes import leave
from rules.tables import production_calendar_rows
from tests.conftest import Person

SCENARIO_YEARS = (2023, 2025, 2026, 2027)


def put_table(client, hr, name: str, rows: list[dict]) -> dict:
    """HR replaces a rule table's rows; returns the new version's body."""
    response = client.put(
        f"/api/v1/rule-tables/{name}",
        json={"rows": rows, "comment": "scenario"},
        headers={**hr.headers, "If-Match": "*"},
    )
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def world(client, org, leave_definition):
    """The demo org with the leave route deployed and a calendar for 2023 and 2025-2027."""
    put_table(client, org["hr"], "production_calendar", production_calendar_rows(SCENARIO_YEARS))
    return org


@pytest.fixture
def clock(monkeypatch):
    """``clock(date(...))`` makes that day "today" for the leave route's checks."""

    def set_today(day: date) -> None:
        monkeypatch.setattr(leave, "today", lambda: day)

    return set_today


@pytest.fixture
def hire(session_factory, world):
    """``hire(name, department=..., manager=..., hire_date=..., flags=..., qualifications=...)``: a person."""

    def make(
        name: str,
        *,
        department: str = "SALES",
        manager: str | None = None,
        roles: tuple[str, ...] = ("employee",),
        hire_date: date | None = None,
        flags: dict | None = None,
        qualifications: list[person_facts.Qualification] = (),
    ) -> Person:
        with session_scope(session_factory) as s:
            user = users.create_user(
                s,
                email=f"{name}@acceptance.approute.test",
                name=name,
                roles=roles,
                manager_email=manager or world["manager_sales"].email,
                department=department,
            )
            user.hire_date = hire_date
            user.flags = dict(flags or {})
            if qualifications:
                person_facts._replace_qualifications(s, user.id, list(qualifications))
            token = users.create_token(s, email=user.email)
            return Person(user.id, user.email, token)

    return make


@pytest.fixture
def department(session_factory, world, hire):
    """``department(code, size)``: a department under HQ headed by a new manager with ``size - 1``
    employees; returns (head, [employees])."""

    def make(code: str, size: int) -> tuple[Person, list[Person]]:
        head = hire(
            f"{code.lower()}.head",
            department=code,
            manager=world["director"].email,
            roles=("manager", "employee"),
        )
        with session_scope(session_factory) as s:
            org_service.upsert_department(
                s,
                code=code,
                name=code,
                parent_code="HQ",
                head=s.get(users.User, head.id),
                hr_partner=s.get(users.User, world["hr"].id),
            )
        staff = [hire(f"{code.lower()}.{i}", department=code, manager=head.email) for i in range(1, size)]
        return head, staff

    return make


def adjust(client, hr, person, days, leave_type="annual") -> None:
    """HR posts a ledger adjustment for ``person``."""
    response = client.post(
        "/api/v1/leave/ledger",
        json={"email": person.email, "leave_type": leave_type, "days": days, "reason": "scenario"},
        headers=hr.headers,
    )
    assert response.status_code in (200, 201), response.json


def submit(client, person, leave_type, start, end, **extra):
    """The person submits a leave request; returns the response."""
    data = {"leave_type": leave_type, "start": start, "end": end, **extra}
    return client.post(
        "/api/v1/definitions/leave_request/instances", json={"data": data}, headers=person.headers
    )


def submitted(client, person, leave_type, start, end, **extra) -> dict:
    response = submit(client, person, leave_type, start, end, **extra)
    assert response.status_code == 201, response.json
    return response.json


def instance(client, person, instance_id) -> dict:
    response = client.get(f"/api/v1/instances/{instance_id}", headers=person.headers)
    assert response.status_code == 200, response.json
    return response.json


def only_task(client, person, instance_id) -> dict:
    (task,) = instance(client, person, instance_id)["open_tasks"]
    return task


def complete(client, person, task_id, data):
    return client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=person.headers)


def completed(client, person, task_id, data) -> None:
    response = complete(client, person, task_id, data)
    assert response.status_code == 200, response.json


def approve(client, manager, requester, instance_id) -> None:
    """The manager approves the request's open manager task."""
    task = only_task(client, requester, instance_id)
    assert task["element_id"] == "manager_approval", task
    completed(client, manager, task["id"], {"manager_decision": "approve"})


def register(client, hr, requester, instance_id) -> None:
    task = only_task(client, requester, instance_id)
    assert task["element_id"] == "hr_registration", task
    completed(client, hr, task["id"], {"order_number": "ОТ-1"})


def balance(client, hr, person, leave_type="annual", as_of: str | None = None) -> dict:
    query = f"/api/v1/leave/balance?email={person.email}" + (f"&as_of={as_of}" if as_of else "")
    response = client.get(query, headers=hr.headers)
    assert response.status_code == 200, response.json
    return response.json if leave_type is None else response.json["balances"][leave_type]


def rules_of(body: dict) -> dict[str, dict]:
    """A 422 body's errors by rule code."""
    return {e["rule"]: e for e in body["errors"]}


def decisions(client, person, instance_id) -> list[dict]:
    response = client.get(f"/api/v1/instances/{instance_id}/decisions", headers=person.headers)
    assert response.status_code == 200, response.json
    return response.json
