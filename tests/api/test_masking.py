"""Fields marked "x-sensitive": masked for all but the person and HR, and every HR read accounted for."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.models import AuditEvent, ProcessInstance
from engine.services import process_hooks
from engine.services.masking import (
    ANY_ITEM,
    MASK,
    mask_data,
    restore_masked,
    schema_sensitive_paths,
    scrub_text,
)
from tests.api.helpers import LEAVE, assert_error, complete, started, upload

SENSITIVE = Path(__file__).resolve().parents[1] / "bundles" / "sensitive"
SICK = {
    "start": "2026-03-02",
    "end": "2026-03-06",
    "reason": "acute bronchitis",
    "pay": {"salary": 182500, "currency": "RUB"},
}
MASKED = {**SICK, "reason": MASK, "pay": {"salary": MASK, "currency": "RUB"}}


@pytest.fixture
def sick_leave(client, org):
    """The sick-leave test bundle, deployed by the designer."""
    files = {path.name: path.read_bytes() for path in sorted(SENSITIVE.iterdir())}
    response = upload(client, org["designer"], files)
    assert response.status_code == 201, response.json
    return response.json


def start_sick(client, person, data=None) -> dict:
    response = client.post(
        "/api/v1/definitions/sick_leave/instances", json={"data": data or SICK}, headers=person.headers
    )
    assert response.status_code == 201, response.json
    return response.json


def stored_data(session_factory, instance_id) -> dict:
    with session_scope(session_factory) as s:
        return s.get(ProcessInstance, uuid.UUID(instance_id)).data


def sensitive_reads(session_factory) -> list[AuditEvent]:
    with session_scope(session_factory) as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == "instance.sensitive_read"))
        events = list(rows)
        s.expunge_all()
        return events


def get(client, person, path):
    response = client.get(path, headers=person.headers)
    assert response.status_code == 200, (path, response.json)
    return response.json


# -- what each role sees -------------------------------------------------------------------------


def test_the_person_sees_their_own_sensitive_fields(client, org, sick_leave, session_factory):
    anna = org["employee_sales_1"]
    instance = start_sick(client, anna)
    assert instance["data"] == SICK  # the answer to the start itself
    assert get(client, anna, f"/api/v1/instances/{instance['id']}")["data"] == SICK
    task_id = instance["open_tasks"][0]["id"]
    assert get(client, anna, f"/api/v1/tasks/{task_id}")["data"] == SICK
    assert sensitive_reads(session_factory) == []  # reading one's own data is not accounted for


@pytest.mark.parametrize("who", ["manager_sales", "director"])
def test_managers_up_the_line_see_the_request_without_its_sensitive_fields(
    client, org, sick_leave, session_factory, who
):
    instance = start_sick(client, org["employee_sales_1"])
    body = get(client, org[who], f"/api/v1/instances/{instance['id']}")
    assert body["data"] == MASKED
    assert "bronchitis" not in str(body) and "182500" not in str(body)
    if who == "manager_sales":
        task = get(client, org[who], f"/api/v1/tasks/{instance['open_tasks'][0]['id']}")
        assert task["data"] == MASKED
    # Masking is only in the answer: the stored request keeps the real values.
    assert stored_data(session_factory, instance["id"]) == SICK
    assert sensitive_reads(session_factory) == []


@pytest.mark.parametrize("who", ["hr", "admin"])
def test_hr_and_admins_see_everything_and_each_read_is_audited(
    client, org, admin, sick_leave, session_factory, who
):
    anna = org["employee_sales_1"]
    reader = admin if who == "admin" else org[who]
    instance = start_sick(client, anna)
    task_id = instance["open_tasks"][0]["id"]

    assert get(client, reader, f"/api/v1/instances/{instance['id']}")["data"] == SICK
    assert get(client, reader, f"/api/v1/tasks/{task_id}")["data"] == SICK

    first, second = sensitive_reads(session_factory)
    for event in (first, second):
        assert event.actor_id == reader.id
        assert str(event.instance_id) == instance["id"]
        assert event.subject_id == anna.id
        assert event.details["fields"] == ["pay.salary", "reason"]
        assert "bronchitis" not in str(event.details) and "182500" not in str(event.details)
    assert first.task_id is None
    assert str(second.task_id) == task_id


def test_a_read_without_sensitive_values_is_not_audited(client, org, leave_definition, session_factory):
    instance = started(client, org["employee_sales_1"])
    assert (
        get(client, org["hr"], f"/api/v1/instances/{instance['id']}")["data"]["leave_type"]
        == LEAVE["leave_type"]
    )
    assert sensitive_reads(session_factory) == []


def test_lists_carry_no_request_data(client, org, sick_leave):
    start_sick(client, org["employee_sales_1"])
    for who in ("manager_sales", "employee_sales_1", "hr"):
        for path in ("/api/v1/instances", "/api/v1/tasks"):
            assert "bronchitis" not in client.get(path, headers=org[who].headers).get_data(as_text=True)


def test_the_colleague_and_the_designer_do_not_see_the_request_at_all(client, org, sick_leave):
    instance = start_sick(client, org["employee_sales_1"])
    task_id = instance["open_tasks"][0]["id"]
    for who in ("employee_sales_2", "designer"):
        for path in (f"/api/v1/instances/{instance['id']}", f"/api/v1/tasks/{task_id}"):
            body = assert_error(client.get(path, headers=org[who].headers), 404)
            assert "bronchitis" not in str(body)
    # The designer still sees the bundle they deployed, sensitive markers and all.
    definition = get(client, org["designer"], "/api/v1/definitions/sick_leave")
    assert definition["start_form_schema"]["properties"]["reason"]["x-sensitive"] is True


class _FiledForSomeoneElse(process_hooks.ProcessHooks):
    """Hooks saying a sick-leave request is about another person than its filer (as a bonus is)."""

    key = "sick_leave"

    def __init__(self, subject: int | None):
        self.subject = subject

    def subject_id(self, instance):
        return self.subject


@pytest.fixture
def filed_for(org):
    """Install hooks naming the subject of sick_leave requests; removed after the test."""

    def install(subject: int | None) -> None:
        process_hooks.register(_FiledForSomeoneElse(subject))

    yield install
    process_hooks.unregister("sick_leave")


@pytest.mark.parametrize("subject", ["employee_sales_2", None])
def test_a_filer_who_is_not_the_subject_sees_the_sensitive_fields_masked(
    client, org, sick_leave, filed_for, subject
):
    filed_for(org[subject].id if subject else None)
    anna = org["employee_sales_1"]
    instance = start_sick(client, anna)

    assert instance["data"] == MASKED  # the answer to the start itself
    assert get(client, anna, f"/api/v1/instances/{instance['id']}")["data"] == MASKED
    assert get(client, org["hr"], f"/api/v1/instances/{instance['id']}")["data"] == SICK


# -- writing through a masked form -------------------------------------------------------------


def test_an_approver_submitting_the_masked_form_keeps_the_stored_values(
    client, org, sick_leave, session_factory
):
    anna, manager = org["employee_sales_1"], org["manager_sales"]
    instance = start_sick(client, anna)
    task = get(client, manager, f"/api/v1/tasks/{instance['open_tasks'][0]['id']}")
    # The manager sends the form back as it was shown, masked values included; salary is a
    # number in the schema, so "*****" would fail validation if it were taken literally.
    submitted = {"manager_decision": "approve", "reason": task["data"]["reason"], "pay": task["data"]["pay"]}
    assert submitted["reason"] == MASK and submitted["pay"]["salary"] == MASK
    done = complete(client, manager, task["id"], submitted)
    assert done.status_code == 200, done.json

    data = stored_data(session_factory, instance["id"])
    assert data["reason"] == "acute bronchitis"
    assert data["pay"] == {"salary": 182500, "currency": "RUB"}
    assert data["manager_decision"] == "approve"
    assert get(client, anna, f"/api/v1/instances/{instance['id']}")["data"]["reason"] == "acute bronchitis"


def test_an_approver_may_still_replace_a_sensitive_value(client, org, sick_leave, session_factory):
    instance = start_sick(client, org["employee_sales_1"])
    task_id = instance["open_tasks"][0]["id"]
    done = complete(client, org["manager_sales"], task_id, {"manager_decision": "approve", "reason": "ORVI"})
    assert done.status_code == 200, done.json
    assert stored_data(session_factory, instance["id"])["reason"] == "ORVI"
    # ... and what they wrote is masked for them from now on.
    body = get(client, org["manager_sales"], f"/api/v1/instances/{instance['id']}")
    assert body["data"]["reason"] == MASK


def test_a_masked_value_where_nothing_is_stored_is_refused_like_any_bad_value(client, org, sick_leave):
    instance = start_sick(
        client, org["employee_sales_1"], {"start": "2026-03-02", "end": "2026-03-03", "reason": "x"}
    )
    task_id = instance["open_tasks"][0]["id"]
    body = complete(
        client,
        org["manager_sales"],
        task_id,
        {"manager_decision": "approve", "reason": "x", "pay": {"salary": MASK}},
    )
    body = assert_error(body, 422)
    assert "data.pay.salary" in {e["field"] for e in body["errors"]}


# -- the masking functions on their own ----------------------------------------------------------


def test_sensitive_paths_are_found_in_nested_referenced_and_array_schemas():
    schema = {
        "type": "object",
        "properties": {
            "reason": {"type": "string", "x-sensitive": True},
            "visible": {"type": "string", "x-sensitive": False},
            "pay": {"type": "object", "properties": {"salary": {"type": "number", "x-sensitive": True}}},
            "family": {"type": "array", "items": {"$ref": "#/$defs/relative"}},
            "notes": {"type": "array", "items": {"type": "string", "x-sensitive": True}},
        },
        "allOf": [{"properties": {"diagnosis": {"x-sensitive": True}}}],
        "$defs": {
            "relative": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "disability": {"x-sensitive": True}},
            },
            "loop": {"properties": {"self": {"$ref": "#/$defs/loop"}}},
        },
    }
    assert schema_sensitive_paths(schema) == {
        ("reason",),
        ("pay", "salary"),
        ("family", ANY_ITEM, "disability"),
        ("notes", ANY_ITEM),
        ("diagnosis",),
    }
    assert (
        schema_sensitive_paths(
            {
                "properties": {"a": {"$ref": "#/$defs/loop"}},
                "$defs": {"loop": {"properties": {"next": {"$ref": "#/$defs/loop"}}}},
            }
        )
        == set()
    )


def test_masking_copies_and_restoring_fills_only_masked_values():
    paths = {("reason",), ("family", ANY_ITEM, "disability"), ("absent",)}
    data = {"reason": "flu", "family": [{"name": "A", "disability": "II"}, {"name": "B"}], "n": 1}
    masked = mask_data(data, paths)
    assert masked == {"reason": MASK, "family": [{"name": "A", "disability": MASK}, {"name": "B"}], "n": 1}
    assert data["reason"] == "flu" and data["family"][0]["disability"] == "II"

    restored = restore_masked({**masked, "family": [{"disability": MASK}, {"disability": "I"}]}, data, paths)
    assert restored["reason"] == "flu"
    assert restored["family"] == [{"disability": "II"}, {"disability": "I"}]
    assert scrub_text("could not read 'acute flu'", ["acute flu"]) == f"could not read '{MASK}'"
