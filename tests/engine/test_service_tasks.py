"""Service tasks run in the background: started in the step, completed by a job, retried, then an incident."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from engine import clock
from engine.db import session_scope
from engine.errors import Conflict, Forbidden
from engine.models import (
    AuditEvent,
    Incident,
    IncidentStatus,
    InstanceStatus,
    JobStatus,
    LeaveLedgerEntry,
    LedgerKind,
    Notification,
    OutboxJob,
    ProcessInstance,
)
from engine.services import incidents, instances, jobs, leave_ledger, outbox
from tests.engine import service_task_ops
from tests.engine.helpers import (
    VALID_LEAVE,
    bundle_file,
    count,
    deploy,
    get_instance,
    only_open_task,
    open_tasks,
    start,
    user,
)


@pytest.fixture
def route(session_factory):
    deploy(session_factory, bundle_file("service_tasks/call_then_review.bpmn"))


def _start(session_factory, org, fail_times: int):
    key = uuid.uuid4().hex
    data = {"key": key, "fail_times": fail_times, "amount": 21}
    return start(session_factory, "call_then_review", org["employee_sales_1"], data), key


def _jobs(session_factory, instance_id) -> list[OutboxJob]:
    with session_scope(session_factory) as s:
        query = select(OutboxJob).where(OutboxJob.instance_id == instance_id).order_by(OutboxJob.id)
        return list(s.scalars(query))


def _actions(session_factory, instance_id) -> list[AuditEvent]:
    with session_scope(session_factory) as s:
        query = select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
        return list(s.scalars(query))


def _incident(session_factory, instance_id) -> Incident:
    with session_scope(session_factory) as s:
        return s.scalars(select(Incident).where(Incident.instance_id == instance_id)).one()


def _exhaust(session_factory, background, instance_id) -> Incident:
    """Run the three attempts of test.flaky (retries=2, base 10 s), moving the clock past each wait."""
    background()
    clock.advance(timedelta(seconds=11))
    background()
    clock.advance(timedelta(seconds=101))
    background()
    return _incident(session_factory, instance_id)


def test_the_step_commits_with_the_task_started_and_its_job(session_factory, org, route):
    instance, _key = _start(session_factory, org, fail_times=0)

    assert open_tasks(session_factory, instance.id) == []
    assert get_instance(session_factory, instance.id).status == InstanceStatus.RUNNING
    (job,) = _jobs(session_factory, instance.id)
    assert job.kind == "service_task"
    assert job.status == JobStatus.PENDING
    assert job.payload == {"instance_id": str(instance.id), "task_id": job.payload["task_id"]}
    assert job.dedupe_key == f"svc:{job.payload['task_id']}:0"
    assert (job.max_attempts, job.backoff_base) == (3, 10.0)  # the operator's 2 retries, base 10 s


def test_the_job_completes_the_task_and_the_route_moves_on(session_factory, org, route, background):
    instance, key = _start(session_factory, org, fail_times=0)
    (job,) = _jobs(session_factory, instance.id)

    assert background() >= 1

    review = only_open_task(session_factory, instance.id)
    assert review.element_id == "review"
    stored = get_instance(session_factory, instance.id)
    task_id = job.payload["task_id"]
    assert stored.data["outcome"] == {"answer": 42, "calls": 1, "delivery_id": f"{instance.id}:{task_id}"}
    assert stored.error is None
    (done,) = _jobs(session_factory, instance.id)
    assert (done.status, done.attempts) == (JobStatus.DONE, 1)
    completed = [e for e in _actions(session_factory, instance.id) if e.action == "service_task.completed"]
    assert [e.details for e in completed] == [{"element_id": "call", "operator": "test.flaky", "attempt": 1}]
    assert key not in str(completed[0].details)  # parameter values stay out of the trail


def test_a_done_job_run_again_does_nothing(session_factory, org, route, background):
    instance, key = _start(session_factory, org, fail_times=0)
    (job,) = _jobs(session_factory, instance.id)
    background()

    assert jobs.execute(session_factory, job.id) == "skipped"
    # A second job for the same task (a delivery after the first one won) finds it completed.
    with session_scope(session_factory) as s:
        again = outbox.enqueue(s, "service_task", job.payload, instance_id=instance.id)
    assert jobs.execute(session_factory, again.id) == "done"

    assert service_task_ops.CALLS[key] == 1
    assert len(open_tasks(session_factory, instance.id)) == 1
    assert get_instance(session_factory, instance.id).data["outcome"]["calls"] == 1


def test_a_rolled_back_step_leaves_no_job(session_factory, org, route):
    with pytest.raises(RuntimeError), session_scope(session_factory) as s:
        instances.start_instance(
            s,
            key="call_then_review",
            actor=user(s, org["employee_sales_1"]),
            data={"key": "rolled-back", "fail_times": 0, "amount": 1},
        )
        s.flush()
        assert s.scalar(select(OutboxJob.id)) is not None
        raise RuntimeError("the request failed after the step")

    assert count(session_factory, OutboxJob) == 0
    assert count(session_factory, ProcessInstance) == 0


def test_failures_retry_with_backoff_then_open_an_incident(session_factory, org, route, background):
    instance, _key = _start(session_factory, org, fail_times=99)

    background()
    (job,) = _jobs(session_factory, instance.id)
    assert (job.status, job.attempts) == (JobStatus.PENDING, 1)
    assert "the HR system is down (call 1)" in job.last_error
    wait = job.available_at - clock.now()
    assert timedelta(seconds=9) < wait <= timedelta(seconds=10)  # base 10 ** 1
    assert background() == 0  # nothing is due before then
    assert count(session_factory, Incident) == 0

    clock.advance(timedelta(seconds=11))
    background()
    (job,) = _jobs(session_factory, instance.id)
    assert job.attempts == 2
    assert timedelta(seconds=99) < job.available_at - clock.now() <= timedelta(seconds=100)  # 10 ** 2

    clock.advance(timedelta(seconds=101))
    background()
    (job,) = _jobs(session_factory, instance.id)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
    incident = _incident(session_factory, instance.id)
    assert incident.status == IncidentStatus.OPEN
    assert (incident.kind, incident.element_id, incident.operator) == ("service_task", "call", "test.flaky")
    assert (incident.attempts, incident.job_id) == (3, job.id)
    assert incident.error == "ConnectionError: the HR system is down (call 3)"
    assert "service_task_ops.py" in incident.traceback and "ConnectionError" in incident.traceback
    stored = get_instance(session_factory, instance.id)
    assert stored.status == InstanceStatus.RUNNING
    assert (
        stored.error
        == "service task 'call' failed after 3 attempt(s): ConnectionError: the HR system is down (call 3)"
    )
    assert open_tasks(session_factory, instance.id) == []
    opened = [e for e in _actions(session_factory, instance.id) if e.action == "incident.opened"]
    assert opened[0].details["incident_id"] == incident.id
    with session_scope(session_factory) as s:
        told = s.scalars(select(Notification).where(Notification.kind == "incident_opened")).all()
        assert [n.user_id for n in told] == [org["hr"].id]  # HR, the one holder of the role
        assert told[0].instance_id == instance.id and "error" not in told[0].params


def test_retry_after_an_incident_runs_the_operator_again(session_factory, org, route, background):
    instance, key = _start(session_factory, org, fail_times=3)
    incident = _exhaust(session_factory, background, instance.id)

    with session_scope(session_factory) as s:
        resolved = incidents.retry(s, incident.id, actor=user(s, org["hr"]))
        assert (resolved.status, resolved.resolution) == (IncidentStatus.RESOLVED, "retried")
    assert get_instance(session_factory, instance.id).error is None
    first, fresh = _jobs(session_factory, instance.id)
    assert first.status == JobStatus.FAILED
    assert (fresh.status, fresh.attempts, fresh.max_attempts) == (JobStatus.PENDING, 0, 3)
    assert fresh.dedupe_key.endswith(":1")

    background()
    assert only_open_task(session_factory, instance.id).element_id == "review"
    assert get_instance(session_factory, instance.id).data["outcome"]["calls"] == 4
    assert service_task_ops.CALLS[key] == 4
    with pytest.raises(Conflict, match="already resolved"), session_scope(session_factory) as s:
        incidents.retry(s, incident.id, actor=user(s, org["hr"]))


def test_skip_completes_the_task_with_the_given_output(session_factory, org, route, background):
    instance, key = _start(session_factory, org, fail_times=99)
    incident = _exhaust(session_factory, background, instance.id)

    with session_scope(session_factory) as s:
        incidents.skip(s, incident.id, actor=user(s, org["hr"]), output={"answer": 7, "by": "hand"})

    assert only_open_task(session_factory, instance.id).element_id == "review"
    stored = get_instance(session_factory, instance.id)
    assert stored.data["outcome"] == {"answer": 7, "by": "hand"}
    assert stored.error is None
    resolved = _incident(session_factory, instance.id)
    assert (resolved.resolution, resolved.resolution_data) == ("skipped", {"answer": 7, "by": "hand"})
    assert resolved.resolved_by_id == org["hr"].id
    calls = service_task_ops.CALLS[key]
    background()
    assert service_task_ops.CALLS[key] == calls  # the operator is not called again


def test_cancel_from_an_incident_cancels_the_request(session_factory, org, route, background):
    instance, _key = _start(session_factory, org, fail_times=99)
    incident = _exhaust(session_factory, background, instance.id)

    with session_scope(session_factory) as s:
        incidents.cancel(s, incident.id, actor=user(s, org["hr"]))

    assert get_instance(session_factory, instance.id).status == InstanceStatus.CANCELLED
    assert _incident(session_factory, instance.id).resolution == "cancelled"
    actions = [e.action for e in _actions(session_factory, instance.id)]
    assert actions[-2:] == ["incident.cancelled", "instance.cancelled"]
    with pytest.raises(Conflict), session_scope(session_factory) as s:
        incidents.skip(s, incident.id, actor=user(s, org["hr"]), output={})


def test_only_hr_and_admins_handle_incidents(session_factory, org, route, background):
    instance, _key = _start(session_factory, org, fail_times=99)
    incident = _exhaust(session_factory, background, instance.id)

    for action in (incidents.retry, incidents.cancel):
        with pytest.raises(Forbidden), session_scope(session_factory) as s:
            action(s, incident.id, actor=user(s, org["employee_sales_1"]))
    assert _incident(session_factory, instance.id).status == IncidentStatus.OPEN


def test_cancelling_the_request_closes_its_open_incident(session_factory, org, route, background):
    instance, _key = _start(session_factory, org, fail_times=99)
    incident = _exhaust(session_factory, background, instance.id)

    with session_scope(session_factory) as s:
        instances.cancel_instance(s, instance.id, actor=user(s, org["employee_sales_1"]))

    closed = _incident(session_factory, incident.instance_id)
    assert (closed.status, closed.resolution) == (IncidentStatus.RESOLVED, "cancelled")


# -- record_leave ---------------------------------------------------------------------------------


def test_record_leave_writes_unpaid_leave_as_used_once(session_factory, org, background):
    deploy(session_factory, bundle_file("service_tasks/record_leave.bpmn"))
    anna = org["employee_sales_1"]
    instance = start(session_factory, "record_leave_route", anna, dict(VALID_LEAVE))
    (job,) = _jobs(session_factory, instance.id)

    background()

    stored = get_instance(session_factory, instance.id)
    assert stored.status == InstanceStatus.COMPLETED
    assert stored.data["ledger"] == {"leave_type": "unpaid_agreed", "booked": True, "entries": 1}
    with session_scope(session_factory) as s:
        (entry,) = s.scalars(select(LeaveLedgerEntry).where(LeaveLedgerEntry.instance_id == instance.id))
        assert (entry.user_id, entry.kind, entry.days) == (anna.id, LedgerKind.USE, Decimal("5"))
        again = outbox.enqueue(s, "service_task", job.payload, instance_id=instance.id)
    assert jobs.execute(session_factory, again.id) == "done"
    assert count(session_factory, LeaveLedgerEntry, LeaveLedgerEntry.instance_id == instance.id) == 1


def test_record_leave_books_the_days_the_request_reserved(session_factory, org, background):
    deploy(session_factory, bundle_file("service_tasks/record_leave.bpmn"))
    anna = org["employee_sales_1"]
    data = {**VALID_LEAVE, "leave_type": "annual"}
    instance = start(session_factory, "record_leave_route", anna, data)
    with session_scope(session_factory) as s:
        leave_ledger.reserve(s, user(s, anna), "annual", 5, instance.id)

    background()

    assert get_instance(session_factory, instance.id).status == InstanceStatus.COMPLETED
    with session_scope(session_factory) as s:
        kinds = sorted(
            e.kind.value
            for e in s.scalars(select(LeaveLedgerEntry).where(LeaveLedgerEntry.instance_id == instance.id))
        )
    assert kinds == ["release", "reservation", "use"]


def test_a_notify_service_task_tells_hr_and_the_initiator_once(session_factory, org, background):
    deploy(session_factory, bundle_file("service_tasks/notify.bpmn"))
    instance = start(session_factory, "notify_then_review", org["employee_sales_1"], {"topic": "отпуск"})

    background()
    with session_scope(session_factory) as s:
        told = s.scalars(select(Notification).where(Notification.kind == "process_message")).all()
        assert sorted(n.user_id for n in told) == sorted([org["hr"].id, org["employee_sales_1"].id])
        assert told[0].params["subject"] == "Новая заявка: отпуск"
        assert s.get(ProcessInstance, instance.id).data["told"] == {"notified": 2}
    assert [t.element_id for t in open_tasks(session_factory, instance.id)] == ["review"]
    (job,) = _jobs(session_factory, instance.id)
    assert jobs.execute(session_factory, job.id) == "skipped"  # a second delivery tells no one again
    with session_scope(session_factory) as s:
        assert len(s.scalars(select(Notification).where(Notification.kind == "process_message")).all()) == 2
