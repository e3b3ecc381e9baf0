"""Who gets a user task: lanes, camunda assignment attributes, and routes that name nobody."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.errors import Conflict, Forbidden, InstanceFailed
from engine.models import AuditEvent, HumanTask, InstanceStatus, ProcessInstance, TaskCandidate, TaskStatus
from engine.services import instances, users
from tests.engine.helpers import (
    bundle_file,
    claim,
    complete,
    count,
    deploy,
    get_instance,
    inbox,
    only_open_task,
    start,
    user,
)


def _start_one(session_factory, fixture: str, person, data=None) -> HumanTask:
    """Deploy a one-task fixture, start it as ``person`` and return its open task."""
    definition = deploy(session_factory, bundle_file(f"assignment/{fixture}.bpmn"))
    instance = start(session_factory, definition.key, person, data or {})
    return only_open_task(session_factory, instance.id)


def _candidates(session_factory, task: HumanTask) -> tuple[set[int], set[str]]:
    """The stored candidate users and roles of a task."""
    with session_scope(session_factory) as s:
        rows = s.scalars(select(TaskCandidate).where(TaskCandidate.task_id == task.id)).all()
    return {c.user_id for c in rows if c.user_id is not None}, {c.role for c in rows if c.role is not None}


@pytest.mark.parametrize("lane", ["lane_employee", "lane_initiator"])
def test_employee_and_initiator_lanes_go_to_the_initiator(session_factory, org, lane):
    task = _start_one(session_factory, lane, org["employee_ops_1"])

    assert task.assignee_id == org["employee_ops_1"].id
    assert _candidates(session_factory, task) == (set(), set())
    assert [t.id for t in inbox(session_factory, org["employee_ops_1"])] == [task.id]
    assert inbox(session_factory, org["manager_ops"]) == []


def test_manager_lane_goes_to_the_initiators_line_manager(session_factory, org):
    task = _start_one(session_factory, "lane_manager", org["employee_sales_2"])

    assert task.assignee_id == org["manager_sales"].id
    assert [t.id for t in inbox(session_factory, org["manager_sales"])] == [task.id]
    assert inbox(session_factory, org["manager_ops"]) == []
    assert inbox(session_factory, org["employee_sales_2"]) == []


@pytest.mark.parametrize("lane", ["lane_hr", "lane_hr_mixed_case"])
def test_hr_lane_is_open_to_the_hr_role(session_factory, org, lane):
    task = _start_one(session_factory, lane, org["employee_sales_1"])

    assert task.assignee_id is None
    assert _candidates(session_factory, task) == (set(), {"hr"})
    assert [t.id for t in inbox(session_factory, org["hr"])] == [task.id]
    assert inbox(session_factory, org["manager_sales"]) == []
    assert inbox(session_factory, org["employee_sales_1"]) == []

    complete(session_factory, task.id, org["hr"], {})
    with session_scope(session_factory) as s:
        done = s.get(HumanTask, task.id)
        assert done.status == TaskStatus.COMPLETED
        assert done.completed_by_id == org["hr"].id


def test_literal_assignee_wins_over_the_lane(session_factory, org):
    # The task sits in lane Manager, but camunda:assignee names Anna, so Vera's manager
    # does not get it.
    task = _start_one(session_factory, "assignee_literal", org["employee_ops_1"])

    assert task.assignee_id == org["employee_sales_1"].id
    assert [t.id for t in inbox(session_factory, org["employee_sales_1"])] == [task.id]
    assert inbox(session_factory, org["manager_ops"]) == []


def test_assignee_expression_takes_an_email_from_the_start_data(session_factory, org):
    task = _start_one(
        session_factory,
        "assignee_expression",
        org["employee_ops_1"],
        {"approver": org["employee_sales_2"].email},
    )

    assert task.assignee_id == org["employee_sales_2"].id
    with session_scope(session_factory) as s:
        created = s.scalar(
            select(AuditEvent).where(AuditEvent.task_id == task.id, AuditEvent.action == "task.created")
        )
        # The audit trail names people by id, never by e-mail (personal data).
        assert created.details["assignee"] == org["employee_sales_2"].id


def test_candidate_users_may_both_claim_until_one_does(session_factory, org):
    anna, boris = org["employee_sales_1"], org["employee_sales_2"]
    # Started by someone from another department, so only the candidacy connects them.
    task = _start_one(session_factory, "candidate_users", org["employee_ops_1"])

    assert task.assignee_id is None
    assert _candidates(session_factory, task) == ({anna.id, boris.id}, set())
    assert [t.id for t in inbox(session_factory, anna)] == [task.id]
    assert [t.id for t in inbox(session_factory, boris)] == [task.id]
    assert inbox(session_factory, org["manager_ops"]) == []

    claimed = claim(session_factory, task.id, anna)
    assert claimed.assignee_id == anna.id
    assert inbox(session_factory, boris) == []

    with pytest.raises(Conflict, match="already claimed"):
        claim(session_factory, task.id, boris)
    with pytest.raises(Forbidden):
        complete(session_factory, task.id, boris, {})

    complete(session_factory, task.id, anna, {})
    with session_scope(session_factory) as s:
        assert s.get(HumanTask, task.id).completed_by_id == anna.id


def test_candidate_group_is_open_to_that_role_only(session_factory, org):
    task = _start_one(session_factory, "candidate_groups", org["employee_ops_1"])

    assert task.assignee_id is None
    assert _candidates(session_factory, task) == (set(), {"designer"})
    assert [t.id for t in inbox(session_factory, org["designer"])] == [task.id]
    for other in ("hr", "manager_ops", "employee_ops_1", "employee_sales_1"):
        assert inbox(session_factory, org[other]) == [], other

    with pytest.raises(Forbidden):
        claim(session_factory, task.id, org["employee_ops_1"])
    complete(session_factory, task.id, org["designer"], {})
    with session_scope(session_factory) as s:
        assert s.get(HumanTask, task.id).status == TaskStatus.COMPLETED


def _assert_nothing_stored(session_factory) -> None:
    assert count(session_factory, ProcessInstance) == 0
    assert count(session_factory, HumanTask) == 0
    assert count(session_factory, TaskCandidate) == 0
    assert count(session_factory, AuditEvent, AuditEvent.instance_id.is_not(None)) == 0


def test_manager_lane_without_a_manager_fails_the_start(session_factory, org):
    definition = deploy(session_factory, bundle_file("assignment/lane_manager.bpmn"))

    # The director has no line manager. The error is caught inside the unit of work, so that its commit
    # would store anything the service left half-written.
    with session_scope(session_factory) as s, pytest.raises(InstanceFailed, match="line manager") as failed:
        instances.start_instance(s, key=definition.key, actor=user(s, org["director"]), data={})
    assert failed.value.details == {"element_id": "act"}
    assert org["director"].email in failed.value.message
    _assert_nothing_stored(session_factory)


def test_assignee_expression_naming_an_unknown_email_fails_the_start(session_factory, org):
    definition = deploy(session_factory, bundle_file("assignment/assignee_expression.bpmn"))

    unknown = "nobody@demo.approute.test"
    with (
        session_scope(session_factory) as s,
        pytest.raises(InstanceFailed, match=re.escape(unknown)) as failed,
    ):
        instances.start_instance(
            s, key=definition.key, actor=user(s, org["employee_ops_1"]), data={"approver": unknown}
        )
    assert failed.value.details == {"element_id": "act"}
    _assert_nothing_stored(session_factory)


def test_assignee_who_was_deactivated_fails_the_start(session_factory, org):
    with session_scope(session_factory) as s:
        user(s, org["employee_sales_1"]).is_active = False
    definition = deploy(session_factory, bundle_file("assignment/assignee_literal.bpmn"))

    with session_scope(session_factory) as s, pytest.raises(InstanceFailed, match="not an active user"):
        instances.start_instance(s, key=definition.key, actor=user(s, org["employee_ops_1"]), data={})
    _assert_nothing_stored(session_factory)


def test_lane_holder_added_later_sees_an_existing_hr_task(session_factory, org):
    """Role candidacy is evaluated when the inbox is read, not frozen at task creation."""
    task = _start_one(session_factory, "lane_hr", org["employee_sales_1"])
    with session_scope(session_factory) as s:
        users.create_user(s, email="second.hr@demo.approute.test", name="Второй Кадровик", roles=["hr"])
        newcomer = users.get_user_by_email(s, "second.hr@demo.approute.test").id

    assert [t.id for t in inbox(session_factory, newcomer)] == [task.id]
    assert get_instance(session_factory, task.instance_id).status == InstanceStatus.RUNNING
