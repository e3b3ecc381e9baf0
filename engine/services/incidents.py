"""Incidents: background work that failed for good, and HR's three answers to one.

- retry: a fresh job for the service task, with the operator's full set of attempts again;
- skip: complete the service task with output data HR gives, as if the operator had returned it;
- cancel: cancel the request.

Each runs under the instance's row lock and answers 409 once the incident is resolved, so two
people pressing different buttons at once cannot both act. HR and admins only.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import runtime
from engine.errors import Conflict, Forbidden, InstanceFailed, InvalidData, NotFound
from engine.models import Incident, IncidentStatus, InstanceStatus, ProcessInstance, Timer, TimerStatus, User
from engine.models._types import utcnow
from engine.services import audit, definitions, instances, service_task_jobs, service_tasks

TIMER_KIND = "timer"
ROLES = ("hr", "admin")
MAX_LIST = 500


def _check_role(actor: User) -> None:
    if not actor.has_role(*ROLES):
        raise Forbidden("incidents are handled by HR and admins")


def list_incidents(
    session: Session,
    *,
    actor: User,
    status: IncidentStatus | None = None,
    instance_id: uuid.UUID | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Incident]:
    """Incidents, newest first, optionally only open or resolved ones, or one instance's."""
    _check_role(actor)
    query = select(Incident)
    if status is not None:
        query = query.where(Incident.status == status)
    if instance_id is not None:
        query = query.where(Incident.instance_id == instance_id)
    query = query.order_by(Incident.created_at.desc(), Incident.id.desc()).limit(min(limit, MAX_LIST))
    return list(session.scalars(query.offset(offset)))


def get_incident(session: Session, incident_id: int, *, actor: User) -> Incident:
    """One incident. Raises Forbidden (not HR or admin), NotFound."""
    _check_role(actor)
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    return incident


def _open_and_locked(
    session: Session, incident_id: int, actor: User, *, need_instance: bool = True
) -> tuple[Incident, ProcessInstance | None]:
    """The incident and its instance, the instance locked first (the order every step takes)."""
    incident = get_incident(session, incident_id, actor=actor)
    instance = instances.lock_instance(session, incident.instance_id) if incident.instance_id else None
    session.refresh(incident, with_for_update=True)
    if incident.status != IncidentStatus.OPEN:
        raise Conflict(f"incident {incident_id} is already resolved ({incident.resolution})")
    if instance is None and need_instance:
        raise Conflict(f"incident {incident_id} has no instance to act on")
    return incident, instance


def _resolve(session, incident: Incident, actor: User, resolution: str, data: Any = None) -> None:
    incident.status = IncidentStatus.RESOLVED
    incident.resolution = resolution
    incident.resolution_data = data
    incident.resolved_by_id = actor.id
    incident.resolved_at = utcnow()
    audit.record(
        session,
        f"incident.{resolution}",
        actor=actor,
        instance_id=incident.instance_id,
        task_id=incident.task_id,
        element_id=incident.element_id,
        incident_id=incident.id,
    )


def _waiting_task(session: Session, incident: Incident, instance: ProcessInstance):
    if instance.status != InstanceStatus.RUNNING:
        raise Conflict(f"instance is {instance.status.value}, not running")
    definition = definitions.snapshot(session, instance.definition_id)
    workflow = runtime.restore_workflow(instance.state, definition.spec_json)
    task = runtime.started_service_task(workflow, incident.task_id) if incident.task_id else None
    if task is None:
        raise Conflict("the service task of this incident no longer waits for a result")
    return definition, workflow, task


def retry(session: Session, incident_id: int, *, actor: User) -> Incident:
    """Run the service task's operator again, in a fresh job with all its attempts.

    Raises Forbidden, NotFound, Conflict (resolved, or the instance or task moved on).
    """
    if _is_timer(session, incident_id, actor):
        return _retry_timer(session, incident_id, actor)
    incident, instance = _open_and_locked(session, incident_id, actor)
    _definition, workflow, task = _waiting_task(session, incident, instance)
    runtime.bump_service_task_round(workflow, task.id)
    instance.state = runtime.save_workflow(workflow)
    fresh = runtime.started_service_task(workflow, task.id)
    job = service_tasks.enqueue(session, instance, fresh)
    session.flush()
    instance.error = None
    instance.updated_at = utcnow()
    _resolve(session, incident, actor, "retried", {"job_id": job.id})
    session.flush()
    return incident


def skip(session: Session, incident_id: int, *, actor: User, output: Any) -> Incident:
    """Complete the service task with ``output`` as its result and run the request on.

    Raises Forbidden, NotFound, InvalidData (output not an object), Conflict, InstanceFailed
    (the route failed after the task; nothing is stored).
    """
    if not isinstance(output, dict):
        raise InvalidData(
            "the output must be a JSON object", [{"field": "data", "message": "must be an object"}]
        )
    if _is_timer(session, incident_id, actor):
        raise Conflict("a timer has no output to give: retry it, or cancel the request")
    incident, instance = _open_and_locked(session, incident_id, actor)
    definition, workflow, task = _waiting_task(session, incident, instance)
    _resolve(session, incident, actor, "skipped", output)
    try:
        service_task_jobs.finish(session, instance, definition, workflow, task.id, output)
    except runtime.StepFailed as exc:
        raise InstanceFailed(
            f"the step after the skipped task failed: {exc}", {"element_id": exc.element_id}
        ) from None
    return incident


def cancel(session: Session, incident_id: int, *, actor: User) -> Incident:
    """Cancel the request the incident stopped. Raises Forbidden, NotFound, Conflict."""
    incident, instance = _open_and_locked(session, incident_id, actor)
    if instance.status != InstanceStatus.RUNNING:
        raise Conflict(f"instance is {instance.status.value}, not running")
    _resolve(session, incident, actor, "cancelled")
    session.flush()
    instances.cancel_locked(session, instance, actor=actor)
    return incident


def _is_timer(session: Session, incident_id: int, actor: User) -> bool:
    return get_incident(session, incident_id, actor=actor).kind == TIMER_KIND


def _retry_timer(session: Session, incident_id: int, actor: User) -> Incident:
    """A timer that kept failing: make it due now, with its failure count back at zero."""
    incident, _instance = _open_and_locked(session, incident_id, actor, need_instance=False)
    timer = session.get(Timer, incident.timer_id, with_for_update=True) if incident.timer_id else None
    if timer is None or timer.status != TimerStatus.PENDING:
        raise Conflict("the timer of this incident no longer waits")
    timer.due_at = utcnow()
    timer.payload = {**(timer.payload or {}), "failures": 0}
    _resolve(session, incident, actor, "retried", {"timer_id": timer.id})
    session.flush()
    return incident
