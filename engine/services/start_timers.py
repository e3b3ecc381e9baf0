"""Processes that start by the calendar: a timer start event becomes a START row at deploy.

Rule for who starts them: an instance started by its timer has the user who deployed that version
as its initiator (the designer or admin answers for what the route does). A version deployed without
a user (a script, the demo seed) cannot start by itself: its timer opens an incident saying so, and
deploying it again as a user fixes it. A newer version of the key replaces the older one's rows.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.bpmn import runtime
from engine.bpmn import timers as bpmn_timers
from engine.models import ProcessDefinition, Timer, TimerKind, TimerStatus, User


def schedule_for(session: Session, definition: ProcessDefinition) -> Timer | None:
    """Write the START row of a just-deployed version, replacing its key's older rows.

    Raises ValueError when the start timer's value is not an ISO 8601 date, duration or cycle.
    """
    older = select(Timer).where(
        Timer.kind == TimerKind.START,
        Timer.status == TimerStatus.PENDING,
        Timer.definition_id.in_(
            select(ProcessDefinition.id).where(
                ProcessDefinition.key == definition.key, ProcessDefinition.id != definition.id
            )
        ),
    )
    for row in session.scalars(older):
        row.status = TimerStatus.CANCELLED
    timer = bpmn_timers.start_timer(definition.spec_json, _evaluate)
    if timer is None:
        return None
    row = Timer(
        kind=TimerKind.START,
        definition_id=definition.id,
        name=timer.element_id,
        due_at=timer.first_due,
        payload={"timer": timer.kind, "cycles_left": timer.cycles, "every_seconds": timer.every_seconds},
    )
    session.add(row)
    return row


def _evaluate(expression: str):
    return runtime.SCRIPT_ENGINE.environment.evaluate(expression, {})


def fire(session: Session, row: Timer) -> None:
    """Start an instance of the row's definition; a cycle's row is re-armed for its next start."""
    from engine.services import audit
    from engine.services.timers import TimerRefused, mark_fired

    definition = session.get(ProcessDefinition, row.definition_id)
    if definition is None:
        row.status = TimerStatus.CANCELLED
        return
    initiator = session.get(User, definition.deployed_by_id) if definition.deployed_by_id else None
    if initiator is None or not initiator.is_active:
        raise TimerRefused(
            f"{definition.key} v{definition.version} starts by a timer but has no active user who deployed "
            "it to start it as; deploy the version again as a user"
        )
    mark_fired(row)
    instance = _start(session, definition, initiator)
    audit.record(
        session,
        "timer.fired",
        instance_id=instance.id,
        definition_id=definition.id,
        element_id=row.name,
        kind="start",
    )
    payload = dict(row.payload or {})
    if payload.get("timer") == "cycle" and payload.get("cycles_left") not in (None, 0, 1):
        if payload["cycles_left"] > 0:
            payload["cycles_left"] -= 1
        row.payload = payload
        row.status = TimerStatus.PENDING
        row.due_at = bpmn_timers.next_cycle_start(row.due_at, payload["every_seconds"], clock.now())


def _start(session: Session, row: ProcessDefinition, initiator: User):
    """Start an instance of this very version with no form data, past its start timer."""
    from engine.services import decision_tables, definitions, instances, process_hooks

    definition = definitions.snapshot(session, row.id)
    hooks = process_hooks.hooks_for(definition.key)
    data = dict(hooks.before_start(session, initiator, {}) or {})
    with decision_tables.in_force(session):
        workflow = runtime.start_workflow(definition.spec_json, data)
        # The scheduler has waited for the start timer; the new instance must not wait for it again.
        bpmn_timers.mark_start_fired(workflow)
        runtime.run(workflow)
    instance = instances.insert_instance(session, definition, initiator, workflow, None, data)
    hooks.after_start(session, instance)
    return instance
