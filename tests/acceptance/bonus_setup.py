"""Setting the scene for the bonus route's tests: the bundle deployed, salaries, funds, a CFO."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from engine.db import session_scope
from engine.models import User
from engine.services.definitions import deploy_bundle
from engine.services.users import create_token, create_user
from processes import PROCESS_DIR, bundle_files
from tests.conftest import Person

PERIOD = "2026-03"


def deploy_bonus(session_factory) -> None:
    """Deploy the shipped processes/bonus bundle."""
    with session_scope(session_factory) as s:
        deploy_bundle(s, bundle_files(PROCESS_DIR / "bonus"), actor=None)


def set_facts(session_factory, person: Person, *, salary=100_000, hired=date(2020, 1, 15)):
    """HR's facts about a person, set in the database (salary, hire date); sanctions go through the API."""
    with session_scope(session_factory) as s:
        user = s.get(User, person.id)
        user.monthly_salary = Decimal(salary) if salary is not None else None
        user.hire_date = hired


def make_cfo(session_factory, director: Person) -> Person:
    """A finance director reporting to the company director."""
    with session_scope(session_factory) as s:
        user = create_user(
            s, email="cfo@bonus.approute.test", name="CFO", roles=("employee",), manager_email=director.email
        )
        return Person(user.id, user.email, create_token(s, email=user.email))


def name_coordinator(client, hr: Person, step: str, person: Person) -> None:
    """HR names who acts on a step code of the chain (coordinator ``bonus.<step>``)."""
    response = client.put(
        f"/api/v1/coordinators/bonus.{step}", json={"email": person.email}, headers=hr.headers
    )
    assert response.status_code == 200, response.json


def set_fund(client, hr: Person, amount, *, department="SALES", period="2026-Q1") -> None:
    """HR sets the department's bonus fund through the rule-table API."""
    response = client.put(
        "/api/v1/rule-tables/bonus_funds",
        json={"rows": [{"department": department, "period": period, "amount": amount}], "comment": "test"},
        headers={**hr.headers, "If-Match": "*"},
    )
    assert response.status_code == 200, response.json


def file_bonus(client, manager: Person, employee: Person, bonus_type="kpi", amount=20_000, period=PERIOD):
    """A manager files a bonus; returns the response."""
    data = {
        "employee_email": employee.email,
        "bonus_type": bonus_type,
        "amount": amount,
        "period": period,
        "justification": "quarter targets met",
    }
    return client.post("/api/v1/definitions/bonus/instances", json={"data": data}, headers=manager.headers)


def approve(client, person: Person, task_id: str, decision="approve", comment=None):
    data = {"decision": decision} | ({"comment": comment} if comment else {})
    return client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=person.headers)


def instance(client, person: Person, instance_id: str) -> dict:
    response = client.get(f"/api/v1/instances/{instance_id}", headers=person.headers)
    assert response.status_code == 200, response.json
    return response.json


def decisions(client, person: Person, instance_id: str) -> list[dict]:
    response = client.get(f"/api/v1/instances/{instance_id}/decisions", headers=person.headers)
    assert response.status_code == 200, response.json
    return response.json
