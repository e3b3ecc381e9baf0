"""The human-task inbox: list, read, claim and complete."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import runtime
from engine.errors import Conflict, Forbidden, InstanceFailed, InvalidData, NotFound
from engine.models import HumanTask, ProcessInstance, TaskStatus, User
from engine.models._types import utcnow
from engine.services import audit, definitions, visibility
from engine.services.instances import lock_instance
from engine.services.steps import persist_step
from forms import validate_form


def list_tasks(session: Session, *, user: User, limit: int = 100, offset: int = 0) -> list[HumanTask]:
    """Open tasks the user may act on now, oldest first."""
    query = (
        select(HumanTask)
        .where(visibility.may_act_clause(user))
        .order_by(HumanTask.created_at, HumanTask.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query))


def get_task(session: Session, task_id: uuid.UUID, *, viewer: User) -> tuple[HumanTask, ProcessInstance]:
    """A task and its instance, if the viewer may see them. Raises NotFound otherwise."""
    task = session.get(HumanTask, task_id)
    instance = session.get(ProcessInstance, task.instance_id) if task is not None else None
    if task is None or not visibility.can_see_task(session, viewer, task, instance):
        raise NotFound(f"task {task_id} not found")
    return task, instance


def _locked(session: Session, task_id: uuid.UUID, actor: User) -> tuple[HumanTask, ProcessInstance]:
    """Lock the task's instance, then read the task as it is under the lock."""
    instance_id = session.scalar(select(HumanTask.instance_id).where(HumanTask.id == task_id))
    if instance_id is None:
        raise NotFound(f"task {task_id} not found")
    instance = lock_instance(session, instance_id)
    task = session.scalar(
        select(HumanTask).where(HumanTask.id == task_id).execution_options(populate_existing=True)
    )
    if not visibility.can_see_task(session, actor, task, instance):
        raise NotFound(f"task {task_id} not found")
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"task is already {task.status.value}")
    return task, instance


def claim_task(session: Session, task_id: uuid.UUID, *, actor: User) -> HumanTask:
    """Take an open task so that only the claimer may complete it.

    Raises NotFound, Conflict (done, or claimed by someone else), Forbidden (not a candidate).
    """
    task, instance = _locked(session, task_id, actor)
    if task.assignee_id == actor.id:
        return task
    if task.assignee_id is not None:
        raise Conflict("task is already claimed by someone else")
    if not visibility.may_act(actor, task):
        raise Forbidden("you are not a candidate for this task")
    task.assignee_id = actor.id
    audit.record(session, "task.claimed", actor=actor, instance_id=instance.id, task_id=task.id)
    session.flush()
    return task


def complete_task(session: Session, task_id: uuid.UUID, *, actor: User, data: Any) -> HumanTask:
    """Complete a task with form data and run the instance until it waits again.

    The instance row stays locked for the whole step. Raises NotFound, Conflict (already done),
    Forbidden (may not act), InvalidData (form errors) and InstanceFailed (the route failed).
    """
    task, instance = _locked(session, task_id, actor)
    if not visibility.may_act(actor, task):
        raise Forbidden("you may not act on this task")
    if not isinstance(data, dict):
        raise InvalidData("data must be an object", [{"field": "data", "message": "must be an object"}])
    definition = definitions.snapshot(session, instance.definition_id)
    schema = definition.form_schema(task.form)
    if schema is not None:
        errors = validate_form(schema, data)
        if errors:
            raise InvalidData(
                "the form has errors", [{**e.as_dict(), "field": f"data.{e.field}".rstrip(".")} for e in errors]
            )
    workflow = runtime.restore_workflow(instance.state, definition.spec_json)
    try:
        runtime.complete_user_task(workflow, task.id, data)
    except LookupError as exc:
        raise Conflict(str(exc)) from None
    except runtime.StepFailed as exc:
        raise InstanceFailed(f"the step failed: {exc}", {"element_id": exc.element_id}) from None
    now = utcnow()
    task.status = TaskStatus.COMPLETED
    task.completed_at = now
    task.completed_by_id = actor.id
    audit.record(
        session,
        "task.completed",
        actor=actor,
        instance_id=instance.id,
        task_id=task.id,
        element_id=task.element_id,
        fields=sorted(data),
    )
    initiator = session.get(User, instance.initiator_id)
    try:
        persist_step(
            session, instance=instance, workflow=workflow, definition=definition, initiator=initiator, actor=actor
        )
    except runtime.StepFailed as exc:
        raise InstanceFailed(f"the step failed: {exc}", {"element_id": exc.element_id}) from None
    session.flush()
    return task
