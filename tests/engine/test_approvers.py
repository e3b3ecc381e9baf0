"""Who approves: the resolvers, separation of duties and distinctApprover, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.errors import Forbidden, InstanceFailed
from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, TaskCandidate, TaskStatus
from engine.services import coordinators, instances, users
from engine.services import org as org_service
from tests.engine.helpers import (
    VALID_LEAVE,
    bundle_file,
    claim,
    complete,
    count,
    deploy,
    inbox,
    only_open_task,
    start,
    user,
)


def _start_one(session_factory, fixture: str, person, data=None) -> HumanTask:
    definition = deploy(session_factory, bundle_file(f"approvers/{fixture}.bpmn"))
    instance = start(session_factory, definition.key, person, data or {})
    return only_open_task(session_factory, instance.id)


def _created_event(session_factory, task: HumanTask) -> AuditEvent:
    with session_scope(session_factory) as s:
        return s.scalar(
            select(AuditEvent).where(AuditEvent.task_id == task.id, AuditEvent.action == "task.created")
        )


def _fails_and_stores_nothing(session_factory, org, fixture: str, person, match: str) -> InstanceFailed:
    definition = deploy(session_factory, bundle_file(f"approvers/{fixture}.bpmn"))
    with session_scope(session_factory) as s, pytest.raises(InstanceFailed, match=match) as failed:
        instances.start_instance(s, key=definition.key, actor=user(s, person), data={})
    assert failed.value.details == {"element_id": "approve"}
    assert count(session_factory, ProcessInstance) == 0
    assert count(session_factory, HumanTask) == 0
    assert count(session_factory, TaskCandidate) == 0
    assert count(session_factory, AuditEvent, AuditEvent.instance_id.is_not(None)) == 0
    return failed.value


# --- the resolvers ------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["manager_two_up", "lane_manager_two_up"])
def test_manager_of_level_two_is_the_managers_manager(session_factory, org, fixture):
    task = _start_one(session_factory, fixture, org["employee_sales_1"])

    assert task.assignee_id == org["director"].id
    assert [t.id for t in inbox(session_factory, org["director"])] == [task.id]
    assert inbox(session_factory, org["manager_sales"]) == []


def test_manager_of_beyond_the_top_fails_naming_element_and_what_is_missing(session_factory, org):
    # Marina's manager is the director, who has no manager: level 2 does not exist.
    failed = _fails_and_stores_nothing(
        session_factory, org, "manager_two_up", org["manager_sales"], "has no manager 2 levels up"
    )
    assert "task 'approve'" in failed.message
    assert org["manager_sales"].email not in failed.message  # no personal data in the message


def test_department_head_lane_goes_to_the_head_of_the_initiators_department(session_factory, org):
    task = _start_one(session_factory, "lane_department_head", org["employee_ops_2"])

    assert task.assignee_id == org["manager_ops"].id
    assert task.excluded_user_ids == [org["employee_ops_2"].id]


def test_department_without_a_head_fails_clearly(session_factory, org):
    with session_scope(session_factory) as s:
        org_service.upsert_department(s, code="FINANCE", name="Финансы", parent_code="HQ")

    _fails_and_stores_nothing(
        session_factory, org, "department_head_literal", org["employee_ops_1"], "'FINANCE' has no head"
    )


def test_unknown_department_fails_clearly(session_factory, org):
    _fails_and_stores_nothing(
        session_factory, org, "department_head_literal", org["employee_ops_1"], "no department 'FINANCE'"
    )


def test_hr_partner_of_the_initiators_department(session_factory, org):
    task = _start_one(session_factory, "hr_partner", org["employee_sales_2"])

    assert task.assignee_id == org["hr"].id


def test_coordinator_defaults_to_the_process_key(session_factory, org):
    with session_scope(session_factory) as s:
        coordinators.set_coordinator(
            s, request_type="coordinator", email=org["designer"].email, actor=user(s, org["hr"])
        )

    task = _start_one(session_factory, "coordinator", org["employee_sales_1"])

    assert task.assignee_id == org["designer"].id


def test_coordinator_of_another_request_type(session_factory, org):
    with session_scope(session_factory) as s:
        coordinators.set_coordinator(
            s, request_type="bonus_request", email=org["manager_ops"].email, actor=user(s, org["hr"])
        )

    task = _start_one(session_factory, "coordinator_named", org["employee_sales_1"])

    assert task.assignee_id == org["manager_ops"].id


def test_no_coordinator_named_fails_clearly(session_factory, org):
    _fails_and_stores_nothing(
        session_factory,
        org,
        "coordinator",
        org["employee_sales_1"],
        "no coordinator is named for 'coordinator'",
    )


@pytest.mark.parametrize(
    ("fixture", "role", "holder"),
    [("role_candidates", "designer", "designer"), ("lane_role_call", "hr", "hr")],
)
def test_role_opens_the_task_to_every_holder(session_factory, org, fixture, role, holder):
    task = _start_one(session_factory, fixture, org["employee_ops_1"])

    assert task.assignee_id is None
    with session_scope(session_factory) as s:
        roles = s.scalars(select(TaskCandidate.role).where(TaskCandidate.task_id == task.id)).all()
    assert roles == [role]
    assert [t.id for t in inbox(session_factory, org[holder])] == [task.id]
    assert inbox(session_factory, org["manager_ops"]) == []


# --- separation of duties -----------------------------------------------------------------------


def test_a_heads_own_request_goes_one_level_up(session_factory, org):
    task = _start_one(session_factory, "lane_department_head", org["manager_sales"])

    assert task.assignee_id == org["director"].id
    assert inbox(session_factory, org["manager_sales"]) == []
    created = _created_event(session_factory, task)
    assert created.details["reasons"] == ["one level up: separation of duties"]
    assert created.details["excluded"] == [org["manager_sales"].id]


def test_the_director_cannot_approve_their_own_request_when_nobody_is_above(session_factory, org):
    _fails_and_stores_nothing(
        session_factory, org, "lane_department_head", org["director"], "nobody above to approve"
    )


def test_a_task_given_back_to_the_initiator_on_purpose_is_theirs(session_factory, org):
    anna = org["employee_sales_1"]
    definition = deploy(session_factory, bundle_file("approvers/initiator_rework.bpmn"))
    instance = start(session_factory, definition.key, anna, {})
    complete(session_factory, only_open_task(session_factory, instance.id).id, org["manager_sales"], {})

    rework = only_open_task(session_factory, instance.id)
    assert rework.element_id == "rework"
    assert rework.assignee_id == anna.id
    assert rework.excluded_user_ids == []
    complete(session_factory, rework.id, anna, {})


def test_hr_cannot_complete_the_hr_step_of_their_own_request(session_factory, org, leave_definition):
    instance = start(session_factory, "leave_request", org["hr"], VALID_LEAVE)
    approval = only_open_task(session_factory, instance.id)
    assert approval.assignee_id == org["director"].id
    complete(session_factory, approval.id, org["director"], {"manager_decision": "approve"})
    registration = only_open_task(session_factory, instance.id)
    assert registration.element_id == "hr_registration"
    assert registration.excluded_user_ids == [org["hr"].id]

    assert inbox(session_factory, org["hr"]) == []
    with pytest.raises(Forbidden, match="separation of duties: you may not approve your own request"):
        claim(session_factory, registration.id, org["hr"])
    with pytest.raises(Forbidden, match="separation of duties"):
        complete(session_factory, registration.id, org["hr"], {"order_number": "42-о"})

    with session_scope(session_factory) as s:
        second = users.create_user(s, email="second.hr@demo.approute.test", name="Второй", roles=["hr"])
        second_id = second.id
    assert [t.id for t in inbox(session_factory, second_id)] == [registration.id]
    complete(session_factory, registration.id, second_id, {"order_number": "42-о"})
    with session_scope(session_factory) as s:
        done = s.get(HumanTask, registration.id)
        assert (done.status, done.completed_by_id) == (TaskStatus.COMPLETED, second_id)


def test_distinct_approver_sends_a_repeat_approval_one_level_up(session_factory, org):
    anna = org["employee_sales_1"]
    definition = deploy(session_factory, bundle_file("approvers/distinct_camunda.bpmn"))
    with session_scope(session_factory) as s:
        meta = s.get(ProcessDefinition, definition.id).task_meta
    assert [
        meta[e]["distinct_approver"] for e in ("first_approval", "second_approval", "third_approval")
    ] == [
        False,
        True,
        False,
    ]
    instance = start(session_factory, definition.key, anna, {})

    first = only_open_task(session_factory, instance.id)
    assert first.assignee_id == org["manager_sales"].id
    complete(session_factory, first.id, org["manager_sales"], {})

    second = only_open_task(session_factory, instance.id)
    assert second.assignee_id == org["director"].id
    assert set(second.excluded_user_ids) == {anna.id, org["manager_sales"].id}
    assert _created_event(session_factory, second).details["reasons"] == [
        "one level up: already approved an earlier step"
    ]
    complete(session_factory, second.id, org["director"], {})

    # The third step does not declare the rule, so the head approves again.
    third = only_open_task(session_factory, instance.id)
    assert third.assignee_id == org["manager_sales"].id


def test_distinct_approver_in_spiffworkflow_spelling(session_factory, org):
    definition = deploy(session_factory, bundle_file("approvers/distinct_spiff.bpmn"))
    instance = start(session_factory, definition.key, org["employee_sales_2"], {})
    complete(session_factory, only_open_task(session_factory, instance.id).id, org["manager_sales"], {})

    second = only_open_task(session_factory, instance.id)
    assert second.element_id == "second_approval"
    assert second.assignee_id == org["director"].id
