"""A route that fails while it runs is rolled back whole, and the caller is told where it failed."""

from __future__ import annotations

import pytest

from engine.db import session_scope
from engine.errors import InstanceFailed, InvalidBundle
from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, TaskStatus
from engine.services import tasks
from tests.engine.helpers import bundle_file, count, deploy, get_instance, only_open_task, start, user


def test_script_error_after_approval_rolls_the_step_back(session_factory, org):
    deploy(session_factory, bundle_file("failing/divide_after_approval.bpmn"))
    anna = org["employee_sales_1"]
    instance = start(session_factory, "divide_after_approval", anna, {"amount": 1000, "people": 0})
    task = only_open_task(session_factory, instance.id)
    events_before = count(session_factory, AuditEvent)

    with pytest.raises(InstanceFailed) as failure, session_scope(session_factory) as s:
        tasks.complete_task(s, task.id, actor=user(s, anna), data={})

    assert failure.value.details == {"element_id": "share"}
    assert "division by zero" in failure.value.message
    # Nothing of the step is stored: the task is still open and can be completed once fixed.
    assert only_open_task(session_factory, instance.id).status == TaskStatus.OPEN
    assert count(session_factory, AuditEvent) == events_before
    assert count(session_factory, HumanTask, HumanTask.status == TaskStatus.COMPLETED) == 0


def test_service_task_whose_operator_is_not_registered_is_refused_at_deploy(session_factory):
    # Service tasks run in the background now (tests/engine/test_service_tasks.py); one naming an
    # operator this installation lacks would fail on every run, so it is refused up front.
    with pytest.raises(InvalidBundle) as refused:
        deploy(session_factory, bundle_file("failing/notify_service.bpmn"))

    (entry,) = refused.value.details
    assert entry["element_id"] == "notify"
    assert "service task operator 'hr/notify' is not registered" in entry["message"]
    assert "webhook" in entry["message"]  # the message lists the operators available
    assert count(session_factory, ProcessDefinition) == 0


def test_script_values_beyond_json_are_stored_and_shown(session_factory, org):
    deploy(session_factory, bundle_file("failing/script_values.bpmn"))
    instance = start(session_factory, "script_values", org["employee_sales_1"], {"kind": "plain"})

    stored = get_instance(session_factory, instance.id)
    assert stored.data["tags"] == ["urgent"]
    assert stored.data["gap"] == "2 days, 0:00:00"
    review = only_open_task(session_factory, instance.id)
    assert review.element_id == "review"

    # The stored state reads back: the instance runs on to its end.
    with session_scope(session_factory) as s:
        tasks.complete_task(s, review.id, actor=user(s, org["employee_sales_1"]), data={})
    finished = get_instance(session_factory, instance.id)
    assert finished.status == "completed"
    assert finished.data["gap"] == "2 days, 0:00:00"


def test_a_value_that_cannot_be_stored_fails_the_step_and_stores_nothing(session_factory, org):
    deploy(session_factory, bundle_file("failing/script_values.bpmn"))

    with pytest.raises(InstanceFailed) as failure:
        start(session_factory, "script_values", org["employee_sales_1"], {"kind": "range"})

    assert "cannot be stored" in failure.value.message
    assert count(session_factory, ProcessInstance) == 0


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"forever": True, "exponent": 1}, "CPU time|loop steps"),
        ({"forever": False, "exponent": 10**8}, "more than 100,000 bits"),
    ],
    ids=["endless loop", "huge number"],
)
def test_runaway_script_fails_its_step_and_others_carry_on(session_factory, org, data, reason):
    deploy(session_factory, bundle_file("failing/runaway.bpmn"))
    anna = org["employee_sales_1"]

    with pytest.raises(InstanceFailed, match=reason) as failure:
        start(session_factory, "runaway", anna, data)
    assert failure.value.details == {"element_id": "spin"}

    calm = start(session_factory, "runaway", anna, {"forever": False, "exponent": 3})
    assert get_instance(session_factory, calm.id).data["size"] == 1000
    assert count(session_factory, ProcessInstance) == 1


def test_a_loop_with_no_way_out_is_stopped_and_stores_nothing(session_factory, org):
    deploy(session_factory, bundle_file("failing/endless_automatic_loop.bpmn"))

    with pytest.raises(InstanceFailed, match="automatic steps without waiting") as failure:
        start(session_factory, "endless_automatic_loop", org["employee_sales_1"], {"n": 0})

    assert failure.value.details["element_id"] in ("tick", "gate")
    assert count(session_factory, ProcessInstance) == 0
