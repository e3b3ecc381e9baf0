"""The ``service_task`` job: call a started service task's operator and complete the task with its result.

The job runs under the instance's row lock, in the transaction that also marks it done, so the
operator's database writes, the completed task, the route's next step and "done" commit together.
Running it again finds the task no longer started and does nothing. When the operator keeps
failing past its retries, ``open_incident`` records an incident for HR on the instance.
"""

from __future__ import annotations

import copy
import logging
import uuid

from sqlalchemy.orm import Session

from engine.bpmn import runtime
from engine.config import Settings
from engine.models import Incident, InstanceStatus, OutboxJob, ProcessInstance
from engine.services import (
    audit,
    decision_tables,
    definitions,
    instances,
    jobs,
    notifications,
    operators,
)
from engine.services.service_tasks import JOB_KIND
from engine.services.steps import persist_step

log = logging.getLogger(__name__)


def delivery_id(instance_id: uuid.UUID, task_id: uuid.UUID) -> str:
    """The same for every attempt at one service task, so a receiver can drop a second delivery."""
    return f"{instance_id}:{task_id}"


class OperatorMissing(LookupError):
    """The diagram names an operator this process does not have (it was removed after deploy)."""


def _ids(job: OutboxJob) -> tuple[uuid.UUID, uuid.UUID]:
    return uuid.UUID(job.payload["instance_id"]), uuid.UUID(job.payload["task_id"])


def run_service_task(session: Session, job: OutboxJob) -> None:
    """Call the operator of the task in ``job.payload`` and run the route on with its result."""
    instance_id, task_id = _ids(job)
    instance = instances.lock_instance(session, instance_id)
    if instance is None or instance.status != InstanceStatus.RUNNING:
        return  # cancelled or finished meanwhile: nothing is waiting for this result
    definition = definitions.snapshot(session, instance.definition_id)
    workflow = runtime.restore_workflow(instance.state, definition.spec_json)
    task = runtime.started_service_task(workflow, task_id)
    if task is None:
        return  # an earlier delivery completed it, or HR skipped it
    spec = operators.get(task.operator)
    if spec is None:
        raise OperatorMissing(f"service task operator '{task.operator}' is not registered")
    call = operators.OperatorCall(
        session=session,
        instance=instance,
        task_id=task.id,
        element_id=task.element_id,
        params=copy.deepcopy(task.params),
        data=copy.deepcopy(task.data),
        settings=Settings.from_env(),
        delivery_id=delivery_id(instance.id, task.id),
    )
    result = spec.fn(call)
    # Ids and names only: the parameters and the result may carry personal data.
    audit.record(
        session,
        "service_task.completed",
        instance_id=instance.id,
        task_id=task.id,
        element_id=task.element_id,
        operator=task.operator,
        attempt=job.attempts + 1,
    )
    finish(session, instance, definition, workflow, task.id, result)


def finish(
    session: Session, instance: ProcessInstance, definition, workflow, task_id: uuid.UUID, result
) -> None:
    """Complete the waiting service task with ``result``, run the route on and store the step.

    Raises runtime.StepFailed when the route fails after the task (the caller's transaction is
    then rolled back), LookupError when the task no longer waits.
    """
    with decision_tables.in_force(session):  # HR's current DMN versions, as for any step
        runtime.complete_service_task(workflow, task_id, result)
    persist_step(session, instance=instance, workflow=workflow, definition=definition, actor=None)
    session.flush()


def open_incident(session: Session, job: OutboxJob, message: str, trace: str) -> None:
    """The job is out of attempts: open an incident on the instance and show the error on it."""
    instance_id, task_id = _ids(job)
    instance = instances.lock_instance(session, instance_id)
    if instance is None:
        return
    element_id = operator = None
    if instance.status == InstanceStatus.RUNNING:
        definition = definitions.snapshot(session, instance.definition_id)
        task = runtime.started_service_task(
            runtime.restore_workflow(instance.state, definition.spec_json), task_id
        )
        if task is not None:
            element_id, operator = task.element_id, task.operator
    incident = Incident(
        instance_id=instance.id,
        task_id=task_id,
        element_id=element_id,
        kind=JOB_KIND,
        operator=operator,
        job_id=job.id,
        error=message,
        traceback=trace,
        attempts=job.attempts,
    )
    session.add(incident)
    session.flush()
    first_line = message.splitlines()[0] if message else "failed"
    instance.error = (
        f"service task '{element_id or task_id}' failed after {job.attempts} attempt(s): {first_line}"
    )
    # The error text stays on the incident: it may quote personal data from the operator's input.
    audit.record(
        session,
        "incident.opened",
        instance_id=instance.id,
        task_id=task_id,
        element_id=element_id,
        operator=operator,
        incident_id=incident.id,
        attempts=job.attempts,
    )
    # HR handles incidents: tell them, with ids and the operator's name, not the error's text.
    notifications.notify_role(
        session,
        "hr",
        "incident_opened",
        {"operator": operator, "process_key": instance.process_key, "attempts": job.attempts},
        instance_id=instance.id,
        task_id=task_id,
        dedupe_prefix=f"incident:{incident.id}",
    )
    log.warning("incident %s opened on instance %s after %s attempts", incident.id, instance.id, job.attempts)


jobs.register(JOB_KIND, on_exhausted=open_incident)(run_service_task)
