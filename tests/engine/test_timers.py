"""Timers as due rows: BPMN timer events fire through the scheduler when the clock passes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine import clock
from engine.db import session_scope
from engine.errors import Conflict
from engine.models import (
    AuditEvent,
    HumanTask,
    Incident,
    Notification,
    ProcessDefinition,
    ProcessInstance,
    TaskStatus,
    Timer,
    TimerKind,
    TimerStatus,
    User,
)
from engine.services import incidents, timers
from tests.engine.helpers import bundle_file, deploy, only_open_task, start


def timer_rows(factory, **where) -> list[Timer]:
    with session_scope(factory) as s:
        query = select(Timer).where(Timer.kind != TimerKind.SCHEDULE).order_by(Timer.id)
        for column, value in where.items():
            query = query.where(getattr(Timer, column) == value)
        return list(s.scalars(query))


def started(factory, name, person):
    deploy(factory, bundle_file(f"timers/{name}.bpmn"))
    return start(factory, name, person, {})


def test_a_boundary_timer_fires_once_the_clock_passes_it(session_factory, org, background, move_clock):
    began = clock.now()
    instance = started(session_factory, "boundary_timer", org["employee_sales_1"])
    (row,) = timer_rows(session_factory, instance_id=instance.id)
    assert (row.kind, row.status, row.name) == (TimerKind.BPMN, TimerStatus.PENDING, "review_late")
    assert began + timedelta(hours=48) <= row.due_at <= clock.now() + timedelta(hours=48)

    move_clock(row.due_at - timedelta(minutes=1))
    background()
    assert only_open_task(session_factory, instance.id).element_id == "review"
    assert timer_rows(session_factory, id=row.id)[0].status == TimerStatus.PENDING

    move_clock(row.due_at + timedelta(minutes=1))
    background()
    assert only_open_task(session_factory, instance.id).element_id == "hr_review"
    (fired,) = timer_rows(session_factory, id=row.id)
    assert (fired.status, fired.fire_count, fired.last_error) == (TimerStatus.FIRED, 1, None)
    with session_scope(session_factory) as s:
        review = s.scalars(select(HumanTask).where(HumanTask.element_id == "review")).one()
        assert review.status == TaskStatus.CANCELLED
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == instance.id)).all()
    assert "timer.fired" in actions


def test_completing_the_task_cancels_its_boundary_timer(session_factory, org, background, move_clock):
    from tests.engine.helpers import complete

    anna = org["employee_sales_1"]
    instance = started(session_factory, "boundary_timer", anna)
    complete(session_factory, only_open_task(session_factory, instance.id).id, anna, {})
    (row,) = timer_rows(session_factory, instance_id=instance.id)
    assert row.status == TimerStatus.CANCELLED
    move_clock(clock.now() + timedelta(days=3))
    background()
    assert timer_rows(session_factory, id=row.id)[0].fire_count == 0


def test_an_intermediate_timer_waits_for_its_date(session_factory, org, background, move_clock):
    instance = started(session_factory, "intermediate_timer", org["employee_sales_1"])
    (row,) = timer_rows(session_factory, instance_id=instance.id)
    assert row.due_at == datetime(2030, 12, 1, 6, tzinfo=UTC)  # 09:00 +03:00
    move_clock(datetime(2030, 12, 1, 5, 59, tzinfo=UTC))
    background()
    assert not timer_rows(session_factory, instance_id=instance.id, status=TimerStatus.FIRED)
    move_clock(datetime(2030, 12, 1, 6, 1, tzinfo=UTC))
    background()
    assert only_open_task(session_factory, instance.id).element_id == "hr_check"
    assert timer_rows(session_factory, id=row.id)[0].status == TimerStatus.FIRED


def test_a_cycle_timer_fires_each_repetition_and_writes_the_next_due_time(
    session_factory, org, background, move_clock
):
    instance = started(session_factory, "cycle_timer", org["employee_sales_1"])
    (row,) = timer_rows(session_factory, instance_id=instance.id)
    first_due = row.due_at
    for repetition in (1, 2):
        move_clock(first_due + timedelta(days=repetition - 1, minutes=1))
        background()
        (row,) = timer_rows(session_factory, instance_id=instance.id)
        assert (row.status, row.fire_count) == (TimerStatus.PENDING, repetition)
        assert row.due_at == first_due + timedelta(days=repetition)
    move_clock(first_due + timedelta(days=2, minutes=1))
    background()
    (row,) = timer_rows(session_factory, instance_id=instance.id)
    assert (row.status, row.fire_count) == (TimerStatus.FIRED, 3)  # R3: no fourth
    move_clock(first_due + timedelta(days=5))
    background()
    assert timer_rows(session_factory, id=row.id)[0].fire_count == 3
    assert only_open_task(session_factory, instance.id).element_id == "review"  # non-interrupting


def test_a_timer_due_while_no_worker_ran_fires_once_at_the_next_pump(
    session_factory, org, background, move_clock
):
    instance = started(session_factory, "boundary_timer", org["employee_sales_1"])
    (row,) = timer_rows(session_factory, instance_id=instance.id)
    move_clock(row.due_at + timedelta(days=10))  # every worker was down for ten days
    with session_scope(session_factory) as s:
        assert timers.pending_count(s, instance_id=instance.id) == 1
    assert timers.fire_due(session_factory) >= 1
    assert timers.fire_due(session_factory) == 0
    background()
    (fired,) = timer_rows(session_factory, instance_id=instance.id)
    assert fired.fire_count == 1
    with session_scope(session_factory) as s:
        hr_tasks = s.scalars(select(HumanTask).where(HumanTask.element_id == "hr_review")).all()
    assert len(hr_tasks) == 1


def test_a_start_timer_starts_an_instance_as_the_user_who_deployed_it(
    session_factory, org, background, move_clock
):
    designer = org["designer"]
    definition = deploy(session_factory, bundle_file("timers/start_timer.bpmn"), actor=designer)
    (row,) = timer_rows(session_factory, kind=TimerKind.START)
    assert (row.definition_id, row.due_at) == (definition.id, datetime(2030, 12, 1, 6, tzinfo=UTC))
    move_clock(datetime(2030, 12, 1, 6, 1, tzinfo=UTC))
    background()
    background()
    with session_scope(session_factory) as s:
        (instance,) = s.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "start_timer"))
        assert instance.initiator_id == designer.id
        instance_id = instance.id
    assert only_open_task(session_factory, instance_id).element_id == "hr_check"
    (row,) = timer_rows(session_factory, kind=TimerKind.START)
    assert (row.status, row.fire_count) == (TimerStatus.FIRED, 1)
    # The started instance does not wait on its start timer again.
    assert not timer_rows(session_factory, instance_id=instance_id)


def test_a_newer_version_replaces_the_start_timer_of_the_older(session_factory, org):
    first = deploy(session_factory, bundle_file("timers/start_timer.bpmn"), actor=org["designer"])
    second = deploy(session_factory, bundle_file("timers/start_timer.bpmn"), actor=org["designer"])
    rows = timer_rows(session_factory, kind=TimerKind.START)
    assert [(r.definition_id, r.status) for r in rows] == [
        (first.id, TimerStatus.CANCELLED),
        (second.id, TimerStatus.PENDING),
    ]


def test_a_start_timer_without_a_deploying_user_opens_an_incident_and_is_kept(
    session_factory, org, background, move_clock
):
    deploy(session_factory, bundle_file("timers/start_timer.bpmn"), actor=None)
    move_clock(datetime(2030, 12, 1, 6, 1, tzinfo=UTC))
    background()
    (row,) = timer_rows(session_factory, kind=TimerKind.START)
    assert row.status == TimerStatus.PENDING  # never lost: it waits for someone to redeploy
    assert row.due_at > clock.now() + timedelta(hours=1)  # and does not loop hot
    assert "no active user who deployed it" in row.last_error
    with session_scope(session_factory) as s:
        (incident,) = s.scalars(select(Incident).where(Incident.kind == "timer"))
        assert (incident.element_id, incident.timer_id) == ("start", row.id)
        assert not s.scalars(select(ProcessInstance)).all()
        told = s.scalars(select(Notification).where(Notification.kind == "incident_opened")).all()
        assert [n.user_id for n in told] == [org["hr"].id]


def test_hr_retries_a_timer_incident_once_the_cause_is_fixed(session_factory, org, background, move_clock):
    deploy(session_factory, bundle_file("timers/start_timer.bpmn"), actor=None)
    move_clock(datetime(2030, 12, 1, 6, 1, tzinfo=UTC))
    background()
    with session_scope(session_factory) as s:
        incident_id = s.scalar(select(Incident.id).where(Incident.kind == "timer"))
        hr = s.get(User, org["hr"].id)
        with pytest.raises(Conflict, match="no output to give"):
            incidents.skip(s, incident_id, actor=hr, output={})
    with session_scope(session_factory) as s:
        # The cause: nobody deployed this version. HR makes the designer its deployer, then retries.
        s.scalar(select(ProcessDefinition)).deployed_by_id = org["designer"].id
        incidents.retry(s, incident_id, actor=s.get(User, org["hr"].id))
    (row,) = timer_rows(session_factory, kind=TimerKind.START)
    assert row.due_at <= clock.now()  # due at once, not after the long pause
    background()
    with session_scope(session_factory) as s:
        (started,) = s.scalars(select(ProcessInstance)).all()
        assert started.initiator_id == org["designer"].id
        assert s.get(Incident, incident_id).resolution == "retried"
        with pytest.raises(Conflict, match="already resolved"):
            incidents.retry(s, incident_id, actor=s.get(User, org["hr"].id))


@pytest.mark.parametrize("value", ["tomorrow", "PT"])
def test_a_start_timer_that_is_not_iso_is_refused_at_deploy(session_factory, value):
    from engine.errors import InvalidBundle

    files = bundle_file("timers/start_timer.bpmn")
    (name, content) = next(iter(files.items()))
    content = content.replace(b"2030-12-01T09:00:00+03:00", value.encode())
    with pytest.raises(InvalidBundle) as refused:
        deploy(session_factory, {name: content})
    assert "start timer 'start'" in refused.value.details[0]["message"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b"KEEPS", b"maybe", "escalationKeepsOriginal must be true or false"),
        (b'value="1"', b'value="two"', "escalationAfterWorkingDays must be a whole number"),
        (b"role:hr", b"the boss", "escalateTo 'the boss' must be manager_of_manager or role:<name>"),
    ],
)
def test_sla_properties_with_bad_values_are_refused_at_deploy(session_factory, old, new, message):
    from engine.errors import InvalidBundle

    (name, content) = next(iter(bundle_file("timers/sla_to_role.bpmn").items()))
    content = content.replace(old, new).replace(b"ASSIGNEE", b"someone@approute.test")
    content = content.replace(b"KEEPS", b"true")
    with pytest.raises(InvalidBundle) as refused:
        deploy(session_factory, {name: content})
    (problem,) = refused.value.details
    assert problem["element_id"] == "check" and message in problem["message"]
    assert problem["line"] > 10  # the property's own line
