"""HR exports a person's or a request's audit trail as CSV; admins check the chain over the API."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from engine.db import session_scope
from engine.models import AuditEvent
from engine.services import audit
from tests.api.helpers import approved_to_hr, assert_error, started

EXPORT = "/api/v1/audit/export.csv"


def rows_of(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # the BOM Excel needs for UTF-8
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_hr_exports_one_requests_trail(client, org, leave_definition):
    anna, manager, hr = org["employee_sales_1"], org["manager_sales"], org["hr"]
    instance, _hr_task = approved_to_hr(client, anna, manager)

    response = client.get(EXPORT, query_string={"instance_id": instance["id"]}, headers=hr.headers)

    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = rows_of(response)
    assert list(rows[0]) == [
        "seq", "at", "action", "actor", "on_behalf_of", "instance_id", "process_key", "task_element",
        "details", "hash",
    ]  # fmt: skip
    assert rows[0]["action"] == "instance.started" and rows[0]["actor"] == anna.email
    assert {r["instance_id"] for r in rows} == {instance["id"]}
    assert {r["process_key"] for r in rows} == {"leave_request"}
    completed = next(r for r in rows if r["action"] == "task.completed")
    assert completed["actor"] == manager.email
    assert completed["task_element"] == "manager_approval"
    assert [int(r["seq"]) for r in rows] == sorted(int(r["seq"]) for r in rows)
    assert all(r["at"].endswith("+00:00") and len(r["hash"]) == 64 for r in rows)
    json.loads(rows[0]["details"])


def test_export_of_a_person_covers_their_requests_and_actions_and_is_audited(
    client, org, leave_definition, session_factory
):
    anna, boris, manager, hr = (
        org["employee_sales_1"], org["employee_ops_1"], org["manager_sales"], org["hr"],
    )  # fmt: skip
    own = started(client, anna)
    other = started(client, boris)

    rows = rows_of(client.get(EXPORT, query_string={"email": anna.email.upper()}, headers=hr.headers))
    instance_ids = {r["instance_id"] for r in rows}
    assert own["id"] in instance_ids and other["id"] not in instance_ids

    manager_rows = rows_of(client.get(EXPORT, query_string={"email": manager.email}, headers=hr.headers))
    assert {r["instance_id"] for r in manager_rows} == set()  # has not acted yet, started nothing
    with session_scope(session_factory) as s:
        exported = s.scalars(select(AuditEvent).where(AuditEvent.action == "audit.exported")).all()
        assert [(e.actor_id, e.subject_id, e.details) for e in exported] == [
            (hr.id, anna.id, {"scope": "person"}),
            (hr.id, manager.id, {"scope": "person"}),
        ]


def test_export_has_cyrillic_readable(client, org, make_person, leave_definition):
    hr = org["hr"]
    started(client, org["employee_sales_1"], business_key="Отпуск-Иванова")
    rows = rows_of(
        client.get(EXPORT, query_string={"email": org["employee_sales_1"].email}, headers=hr.headers)
    )
    assert json.loads(rows[0]["details"])["business_key"] == "Отпуск-Иванова"


def test_export_is_for_hr_and_admin_with_exactly_one_parameter(client, org, admin, leave_definition):
    instance = started(client, org["employee_sales_1"])
    query = {"instance_id": instance["id"]}
    assert client.get(EXPORT, query_string=query).status_code == 401
    for person in (org["employee_sales_1"], org["manager_sales"], org["designer"], org["director"]):
        assert_error(client.get(EXPORT, query_string=query, headers=person.headers), 403)
    assert client.get(EXPORT, query_string=query, headers=admin.headers).status_code == 200

    hr = org["hr"].headers
    assert_error(client.get(EXPORT, headers=hr), 422)
    both = {"instance_id": instance["id"], "email": org["hr"].email}
    assert "exactly one" in json.dumps(assert_error(client.get(EXPORT, query_string=both, headers=hr), 422))
    assert_error(client.get(EXPORT, query_string={"instance_id": "not-a-uuid"}, headers=hr), 422)
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_error(client.get(EXPORT, query_string={"instance_id": unknown}, headers=hr), 404)
    assert_error(client.get(EXPORT, query_string={"email": "nobody@example.com"}, headers=hr), 404)


def test_verify_over_the_api_is_for_admins(client, org, admin, leave_definition, session_factory):
    started(client, org["employee_sales_1"])
    assert_error(client.get("/api/v1/audit/verify", headers=org["hr"].headers), 403)
    response = client.get("/api/v1/audit/verify", headers=admin.headers)
    assert response.status_code == 200, response.json
    with session_scope(session_factory) as s:
        expected = audit.verify(s).events
    assert response.json["intact"] is True
    assert response.json["events"] == expected > 0
    assert response.json["message"] == f"audit chain intact: {expected} events"
