"""Service tasks run in the background: a step leaves them started, a job completes them.

``schedule_started`` runs inside every step's transaction (engine.services.steps), so the job
that will call a service task's operator commits together with the step that started the task,
or not at all. The job itself is ``service_task_jobs``; HR's answers to a failed one are
``incidents``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.bpmn import runtime
from engine.bpmn.service_tasks import StartedServiceTask
from engine.models import OutboxJob, ProcessInstance
from engine.services import operators, outbox

JOB_KIND = "service_task"
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 2.0


def dedupe_key(task: StartedServiceTask) -> str:
    """One job per task and round: running the same step again adds no second job, a retry a new one."""
    return f"svc:{task.id}:{task.round}"


def retry_policy(task: StartedServiceTask) -> tuple[int, float]:
    """(max attempts, backoff base): the diagram's ``spiffworkflow:retry`` if set, else the operator's."""
    spec = operators.get(task.operator)
    retries = spec.retries if spec is not None else DEFAULT_RETRIES
    backoff = spec.backoff_base if spec is not None else DEFAULT_BACKOFF
    if task.retries is not None:
        retries = task.retries
    if task.backoff_base is not None:
        backoff = task.backoff_base
    return max(retries, 0) + 1, backoff


def enqueue(session: Session, instance: ProcessInstance, task: StartedServiceTask) -> OutboxJob:
    """The job of ``task``'s current round, added to the session if it is not there yet."""
    attempts, backoff = retry_policy(task)
    return outbox.enqueue(
        session,
        JOB_KIND,
        {"instance_id": str(instance.id), "task_id": str(task.id)},
        instance_id=instance.id,
        max_attempts=attempts,
        backoff_base=backoff,
        dedupe_key=dedupe_key(task),
    )


def schedule_started(session: Session, instance: ProcessInstance, workflow) -> None:
    """Enqueue a job for every service task the step left started (once per task and round)."""
    for task in runtime.started_service_tasks(workflow):
        enqueue(session, instance, task)
