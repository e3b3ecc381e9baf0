"""The leave request route end to end: start, approve or reject, register, cancel, and who sees what."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import (
    AuditEvent,
    HumanTask,
    IdempotencyKey,
    InstanceStatus,
    ProcessInstance,
    TaskCandidate,
    TaskStatus,
)
from engine.services import instances, tasks, users
from tests.engine.helpers import (
    VALID_LEAVE,
    bundle_file,
    complete,
    count,
    deploy,
    get_instance,
    inbox,
    leave_request_files,
    only_open_task,
    open_tasks,
    start,
    user,
)


@pytest.fixture
def leave_request(session_factory):
    return deploy(session_factory, leave_request_files())


ROUTE_STEPS = (
    "instance.",
    "task.",
)  # the leave route's own checks and bookkeeping are tested in tests/acceptance


def _actions(session_factory, instance_id) -> list[str]:
    """The instance's and its tasks' events, in chain order."""
    with session_scope(session_factory) as s:
        query = (
            select(AuditEvent.action)
            .where(AuditEvent.instance_id == instance_id)
            .order_by(AuditEvent.chain_seq)
        )
        return [action for action in s.scalars(query) if action.startswith(ROUTE_STEPS)]


def _cancel(session_factory, instance_id, person):
    with session_scope(session_factory) as s:
        return instances.cancel_instance(s, instance_id, actor=user(s, person))


def test_start_creates_a_running_instance_waiting_for_the_manager(session_factory, org, leave_request):
    anna = org["employee_sales_1"]

    instance = start(session_factory, "leave_request", anna, VALID_LEAVE)

    stored = get_instance(session_factory, instance.id)
    assert stored.status == InstanceStatus.RUNNING
    assert stored.initiator_id == anna.id
    assert stored.definition_id == leave_request.id
    assert {k: stored.data[k] for k in VALID_LEAVE} == VALID_LEAVE
    task = only_open_task(session_factory, instance.id)
    assert (task.element_id, task.name, task.lane) == ("manager_approval", "Approve leave", "Manager")
    assert task.form == "manager_approval.json"
    assert task.assignee_id == org["manager_sales"].id
    assert _actions(session_factory, instance.id) == ["instance.started", "task.created"]


def test_invalid_start_data_is_refused_per_field_and_stores_nothing(session_factory, org, leave_request):
    with session_scope(session_factory) as s, pytest.raises(InvalidData) as refused:
        instances.start_instance(
            s, key="leave_request", actor=user(s, org["employee_sales_1"]), data={"start": "2025-07-01"}
        )

    errors = {e["field"]: e["message"] for e in refused.value.details}
    assert errors == {
        "data.leave_type": "this field is required",
        "data.end": "this field is required",
    }
    assert count(session_factory, ProcessInstance) == 0
    assert count(session_factory, HumanTask) == 0
    assert count(session_factory, AuditEvent, AuditEvent.instance_id.is_not(None)) == 0


def test_start_data_outside_the_form_is_refused(session_factory, org, leave_request):
    data = {**VALID_LEAVE, "leave_type": "sabbatical", "salary": 1}
    with session_scope(session_factory) as s, pytest.raises(InvalidData) as refused:
        instances.start_instance(s, key="leave_request", actor=user(s, org["employee_sales_1"]), data=data)

    fields = {e["field"] for e in refused.value.details}
    assert fields == {"data.leave_type", "data.salary"}
    assert count(session_factory, ProcessInstance) == 0


def test_idempotency_key_replays_the_first_start(session_factory, org, leave_request):
    anna = org["employee_sales_1"]
    first = start(session_factory, "leave_request", anna, VALID_LEAVE, idempotency_key="form-42")

    with session_scope(session_factory) as s:
        again, created = instances.start_instance(
            s, key="leave_request", actor=user(s, anna), data=VALID_LEAVE, idempotency_key="form-42"
        )

    assert created is False
    assert again.id == first.id
    assert count(session_factory, ProcessInstance) == 1
    assert count(session_factory, HumanTask) == 1
    assert count(session_factory, IdempotencyKey) == 1


def test_business_key_is_unique_among_active_instances(session_factory, org, leave_request):
    anna, boris = org["employee_sales_1"], org["employee_sales_2"]
    first = start(session_factory, "leave_request", anna, VALID_LEAVE, business_key="LEAVE-2025-07")

    with session_scope(session_factory) as s, pytest.raises(Conflict, match="LEAVE-2025-07"):
        instances.start_instance(
            s, key="leave_request", actor=user(s, boris), data=VALID_LEAVE, business_key="LEAVE-2025-07"
        )
    assert count(session_factory, ProcessInstance) == 1

    _cancel(session_factory, first.id, anna)
    second = start(session_factory, "leave_request", boris, VALID_LEAVE, business_key="LEAVE-2025-07")
    assert second.id != first.id
    assert get_instance(session_factory, second.id).business_key == "LEAVE-2025-07"


def test_business_key_is_reusable_after_the_instance_completes(session_factory, org, leave_request):
    anna = org["employee_sales_1"]
    first = start(session_factory, "leave_request", anna, VALID_LEAVE, business_key="LEAVE-1")
    task = only_open_task(session_factory, first.id)
    complete(
        session_factory,
        task.id,
        org["manager_sales"],
        {"manager_decision": "reject", "manager_comment": "no"},
    )
    assert get_instance(session_factory, first.id).status == InstanceStatus.COMPLETED

    second = start(session_factory, "leave_request", anna, VALID_LEAVE, business_key="LEAVE-1")
    assert get_instance(session_factory, second.id).status == InstanceStatus.RUNNING


def test_approved_leave_goes_to_hr_and_completes(session_factory, org, leave_request):
    anna, manager, hr = org["employee_sales_1"], org["manager_sales"], org["hr"]
    instance = start(session_factory, "leave_request", anna, VALID_LEAVE)
    approval = only_open_task(session_factory, instance.id)

    complete(session_factory, approval.id, manager, {"manager_decision": "approve"})

    registration = only_open_task(session_factory, instance.id)
    assert registration.element_id == "hr_registration"
    assert registration.assignee_id is None
    with session_scope(session_factory) as s:
        candidates = s.scalars(select(TaskCandidate).where(TaskCandidate.task_id == registration.id)).all()
        assert [(c.user_id, c.role) for c in candidates] == [(None, "hr")]
        assert s.get(HumanTask, approval.id).status == TaskStatus.COMPLETED
        assert s.get(HumanTask, approval.id).completed_by_id == manager.id
    assert [t.id for t in inbox(session_factory, hr)] == [registration.id]
    assert inbox(session_factory, manager) == []

    complete(session_factory, registration.id, hr, {"order_number": "ОТП-117"})

    stored = get_instance(session_factory, instance.id)
    assert stored.status == InstanceStatus.COMPLETED
    assert stored.completed_at is not None
    submitted = {**VALID_LEAVE, "manager_decision": "approve", "order_number": "ОТП-117"}
    assert {key: stored.data[key] for key in submitted} == submitted
    assert stored.data["leave_status"] == "approved"
    assert open_tasks(session_factory, instance.id) == []
    assert _actions(session_factory, instance.id) == [
        "instance.started",
        "task.created",
        "task.completed",
        "task.created",
        "task.completed",
        "instance.completed",
    ]


def test_rejected_leave_completes_without_reaching_hr(session_factory, org, leave_request):
    instance = start(session_factory, "leave_request", org["employee_sales_1"], VALID_LEAVE)
    approval = only_open_task(session_factory, instance.id)

    complete(
        session_factory,
        approval.id,
        org["manager_sales"],
        {"manager_decision": "reject", "manager_comment": "Quarter close; please pick August."},
    )

    stored = get_instance(session_factory, instance.id)
    assert stored.status == InstanceStatus.COMPLETED
    assert stored.data["manager_decision"] == "reject"
    assert stored.data["manager_comment"] == "Quarter close; please pick August."
    assert count(session_factory, HumanTask, HumanTask.element_id == "hr_registration") == 0
    assert inbox(session_factory, org["hr"]) == []


def test_reject_without_a_comment_is_refused_and_the_task_stays_open(session_factory, org, leave_request):
    instance = start(session_factory, "leave_request", org["employee_sales_1"], VALID_LEAVE)
    approval = only_open_task(session_factory, instance.id)
    state_before = get_instance(session_factory, instance.id).state

    with pytest.raises(InvalidData) as refused:
        complete(session_factory, approval.id, org["manager_sales"], {"manager_decision": "reject"})

    assert {e["field"] for e in refused.value.details} == {"data.manager_comment"}
    assert only_open_task(session_factory, instance.id).id == approval.id
    assert get_instance(session_factory, instance.id).state == state_before


def test_completing_a_task_twice_is_a_conflict(session_factory, org, leave_request):
    instance = start(session_factory, "leave_request", org["employee_sales_1"], VALID_LEAVE)
    approval = only_open_task(session_factory, instance.id)
    complete(session_factory, approval.id, org["manager_sales"], {"manager_decision": "approve"})

    with pytest.raises(Conflict, match="already completed"):
        complete(
            session_factory,
            approval.id,
            org["manager_sales"],
            {"manager_decision": "reject", "manager_comment": "x"},
        )

    # The second attempt changed nothing: still exactly one HR task, decision unchanged.
    assert only_open_task(session_factory, instance.id).element_id == "hr_registration"
    assert get_instance(session_factory, instance.id).data["manager_decision"] == "approve"


def test_initiator_may_see_but_not_complete_the_managers_task(session_factory, org, leave_request):
    anna = org["employee_sales_1"]
    instance = start(session_factory, "leave_request", anna, VALID_LEAVE)
    approval = only_open_task(session_factory, instance.id)

    with session_scope(session_factory) as s:
        seen, _ = tasks.get_task(s, approval.id, viewer=user(s, anna))
        assert seen.id == approval.id
    with pytest.raises(Forbidden):
        complete(session_factory, approval.id, anna, {"manager_decision": "approve"})
    assert only_open_task(session_factory, instance.id).id == approval.id


def test_another_departments_task_is_not_found_for_an_unrelated_employee(session_factory, org, leave_request):
    instance = start(session_factory, "leave_request", org["employee_sales_1"], VALID_LEAVE)
    approval = only_open_task(session_factory, instance.id)
    vera = org["employee_ops_1"]

    with session_scope(session_factory) as s:
        with pytest.raises(NotFound):
            tasks.get_task(s, approval.id, viewer=user(s, vera))
        with pytest.raises(NotFound):
            instances.get_instance(s, instance.id, viewer=user(s, vera))
    with pytest.raises(NotFound):
        complete(session_factory, approval.id, vera, {"manager_decision": "approve"})
    # Another manager is just as unrelated.
    with pytest.raises(NotFound):
        complete(session_factory, approval.id, org["manager_ops"], {"manager_decision": "approve"})
    assert only_open_task(session_factory, instance.id).status == TaskStatus.OPEN


def test_cancel_by_the_initiator(session_factory, org, leave_request):
    anna = org["employee_sales_1"]
    instance = start(session_factory, "leave_request", anna, VALID_LEAVE)
    approval = only_open_task(session_factory, instance.id)

    _cancel(session_factory, instance.id, anna)

    stored = get_instance(session_factory, instance.id)
    assert stored.status == InstanceStatus.CANCELLED
    assert stored.completed_at is not None
    assert open_tasks(session_factory, instance.id) == []
    with session_scope(session_factory) as s:
        assert s.get(HumanTask, approval.id).status == TaskStatus.CANCELLED
    assert inbox(session_factory, org["manager_sales"]) == []
    assert _actions(session_factory, instance.id)[-2:] == ["task.cancelled", "instance.cancelled"]
    with pytest.raises(Conflict):
        complete(session_factory, approval.id, org["manager_sales"], {"manager_decision": "approve"})


def test_the_manager_may_not_cancel_but_an_admin_may(session_factory, org, leave_request):
    instance = start(session_factory, "leave_request", org["employee_sales_1"], VALID_LEAVE)
    with session_scope(session_factory) as s:
        admin_id = users.create_user(s, email="root@demo.approute.test", name="Админ", roles=["admin"]).id

    with pytest.raises(Forbidden):
        _cancel(session_factory, instance.id, org["manager_sales"])
    assert get_instance(session_factory, instance.id).status == InstanceStatus.RUNNING

    _cancel(session_factory, instance.id, admin_id)

    assert get_instance(session_factory, instance.id).status == InstanceStatus.CANCELLED
    with session_scope(session_factory) as s:
        cancelled = s.scalar(
            select(AuditEvent).where(
                AuditEvent.instance_id == instance.id, AuditEvent.action == "instance.cancelled"
            )
        )
        assert cancelled.actor_id == admin_id


def test_cancelling_twice_is_a_conflict(session_factory, org, leave_request):
    anna = org["employee_sales_1"]
    instance = start(session_factory, "leave_request", anna, VALID_LEAVE)
    _cancel(session_factory, instance.id, anna)

    with pytest.raises(Conflict, match="cancelled"):
        _cancel(session_factory, instance.id, anna)
    assert _actions(session_factory, instance.id).count("instance.cancelled") == 1


def test_a_completed_instance_cannot_be_cancelled(session_factory, org, leave_request):
    anna = org["employee_sales_1"]
    instance = start(session_factory, "leave_request", anna, VALID_LEAVE)
    approval = only_open_task(session_factory, instance.id)
    complete(
        session_factory,
        approval.id,
        org["manager_sales"],
        {"manager_decision": "reject", "manager_comment": "no"},
    )

    with pytest.raises(Conflict, match="completed"):
        _cancel(session_factory, instance.id, anna)
    assert get_instance(session_factory, instance.id).status == InstanceStatus.COMPLETED


def test_list_instances_shows_each_person_what_they_may_see(session_factory, org, leave_request):
    # The manager's own request uses a one-step route, since she has no manager to approve it.
    deploy(session_factory, bundle_file("assignment/lane_employee.bpmn"))
    anna_s = start(session_factory, "leave_request", org["employee_sales_1"], VALID_LEAVE).id
    boris_s = start(session_factory, "leave_request", org["employee_sales_2"], VALID_LEAVE).id
    vera_s = start(session_factory, "leave_request", org["employee_ops_1"], VALID_LEAVE).id
    managers_own = start(session_factory, "lane_employee", org["manager_sales"], {}).id

    def visible(person, **filters) -> set:
        with session_scope(session_factory) as s:
            return {i.id for i in instances.list_instances(s, viewer=user(s, person), **filters)}

    assert visible(org["employee_sales_1"]) == {anna_s}
    assert visible(org["employee_sales_2"]) == {boris_s}
    assert visible(org["manager_sales"]) == {anna_s, boris_s, managers_own}
    assert visible(org["manager_ops"]) == {vera_s}
    assert visible(org["hr"]) == {anna_s, boris_s, vera_s, managers_own}
    assert visible(org["hr"], key="lane_employee") == {managers_own}
    assert visible(org["employee_ops_2"]) == set()


def test_history_returns_the_events_in_order(session_factory, org, leave_request):
    anna, manager = org["employee_sales_1"], org["manager_sales"]
    instance = start(session_factory, "leave_request", anna, VALID_LEAVE)
    approval = only_open_task(session_factory, instance.id)
    complete(session_factory, approval.id, manager, {"manager_decision": "reject", "manager_comment": "no"})

    with session_scope(session_factory) as s:
        events = instances.history(s, instance.id, viewer=user(s, anna))
        trail = [(e.action, e.actor_id) for e in events if e.action.startswith(ROUTE_STEPS)]
        assert "decision.recorded" in {e.action for e in events}  # the route's checks show in the history
        with pytest.raises(NotFound):
            instances.history(s, instance.id, viewer=user(s, org["employee_ops_1"]))

    assert trail == [
        ("instance.started", anna.id),
        ("task.created", anna.id),
        ("task.completed", manager.id),
        ("instance.completed", manager.id),
    ]
