"""SpiffWorkflow's timer events, read and driven on approute's clock.

SpiffWorkflow reads ``datetime.now`` inside its timer module and offers no way to inject a
clock (notes/spiffworkflow.md §5.1). Pointing that module at engine.clock makes every timer
(duration, date, cycle) compute and fire on the same time the scheduler and the tests use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.util.task import TaskState

from engine import clock
from engine.bpmn.state import load_specs


class _ClockDatetime(datetime):
    """``datetime`` whose ``now`` is engine.clock's."""

    @classmethod
    def now(cls, tz=None):
        moment = clock.now()
        return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)


_spiff_timer.datetime = _ClockDatetime


@dataclass(frozen=True)
class WaitingTimer:
    """A timer event a workflow waits on: boundary, intermediate catch, event-gateway branch or cycle."""

    task_id: UUID
    element_id: str
    name: str
    kind: str  # duration, date or cycle
    due: datetime  # aware UTC


@dataclass(frozen=True)
class StartTimer:
    """A process's timer start event, read at deploy."""

    element_id: str
    kind: str  # duration, date or cycle
    first_due: datetime  # aware UTC
    cycles: int | None  # cycle timers: how many starts in all (-1 for ever); None otherwise
    every_seconds: float | None  # cycle timers: the interval


_KINDS = (
    (_spiff_timer.CycleTimerEventDefinition, "cycle"),
    (_spiff_timer.TimeDateEventDefinition, "date"),
    (_spiff_timer.DurationTimerEventDefinition, "duration"),
)


def _kind(definition) -> str | None:
    return next((name for cls, name in _KINDS if isinstance(definition, cls)), None)


def _parse_moment(value: str) -> datetime:
    """A stored timer value (an ISO date-time or week date) as aware UTC."""
    moment = _spiff_timer.TimerEventDefinition.parse_time_or_duration(value)
    if not isinstance(moment, datetime):
        raise ValueError(f"timer value {value!r} is a duration, not a moment")
    return moment.astimezone(UTC)


def waiting_timers(workflow) -> list[WaitingTimer]:
    """Every timer event task the workflow now waits on, with its due time.

    SpiffWorkflow keeps the due time in ``internal_data['event_value']``: an ISO string for
    duration and date timers, ``{'cycles', 'next', 'duration'}`` for cycle timers (a cycle whose
    repetitions are used up waits on nothing).
    """
    found = []
    for task in list(workflow.top_workflow.event_manager.tasks.values()):
        if task.state != TaskState.WAITING:
            continue
        kind = _kind(task.task_spec.event_definition)
        value = task.internal_data.get("event_value")
        if kind is None or value is None:
            continue
        if kind == "cycle":
            if not isinstance(value, dict) or value.get("cycles") == 0:
                continue
            due = datetime.fromisoformat(value["next"]).astimezone(UTC)
        else:
            due = _parse_moment(str(value))
        spec = task.task_spec
        found.append(WaitingTimer(task.id, spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, kind, due))
    return found


def start_timer(spec_json: str, evaluate) -> StartTimer | None:
    """The timer start event of the process in ``spec_json``, or None when it starts by hand.

    ``evaluate(expression)`` runs the timer's expression (sandbox Python, no process data);
    a duration counts from now. Raises ValueError when the value is not an ISO 8601 date,
    duration or cycle.
    """
    spec, _subprocesses = load_specs(spec_json)
    for task_spec in spec.task_specs.values():
        if not isinstance(task_spec, StartEvent):
            continue
        definition = getattr(task_spec, "event_definition", None)
        kind = _kind(definition)
        if kind is None:
            continue
        try:
            value = evaluate(definition.expression)
            return _start_timer(task_spec.bpmn_id, kind, str(value))
        except Exception as exc:  # an expression or ISO value a designer got wrong
            raise ValueError(f"start timer '{task_spec.bpmn_id}': {exc}") from None
    return None


def _start_timer(element_id: str, kind: str, value: str) -> StartTimer:
    timer = _spiff_timer.TimerEventDefinition
    if kind == "cycle":
        cycles, start, every = timer.parse_iso_recurring_interval(value)
        return StartTimer(element_id, kind, start.astimezone(UTC), cycles, every.total_seconds())
    if kind == "duration":
        delta = timer.get_timedelta_from_start(timer.parse_iso_duration(value), clock.now())
        return StartTimer(element_id, kind, clock.now() + delta, None, None)
    return StartTimer(element_id, kind, _parse_moment(value), None, None)


def next_cycle_start(due: datetime, every_seconds: float, after: datetime) -> datetime:
    """The first repetition of a cycle that began at ``due`` lying after ``after``.

    Starts missed while every worker was down are not made up: the next one is in the future.
    """
    every = timedelta(seconds=every_seconds)
    if every <= timedelta(0):
        raise ValueError("a cycle's interval must be positive")
    moment = due + every
    if moment <= after:
        moment += every * ((after - moment) // every + 1)
    return moment


def mark_start_fired(workflow) -> None:
    """Let a workflow started by its start timer pass that timer: the scheduler already waited for it."""
    for task in workflow.get_tasks():
        if isinstance(task.task_spec, StartEvent) and _kind(task.task_spec.event_definition):
            task.internal_data["event_fired"] = True
