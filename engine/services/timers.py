"""Timers as due rows: BPMN timer events, start timers, human-task SLA policies and daily sweeps.

Every step writes, in its own transaction, one pending row per timer its workflow waits on and one
per SLA policy of the tasks it created (``sync_instance``). The scheduler (``fire_due``, run by the
worker's pump or the embedded thread) claims rows whose time has come and fires each in a
transaction of its own, so a row is fired once however many schedulers run, and a row that fell
due while every worker was down fires when one comes back. A failing row is never lost: it stays
pending with a growing pause, and an incident tells HR after a few failures.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from engine import clock
from engine.bpmn import runtime
from engine.bpmn import timers as bpmn_timers
from engine.db import session_scope
from engine.models import (
    HumanTask,
    Incident,
    InstanceStatus,
    ProcessInstance,
    Timer,
    TimerKind,
    TimerStatus,
)
from engine.services import escalation, notifications, schedules, sla_policies

log = logging.getLogger(__name__)

MAX_FAILURES = 5  # then an incident; the row stays pending, retried at RETRY_CAP
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=6)
TASK_KINDS = (TimerKind.TASK_REMINDER, TimerKind.TASK_ESCALATION, TimerKind.TASK_DUE_WARNING)
_SCHEDULE_LOCK = 0x61707274  # pg advisory lock: one scheduler at a time creates the sweeps' rows


class TimerRefused(Exception):
    """A timer that cannot fire until someone changes something: an incident at once."""


def sync_instance(
    session: Session, instance: ProcessInstance, workflow, definition, created: list[HumanTask]
) -> None:
    """Bring the instance's timer rows in line with what its workflow now waits for.

    One pending BPMN row per waiting timer event (a cycle's row is re-armed with its next due
    time); rows of timers no longer waiting are cancelled; the SLA rows of the tasks ``created``
    by this step are written and those of tasks no longer open cancelled.
    """
    if not definition.may_have_timers:
        return  # no timer events and no SLA policies in this version: no row can exist
    if instance.status != InstanceStatus.RUNNING:
        on_instance_closed(session, instance)
        return
    _sync_bpmn(session, instance, workflow)
    open_ids = [task.id for task in runtime.ready_user_tasks(workflow)]
    stale = select(Timer).where(
        Timer.instance_id == instance.id,
        Timer.kind.in_(TASK_KINDS),
        Timer.status == TimerStatus.PENDING,
        Timer.task_id.not_in(open_ids),
    )
    for row in session.scalars(stale):
        _cancel(row)
    sla_policies.arm(session, instance, definition, created)


def _sync_bpmn(session: Session, instance: ProcessInstance, workflow) -> None:
    waiting = {timer.task_id: timer for timer in bpmn_timers.waiting_timers(workflow)}
    query = select(Timer).where(
        Timer.instance_id == instance.id,
        Timer.kind == TimerKind.BPMN,
        (Timer.status == TimerStatus.PENDING) | Timer.task_id.in_(list(waiting)),
    )
    rows: dict[Any, Timer] = {}
    for row in session.scalars(query.order_by(Timer.id)):
        if row.task_id not in waiting:
            _cancel(row)  # fired and moved on, or the task it hangs on ended
        elif row.status == TimerStatus.PENDING or row.task_id not in rows:
            rows[row.task_id] = row
    now = clock.now()
    for task_id, timer in waiting.items():
        row = rows.get(task_id)
        if row is None:
            session.add(
                Timer(
                    kind=TimerKind.BPMN,
                    instance_id=instance.id,
                    task_id=task_id,
                    name=timer.element_id,
                    due_at=timer.due,
                    payload={"timer": timer.kind, "event_name": timer.name},
                )
            )
        elif row.status == TimerStatus.PENDING:
            row.due_at = timer.due
        else:
            # Still waiting after it fired: a cycle's next repetition. A timer that did not move
            # (the workflow did not see it due yet) waits a little instead of firing again at once.
            row.status = TimerStatus.PENDING
            row.due_at = timer.due if timer.due != row.due_at else max(timer.due, now + RETRY_BASE)


def on_instance_closed(session: Session, instance: ProcessInstance) -> None:
    """Cancel the pending timers of an instance that was cancelled or finished."""
    query = select(Timer).where(Timer.instance_id == instance.id, Timer.status == TimerStatus.PENDING)
    for row in session.scalars(query):
        _cancel(row)


def _cancel(row: Timer) -> None:
    row.status = TimerStatus.CANCELLED


def fire_due(factory, *, limit: int = 100) -> int:
    """Claim due timer rows (FOR UPDATE SKIP LOCKED) and fire each; returns how many fired.

    The claim only spreads rows between schedulers; each row is locked again and checked still
    pending in its own transaction before it fires, so no row fires twice.
    """
    _ensure_schedules(factory)
    with session_scope(factory) as session:
        query = (
            select(Timer.id, Timer.instance_id)
            .where(Timer.status == TimerStatus.PENDING, Timer.due_at <= clock.now())
            .order_by(Timer.due_at, Timer.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = session.execute(query).all()
    return sum(_fire_one(factory, timer_id, instance_id) for timer_id, instance_id in claimed)


def _fire_one(factory, timer_id: int, instance_id) -> int:
    with session_scope(factory) as session:
        if instance_id is not None:
            # The instance first, then the timer: the order every step takes them in.
            from engine.services.instances import lock_instance

            lock_instance(session, instance_id)
        row = session.scalar(
            select(Timer)
            .where(Timer.id == timer_id, Timer.status == TimerStatus.PENDING, Timer.due_at <= clock.now())
            .with_for_update(skip_locked=instance_id is None)
            .execution_options(populate_existing=True)
        )
        if row is None:
            return 0  # another scheduler fired it, or it was cancelled or moved meanwhile
        try:
            with session.begin_nested():
                _FIRERS[row.kind](session, row)
        except Exception as exc:  # any failure: keep the row, pause it, tell HR after a few
            _record_failure(session, row, exc)
            return 0
        return 1


def mark_fired(row: Timer) -> None:
    """Note on ``row`` that it fired now (its firer may re-arm it: cycles, sweeps)."""
    row.status = TimerStatus.FIRED
    row.fire_count = (row.fire_count or 0) + 1
    row.fired_at = clock.now()
    row.last_error = None


def _record_failure(session: Session, row: Timer, exc: Exception) -> None:
    failures = int((row.payload or {}).get("failures", 0)) + 1
    message = f"{type(exc).__name__}: {exc}"[:4000] if not isinstance(exc, TimerRefused) else str(exc)
    row.payload = {**(row.payload or {}), "failures": failures}
    row.last_error = message
    pause = min(RETRY_BASE * 2 ** (failures - 1), RETRY_CAP)
    row.due_at = clock.now() + (RETRY_CAP if isinstance(exc, TimerRefused) else pause)
    # Ids and the error's type only: a message may quote process data.
    log.warning("timer %s (%s) failed %d time(s): %s", row.id, row.kind, failures, type(exc).__name__)
    if failures == MAX_FAILURES or (isinstance(exc, TimerRefused) and failures == 1):
        incident = Incident(
            instance_id=row.instance_id,
            task_id=row.task_id,
            timer_id=row.id,
            element_id=row.name,
            kind="timer",
            error=message,
            attempts=failures,
        )
        session.add(incident)
        session.flush()
        notifications.notify_role(
            session,
            "hr",
            "incident_opened",
            {"operator": f"timer {row.name}", "attempts": failures},
            instance_id=row.instance_id,
            dedupe_prefix=f"incident:{incident.id}",
        )


def _fire_bpmn(session: Session, row: Timer) -> None:
    from engine.services import decision_tables, definitions, steps

    instance = session.get(ProcessInstance, row.instance_id)
    if instance is None or instance.status != InstanceStatus.RUNNING:
        _cancel(row)
        return
    definition = definitions.snapshot(session, instance.definition_id)
    workflow = runtime.restore_workflow(instance.state, definition.spec_json)
    mark_fired(row)
    session.flush()  # the step's sync sees this row fired, and re-arms it if it is a cycle
    with decision_tables.in_force(session):
        runtime.run(workflow)
    from engine.services import audit

    audit.record(session, "timer.fired", instance_id=instance.id, task_id=row.task_id, element_id=row.name)
    steps.persist_step(session, instance=instance, workflow=workflow, definition=definition, actor=None)


def _fire_start(session: Session, row: Timer) -> None:
    from engine.services import start_timers

    start_timers.fire(session, row)


def _fire_schedule(session: Session, row: Timer) -> None:
    schedule = schedules.all_schedules().get(row.name or "")
    if schedule is None:
        _cancel(row)  # the sweep is no longer registered
        return
    schedule.fn(session, clock.today())
    mark_fired(row)
    # Next run: the sweep's hour on the first day after now, so days missed while every worker
    # was down are not made up one by one.
    row.status = TimerStatus.PENDING
    row.due_at = _next_local_hour(schedule.hour, clock.now())


def _next_local_hour(hour: int, after: datetime) -> datetime:
    day = after.astimezone(clock.company_timezone()).date()
    moment = clock.local_moment(day, hour)
    while moment <= after:
        day += timedelta(days=1)
        moment = clock.local_moment(day, hour)
    return moment


def _ensure_schedules(factory) -> None:
    """One pending SCHEDULE row per registered sweep, made on first need (cheap when all exist)."""
    registered = schedules.all_schedules()
    if not registered:
        return
    with session_scope(factory) as session:
        if _missing_schedules(session, registered) and session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEDULE_LOCK})
        now = clock.now()
        for name in _missing_schedules(session, registered):
            session.add(
                Timer(
                    kind=TimerKind.SCHEDULE,
                    name=name,
                    due_at=_next_local_hour(registered[name].hour, now),
                    payload={"hour": registered[name].hour},
                )
            )


def _missing_schedules(session: Session, registered: dict) -> list[str]:
    query = select(Timer.name).where(Timer.kind == TimerKind.SCHEDULE, Timer.status == TimerStatus.PENDING)
    present = set(session.scalars(query))
    return sorted(set(registered) - present)


def pending_count(session: Session, **where: Any) -> int:
    """How many pending timer rows match ``where`` (column=value); for status pages and tests."""
    query = select(func.count()).select_from(Timer).where(Timer.status == TimerStatus.PENDING)
    for column, value in where.items():
        query = query.where(getattr(Timer, column) == value)
    return session.scalar(query) or 0


_FIRERS = {
    TimerKind.BPMN: _fire_bpmn,
    TimerKind.START: _fire_start,
    TimerKind.SCHEDULE: _fire_schedule,
    TimerKind.TASK_REMINDER: escalation.fire_reminder,
    TimerKind.TASK_DUE_WARNING: escalation.fire_due_warning,
    TimerKind.TASK_ESCALATION: escalation.fire_escalation,
}
