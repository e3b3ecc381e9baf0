"""The human-task inbox: list, read, claim and complete."""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from engine.bpmn import runtime
from engine.errors import Conflict, Forbidden, InstanceFailed, NotFound
from engine.models import HumanTask, ProcessInstance, TaskStatus, User
from engine.models._types import utcnow
from engine.services import (
    audit,
    decision_tables,
    definitions,
    masking,
    process_hooks,
    substitutes,
    visibility,
)
from engine.services.steps import persist_step
from engine.services.submissions import check_submission


def list_tasks(session: Session, *, user: User, limit: int = 100, offset: int = 0) -> list[HumanTask]:
    """Open tasks the user may act on now, oldest first."""
    query = (
        select(HumanTask)
        .options(selectinload(HumanTask.instance))
        .where(visibility.may_act_clause(user, substitutes.acting_for(session, user)))
        .order_by(HumanTask.created_at, HumanTask.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query))


def get_task(session: Session, task_id: uuid.UUID, *, viewer: User) -> tuple[HumanTask, ProcessInstance]:
    """A task and its instance, if the viewer may see them. Raises NotFound otherwise."""
    task = session.get(HumanTask, task_id)
    if task is None or not visibility.can_see_task(session, viewer, task, task.instance):
        raise NotFound(f"task {task_id} not found")
    return task, task.instance


def _check_may_act(
    actor: User, task: HumanTask, instance: ProcessInstance, acting_for: frozenset[int]
) -> int | None:
    """Raise Forbidden unless ``actor`` may act on ``task``; returns whom they act for, if anyone.

    ``acting_for``: the people ``actor`` stands in for today. Separation of duties gets its own
    message, so the refused person knows why.
    """
    if visibility.is_excluded(actor, task):
        if actor.id == instance.initiator_id:
            raise Forbidden("separation of duties: you may not approve your own request")
        raise Forbidden("separation of duties: you approved an earlier step of this request")
    if not visibility.may_act(actor, task, acting_for):
        _refuse(task)
    if task.assignee_id is not None and task.assignee_id != actor.id:
        return task.assignee_id  # a task its holder left behind when they went away
    if task.assignee_id is None and not visibility.is_candidate(actor, task):
        return next(c.user_id for c in task.candidates if c.user_id in acting_for)
    return task.on_behalf_of_id


def _refuse(task: HumanTask) -> NoReturn:
    if task.assignee_id is not None:
        raise Forbidden("you may not act on this task: it is assigned to someone else")
    raise Forbidden("you are not a candidate for this task")


def _locked(
    session: Session, task_id: uuid.UUID, actor: User
) -> tuple[HumanTask, list[HumanTask], frozenset[int]]:
    """Lock the task's instance, then read the task, and the instance's open tasks, under the lock.

    Also returns whom ``actor`` stands in for today, read once for the whole step.
    """
    instance = session.scalar(
        select(ProcessInstance)
        .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
        .where(HumanTask.id == task_id)
        .with_for_update(of=ProcessInstance)
        .execution_options(populate_existing=True)
    )
    if instance is None:
        raise NotFound(f"task {task_id} not found")
    rows = list(
        session.scalars(
            select(HumanTask)
            .where(
                or_(
                    HumanTask.id == task_id,
                    (HumanTask.instance_id == instance.id) & (HumanTask.status == TaskStatus.OPEN),
                )
            )
            .execution_options(populate_existing=True)
        )
    )
    task = next(row for row in rows if row.id == task_id)
    # Bind the locked instance to the task now, while it is still referenced, so reading
    # task.instance later costs no query (the session only holds objects weakly).
    set_committed_value(task, "instance", instance)
    acting_for = substitutes.acting_for(session, actor)
    if not visibility.can_see_task(session, actor, task, instance, acting_for):
        raise NotFound(f"task {task_id} not found")
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"task is already {task.status.value}")
    return task, rows, acting_for


def claim_task(session: Session, task_id: uuid.UUID, *, actor: User) -> HumanTask:
    """Take an open task so that only the claimer may complete it.

    Raises NotFound, Conflict (done, or claimed by someone else), Forbidden (not a candidate).
    """
    task, _open, acting_for = _locked(session, task_id, actor)
    instance = task.instance
    if task.assignee_id == actor.id:
        return task
    if task.assignee_id is not None and task.assignee_id not in acting_for:
        raise Conflict("task is already claimed by someone else")
    on_behalf_of = _check_may_act(actor, task, instance, acting_for)
    task.assignee_id = actor.id
    task.on_behalf_of_id = on_behalf_of
    audit.record(
        session,
        "task.claimed",
        actor=actor,
        instance_id=instance.id,
        task_id=task.id,
        on_behalf_of=on_behalf_of,
    )
    session.flush()
    return task


def complete_task(session: Session, task_id: uuid.UUID, *, actor: User, data: Any) -> HumanTask:
    """Complete a task with form data and run the instance until it waits again.

    The instance row stays locked for the whole step. Raises NotFound, Conflict (already done),
    Forbidden (may not act), InvalidData (form errors) and InstanceFailed (the route failed).
    """
    task, open_rows, acting_for = _locked(session, task_id, actor)
    instance = task.instance
    task.on_behalf_of_id = _check_may_act(actor, task, instance, acting_for)
    definition = definitions.snapshot(session, instance.definition_id)
    if not visibility.sees_sensitive_data(actor, instance):
        # The actor saw sensitive fields as asterisks; submitted back unchanged they keep the stored value.
        paths = masking.definition_sensitive_paths(definition)
        data = masking.restore_masked(data, instance.data, paths)
    check_submission(data, definition.form_schema(task.form), what="the form")
    data = {
        **data,
        **process_hooks.hooks_for(instance.process_key).before_complete(session, instance, task, actor, data),
    }
    try:
        _run_step(session, task, instance, definition, actor, data, open_rows)
    except InstanceFailed as exc:
        exc.instance_id, exc.task_id = instance.id, task.id
        raise
    session.flush()
    return task


def _run_step(session, task, instance, definition, actor, data, open_rows) -> None:
    workflow = runtime.restore_workflow(instance.state, definition.spec_json)
    try:
        with decision_tables.in_force(session):  # HR's current DMN versions
            runtime.complete_user_task(workflow, task.id, data)
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
            on_behalf_of=task.on_behalf_of_id,
        )
        persist_step(
            session,
            instance=instance,
            workflow=workflow,
            definition=definition,
            actor=actor,
            open_rows=open_rows,
        )
    except LookupError as exc:
        raise Conflict(str(exc)) from None
    except runtime.StepFailed as exc:
        raise InstanceFailed(f"the step failed: {exc}", {"element_id": exc.element_id}) from None
