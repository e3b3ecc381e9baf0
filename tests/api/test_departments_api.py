"""GET /api/v1/departments (the tree) and PUT /api/v1/departments/{code} (HR's corrections)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.models import AuditEvent, Department, User
from engine.services.users import create_user
from tests.api.helpers import assert_error, field_errors

DEMO_TREE = [("HQ", None), ("HR", "HQ"), ("OPS", "HQ"), ("SALES", "HQ")]


def tree(client, person) -> list[dict]:
    response = client.get("/api/v1/departments", headers=person.headers)
    assert response.status_code == 200, response.json
    return response.json


def put(client, person, code, body):
    return client.put(f"/api/v1/departments/{code}", json=body, headers=person.headers)


def test_any_signed_in_user_sees_the_tree_parents_first(client, org):
    departments = tree(client, org["employee_ops_1"])

    assert [(d["code"], d["parent_code"]) for d in departments] == DEMO_TREE
    sales = next(d for d in departments if d["code"] == "SALES")
    assert sales == {
        "code": "SALES",
        "name": "Отдел продаж",
        "parent_code": "HQ",
        "head": {"email": org["manager_sales"].email, "name": "Марина Продажина"},
        "hr_partner": {"email": org["hr"].email, "name": "Ольга Кадрова"},
    }


def test_the_tree_needs_a_token(client, org):
    assert_error(client.get("/api/v1/departments"), 401)
    assert_error(client.put("/api/v1/departments/SALES", json={"name": "x"}), 401)


@pytest.mark.parametrize("who", ["hr", "admin"])
def test_hr_or_admin_edits_a_department(client, org, admin, session_factory, who):
    person = admin if who == "admin" else org["hr"]

    response = put(
        client,
        person,
        "OPS",
        {"name": "Эксплуатация", "parent_code": "SALES", "head_email": org["employee_ops_1"].email.upper()},
    )

    assert response.status_code == 200, response.json
    assert response.json["name"] == "Эксплуатация"
    assert response.json["parent_code"] == "SALES"
    assert response.json["head"]["email"] == org["employee_ops_1"].email
    assert response.json["hr_partner"]["email"] == org["hr"].email  # left out, so kept
    with session_scope(session_factory) as s:
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "department.updated"))
        assert event.details == {"department": "OPS", "fields": ["head_id", "name", "parent_id"]}


def test_null_clears_a_link(client, org):
    response = put(client, org["hr"], "SALES", {"parent_code": None, "hr_partner_email": None})

    assert response.status_code == 200, response.json
    assert response.json["parent_code"] is None
    assert response.json["hr_partner"] is None
    assert response.json["head"]["email"] == org["manager_sales"].email


@pytest.mark.parametrize("who", ["employee_sales_1", "manager_sales", "designer"])
def test_others_may_not_edit(client, org, who):
    body = assert_error(put(client, org[who], "SALES", {"name": "Захват"}), 403)

    assert "hr" in body["message"]
    assert [d["name"] for d in tree(client, org["hr"]) if d["code"] == "SALES"] == ["Отдел продаж"]


def test_unknown_code_is_404(client, org):
    assert_error(put(client, org["hr"], "NOPE", {"name": "Ничто"}), 404)


def test_unknown_people_and_parent_are_422_and_change_nothing(client, org):
    response = put(
        client,
        org["hr"],
        "SALES",
        {
            "name": "Новое имя",
            "parent_code": "NOPE",
            "head_email": "nobody@example.com",
            "hr_partner_email": "ghost@example.com",
        },
    )

    body = assert_error(response, 422)
    assert set(field_errors(body)) == {"parent_code", "head_email", "hr_partner_email"}
    assert "nobody@example.com" not in str(body)
    sales = next(d for d in tree(client, org["hr"]) if d["code"] == "SALES")
    assert (sales["name"], sales["parent_code"]) == ("Отдел продаж", "HQ")


@pytest.mark.parametrize(("code", "parent"), [("HQ", "SALES"), ("SALES", "SALES")])
def test_a_parent_cycle_is_422(client, org, code, parent):
    body = assert_error(put(client, org["hr"], code, {"parent_code": parent}), 422)

    assert "cycle" in field_errors(body)["parent_code"]
    assert [(d["code"], d["parent_code"]) for d in tree(client, org["hr"])] == DEMO_TREE


def test_a_dismissed_person_cannot_head_a_department(client, org, session_factory):
    with session_scope(session_factory) as s:
        s.get(User, org["employee_sales_2"].id).is_active = False

    body = assert_error(put(client, org["hr"], "SALES", {"head_email": org["employee_sales_2"].email}), 422)

    assert field_errors(body) == {"head_email": "this user is dismissed"}


def test_a_new_users_department_joins_the_tree(client, org, session_factory):
    with session_scope(session_factory) as s:
        create_user(s, email="lab@x.example", name="Лаборант", roles=["employee"], department="LAB")
        assert s.scalar(select(Department.name).where(Department.code == "LAB")) == "LAB"

    assert "LAB" in [d["code"] for d in tree(client, org["hr"])]
