"""Service tasks that wait for a background job instead of calling out inside the step.

When the token reaches a service task, its parameters are evaluated (they are Python expressions
run in the sandbox) and kept on the task; the task then stays STARTED, the step commits, and a
job calls the operator and completes the task (notes/spiffworkflow.md §4.1). A slow or failing
HR system therefore never holds a person's request open, and a failure can be retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.util.task import TaskState

PARAMS_KEY = "approute_params"  # task.internal_data: the evaluated parameter values
ROUND_KEY = "approute_job_round"  # task.internal_data: bumped when HR retries after an incident


class AsyncServiceTask(ServiceTask):
    """A spiff service task that evaluates its parameters and then waits, STARTED, for its job."""

    def _execute(self, task):
        params = self.evaluate_params(task)
        task.internal_data[PARAMS_KEY] = {name: param["value"] for name, param in params.items()}
        return None  # Task.run(): None leaves the task STARTED


@dataclass(frozen=True)
class StartedServiceTask:
    """A service task waiting for its job, as the job runner needs it."""

    id: UUID
    element_id: str
    operator: str
    params: dict[str, Any]
    result_variable: str
    retries: int | None
    backoff_base: float | None
    round: int
    data: dict[str, Any]


def describe(task) -> StartedServiceTask:
    """The waiting service task ``task`` (a SpiffWorkflow Task) as plain values."""
    spec = task.task_spec
    return StartedServiceTask(
        id=task.id,
        element_id=spec.bpmn_id,
        operator=spec.operation_name,
        params=dict(task.internal_data.get(PARAMS_KEY, {})),
        result_variable=spec.result_variable,
        retries=spec.retries,
        backoff_base=float(spec.retry_backoff_base) if spec.retry_backoff_base is not None else None,
        round=int(task.internal_data.get(ROUND_KEY, 0)),
        data=task.data,
    )


def is_waiting(task) -> bool:
    """True for a service task that was started and not yet completed."""
    return isinstance(task.task_spec, AsyncServiceTask) and task.state == TaskState.STARTED
