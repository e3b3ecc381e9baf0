"""Drive one workflow: create, restore, step, complete a user task, and describe its state."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.util.task import BpmnTaskFilter, BpmnTaskIterator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.util.task import TaskIterator, TaskState

from engine.bpmn import timers as _timers  # noqa: F401 - points SpiffWorkflow timers at engine.clock
from engine.bpmn.assignment import evaluate_assignment
from engine.bpmn.due import resolve_due
from engine.bpmn.sandbox import SandboxEnvironment, SandboxViolation
from engine.bpmn.service_tasks import ROUND_KEY, StartedServiceTask, describe, is_waiting
from engine.bpmn.state import dump_workflow, load_specs, load_workflow
from rules import REGISTRY


# SpiffWorkflow's task iterators stop at depth 1000, so a task deeper in the tree is never seen:
# the instance stalls without an error, or is even reported complete with a task still open
# (notes/spiffworkflow.md §6.3). Compaction keeps most trees shallow; lifting the default depth
# of both iterator classes covers every caller inside the library (is_completed, joins, cancel).
def _lift_depth_limit(cls) -> None:
    defaults = list(cls.__init__.__defaults__)
    defaults[1] = 10**9  # (end_at_spec, max_depth, ...)
    cls.__init__.__defaults__ = tuple(defaults)


_lift_depth_limit(TaskIterator)
_lift_depth_limit(BpmnTaskIterator)


# Service tasks never call out from the script engine: they wait for a job (engine.bpmn.service_tasks).
SCRIPT_ENGINE = PythonScriptEngine(environment=SandboxEnvironment(REGISTRY))


class StepFailed(Exception):
    """A script, condition or expression failed while the workflow ran."""

    def __init__(self, message: str, element_id: str | None):
        super().__init__(message)
        self.element_id = element_id


@dataclass(frozen=True)
class ReadyTask:
    """A user task waiting for a person."""

    id: UUID
    element_id: str
    name: str
    lane: str | None
    data: dict[str, Any]


def _attach(workflow: BpmnWorkflow) -> BpmnWorkflow:
    workflow.script_engine = SCRIPT_ENGINE
    return workflow


def start_workflow(spec_json: str, data: dict[str, Any]) -> BpmnWorkflow:
    """Create an instance of a definition, seed it with the start form data and run it."""
    spec, subprocess_specs = load_specs(spec_json)
    workflow = _attach(BpmnWorkflow(spec, subprocess_specs))
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    run(workflow)
    return workflow


def restore_workflow(state_json: str, spec_json: str) -> BpmnWorkflow:
    """Rebuild a stored instance."""
    return _attach(load_workflow(state_json, spec_json))


def save_workflow(workflow: BpmnWorkflow) -> str:
    """Serialize an instance for storage (compacted, without the spec).

    Raises StepFailed when a script left a value in the data that cannot be stored.
    """
    try:
        return dump_workflow(workflow)
    except (TypeError, ValueError) as exc:
        raise StepFailed(f"the process data holds a value that cannot be stored: {exc}", None) from exc


MAX_AUTOMATIC_STEPS = 2_500
MAX_RUN_CPU_SECONDS = 5.0


class _TooManySteps(Exception):
    def __init__(self, task):
        super().__init__()
        self.task = task


def _step_counter():
    steps = 0
    deadline = time.thread_time() + MAX_RUN_CPU_SECONDS

    def count(task) -> None:
        nonlocal steps
        steps += 1
        # Each step walks the task tree, which grows within one run, so bound time as well as count.
        if steps > MAX_AUTOMATIC_STEPS or (steps % 64 == 0 and time.thread_time() > deadline):
            raise _TooManySteps(task)

    return count


def run(workflow: BpmnWorkflow) -> None:
    """Run every automatic task until the workflow waits on people, timers or messages.

    A route that keeps running on its own (a loop with no way out) is stopped after
    MAX_AUTOMATIC_STEPS tasks, so one request cannot hold a worker forever.
    """
    try:
        workflow.refresh_timers()
        workflow.do_engine_steps(will_complete_task=_step_counter())
    except _TooManySteps as exc:
        raise StepFailed(
            "the route kept running automatic steps without waiting for anyone "
            f"(limit {MAX_AUTOMATIC_STEPS:,} steps or {MAX_RUN_CPU_SECONDS:g} s); a loop with no way out?",
            exc.task.task_spec.bpmn_id,
        ) from None
    except SandboxViolation as exc:
        raise StepFailed(f"refused by the sandbox: {exc}", None) from exc
    except SpiffWorkflowException as exc:
        task = getattr(exc, "task", None)
        element_id = task.task_spec.bpmn_id if task is not None else _failed_element(workflow)
        raise StepFailed(_describe(exc), element_id) from exc
    except Exception as exc:
        # Library code outside the script engine can fail too; the step is rolled back and the
        # caller told which element failed.
        raise StepFailed(f"{type(exc).__name__}: {exc}", _failed_element(workflow)) from exc


def _failed_element(workflow: BpmnWorkflow) -> str | None:
    failed = workflow.get_tasks(state=TaskState.ERROR)
    return failed[0].task_spec.bpmn_id if failed else None


def _describe(exc: SpiffWorkflowException) -> str:
    inner = getattr(exc, "error_type", None) or ""
    if inner == "unknown":
        inner = ""
    message = str(exc).split("\n")[0].strip().rstrip(".")
    cause = _root_cause(exc)
    if cause is not None and str(cause) and str(cause) not in message:
        message = f"{message}: {cause}"
    return f"{inner}: {message}" if inner and inner not in message else message


def _root_cause(exc: BaseException) -> BaseException | None:
    """The first non-SpiffWorkflow error behind ``exc``: the one that says what went wrong."""
    seen = exc.__cause__ or exc.__context__
    while seen is not None and isinstance(seen, SpiffWorkflowException):
        seen = seen.__cause__ or seen.__context__
    return seen


def ready_user_tasks(workflow: BpmnWorkflow) -> list[ReadyTask]:
    """The user and manual tasks that are ready, including those inside sub-processes."""
    tasks = workflow.get_tasks(task_filter=BpmnTaskFilter(state=TaskState.READY, manual=True))
    return [
        ReadyTask(
            id=t.id,
            element_id=t.task_spec.bpmn_id,
            name=t.task_spec.bpmn_name or t.task_spec.bpmn_id,
            lane=t.task_spec.lane,
            data=t.data,
        )
        for t in tasks
    ]


def complete_user_task(workflow: BpmnWorkflow, task_id: UUID, data: dict[str, Any]) -> None:
    """Complete a ready user task with form data, then run the workflow on.

    Raises LookupError if the task is not a ready user task of this workflow.
    """
    try:
        task = workflow.get_task_from_id(task_id)
    except TaskNotFoundException:
        raise LookupError(f"task {task_id} is not part of this instance") from None
    if task.state != TaskState.READY or not task.task_spec.manual:
        raise LookupError(f"task {task_id} is not waiting for input")
    task.data.update(data)
    try:
        task.run()
    except SpiffWorkflowException as exc:
        raise StepFailed(_describe(exc), task.task_spec.bpmn_id) from exc
    run(workflow)


def started_service_tasks(workflow: BpmnWorkflow) -> list[StartedServiceTask]:
    """The service tasks waiting for their background job, including those inside sub-processes."""
    return [describe(t) for t in workflow.get_tasks(state=TaskState.STARTED) if is_waiting(t)]


def started_service_task(workflow: BpmnWorkflow, task_id: UUID) -> StartedServiceTask | None:
    """The service task ``task_id`` if it still waits for its job; None if it is done, gone or not one."""
    try:
        task = workflow.get_task_from_id(task_id)
    except TaskNotFoundException:
        return None
    return describe(task) if is_waiting(task) else None


def complete_service_task(workflow: BpmnWorkflow, task_id: UUID, result: Any) -> None:
    """Store ``result`` in the task's result variable, complete the task and run the workflow on.

    Raises LookupError if the task is not a waiting service task; StepFailed if the route then fails.
    """
    try:
        task = workflow.get_task_from_id(task_id)
    except TaskNotFoundException:
        raise LookupError(f"task {task_id} is not part of this instance") from None
    if not is_waiting(task):
        raise LookupError(f"task {task_id} is not a service task waiting for its result")
    task.data[task.task_spec.result_variable] = result
    try:
        task.complete()
    except SpiffWorkflowException as exc:
        raise StepFailed(_describe(exc), task.task_spec.bpmn_id) from exc
    except Exception as exc:  # a post-script the sandbox refused, or library code failing
        raise StepFailed(f"{type(exc).__name__}: {exc}", task.task_spec.bpmn_id) from exc
    run(workflow)


def bump_service_task_round(workflow: BpmnWorkflow, task_id: UUID) -> int:
    """Start a new round of jobs for a waiting service task (a retry after an incident); returns it."""
    task = workflow.get_task_from_id(task_id)
    task.internal_data[ROUND_KEY] = int(task.internal_data.get(ROUND_KEY, 0)) + 1
    return task.internal_data[ROUND_KEY]


def cancel_workflow(workflow: BpmnWorkflow) -> None:
    """Cancel every unfinished task."""
    workflow.cancel()


def is_completed(workflow: BpmnWorkflow) -> bool:
    """True when the workflow reached its end."""
    return workflow.is_completed()


def current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The instance's business data: the workflow data merged over the latest task data."""
    data: dict[str, Any] = {}
    if workflow.last_task is not None:
        data.update(workflow.last_task.data)
    data.update(workflow.data)
    return data


def _evaluator(task_data: dict[str, Any], extra: dict[str, Any]):
    def _evaluate(source: str) -> Any:
        return SCRIPT_ENGINE.environment.evaluate(source, dict(task_data), extra)

    return _evaluate


def evaluate_in_task(task_data: dict[str, Any], value: str, extra: dict[str, Any]) -> list[str]:
    """Resolve an assignment attribute against a task's data and extra names (initiator...)."""
    return evaluate_assignment(value, _evaluator(task_data, extra))


def due_in_task(task_data: dict[str, Any], value: str, now: datetime) -> datetime:
    """Resolve a task's due-date attribute against its data."""
    return resolve_due(value, _evaluator(task_data, {}), now)
