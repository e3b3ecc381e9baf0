"""Persist what a workflow step did: state, status, human tasks and their audit events.

Start, complete and cancel all end here, inside the caller's transaction, so a step is
stored whole or not at all.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import runtime
from engine.bpmn.state import json_default
from engine.errors import InstanceFailed
from engine.models import (
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    TaskCandidate,
    TaskStatus,
    User,
)
from engine.models._types import utcnow
from engine.services import (
    assignment,
    audit,
    decision_tables,
    notifications,
    process_hooks,
    service_tasks,
    timers,
)
from engine.services.definitions import DefinitionSnapshot


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=json_default))


def persist_step(
    session: Session,
    *,
    instance: ProcessInstance,
    workflow,
    definition: DefinitionSnapshot,
    actor: User | None,
    open_rows: list[HumanTask] | None = None,
) -> list[HumanTask]:
    """Write the workflow's new state and bring the human-task rows in line with it.

    ``open_rows`` are the instance's open task rows when the caller already loaded them.
    Returns the human tasks created by this step.
    """
    with session.no_autoflush:
        return _persist(session, instance, workflow, definition, actor, open_rows)


def _persist(session, instance, workflow, definition, actor, open_rows) -> list[HumanTask]:
    now = utcnow()
    # The business-rule tasks this step evaluated come first in the history, as they did in the run.
    decision_tables.record_evaluations(
        session,
        instance=instance,
        workflow=workflow,
        definition=definition,
        actor=actor,
    )
    ready = {t.id: t for t in runtime.ready_user_tasks(workflow)}
    if open_rows is None:
        open_rows = list(
            session.scalars(
                select(HumanTask).where(
                    HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.OPEN
                )
            )
        )
    just_completed = [row for row in open_rows if row.status == TaskStatus.COMPLETED]
    open_rows = [row for row in open_rows if row.status == TaskStatus.OPEN]
    for row in open_rows:
        if row.id not in ready:
            # The token moved on without a person: a boundary event, a cancellation.
            row.status = TaskStatus.CANCELLED
            row.completed_at = now
            audit.record(session, "task.cancelled", actor=actor, instance_id=instance.id, task_id=row.id)
    known = {row.id for row in open_rows}
    created = []
    approvers = _EarlierApprovers(session, instance, just_completed)
    for task in ready.values():
        if task.id in known:
            continue
        created.append(_create_task_row(session, instance, definition, actor, task, now, approvers))

    instance.data = _json_safe(runtime.current_data(workflow))
    instance.updated_at = now
    instance.error = None  # a step went through, so an earlier failure is behind it
    if runtime.is_completed(workflow) and instance.status == InstanceStatus.RUNNING:
        instance.status = InstanceStatus.COMPLETED
        instance.active_business_key = None
        instance.completed_at = now
        audit.record(session, "instance.completed", actor=actor, instance_id=instance.id)
        process_hooks.hooks_for(instance.process_key).on_finished(session, instance)
    # Background work the step caused is written in its transaction: service-task jobs, timer
    # rows (BPMN timers and the SLA policies of the new tasks), and notifications.
    service_tasks.schedule_started(session, instance, workflow)
    timers.sync_instance(session, instance, workflow, definition, created)
    notifications.after_step(session, instance, created)
    instance.state = runtime.save_workflow(workflow)
    return created


class _EarlierApprovers:
    """The people who completed this instance's tasks (and whom they stood in for), read on first need.

    The task completed in this very step is not flushed yet (no_autoflush), so it comes in from memory.
    """

    def __init__(self, session: Session, instance: ProcessInstance, just_completed: list[HumanTask]):
        self.session, self.instance, self.just_completed = session, instance, just_completed
        self._ids: frozenset[int] | None = None

    def ids(self) -> frozenset[int]:
        if self._ids is None:
            rows = self.session.execute(
                select(HumanTask.completed_by_id, HumanTask.on_behalf_of_id).where(
                    HumanTask.instance_id == self.instance.id, HumanTask.status == TaskStatus.COMPLETED
                )
            ).all()
            rows += [(row.completed_by_id, row.on_behalf_of_id) for row in self.just_completed]
            found = {person for row in rows for person in row if person is not None}
            # The initiator's own steps (a rework) are not approvals.
            self._ids = frozenset(found - {self.instance.initiator_id})
        return self._ids


def _create_task_row(session, instance, definition, actor, task, now, approvers) -> HumanTask:
    meta = definition.task_meta.get(task.element_id, {})
    who = assignment.resolve(
        session,
        element_id=task.element_id,
        lane=task.lane,
        meta=meta,
        initiator_id=instance.initiator_id,
        task_data=task.data,
        process_key=instance.process_key,
        earlier_approver_ids=approvers.ids() if meta.get("distinct_approver") else frozenset(),
    )
    due_at = None
    if meta.get("due"):
        try:
            due_at = runtime.due_in_task(task.data, meta["due"], now)
        except Exception as exc:  # a designer's expression failing is a route error
            raise InstanceFailed(
                f"task '{task.element_id}': cannot work out its due date: {exc}",
                {"element_id": task.element_id},
            ) from None
    row = HumanTask(
        id=task.id,
        due_at=due_at,
        instance=instance,
        element_id=task.element_id,
        name=task.name,
        lane=task.lane,
        form=meta.get("form"),
        assignee_id=who.assignee.id if who.assignee else None,
        on_behalf_of_id=who.on_behalf_of.id if who.on_behalf_of else None,
        excluded_user_ids=list(who.excluded_user_ids),
        status=TaskStatus.OPEN,
        created_at=now,
        candidate_summary={
            "users": [u.email for u in who.candidate_users],
            "roles": list(who.candidate_roles),
        },
        candidates=[TaskCandidate(user_id=u.id) for u in who.candidate_users]
        + [TaskCandidate(role=r) for r in who.candidate_roles],
    )
    session.add(row)
    # Audit details hold user ids, not e-mails: the trail must not spread personal data.
    audit.record(
        session,
        "task.created",
        actor=actor,
        instance_id=instance.id,
        task_id=task.id,
        element_id=task.element_id,
        assignee=who.assignee.id if who.assignee else None,
        candidate_users=[u.id for u in who.candidate_users],
        candidate_roles=who.candidate_roles,
        excluded=list(who.excluded_user_ids),
        reasons=list(who.reasons),
    )
    if who.on_behalf_of is not None:
        audit.record(
            session,
            "task.assigned",
            actor=actor,
            instance_id=instance.id,
            task_id=task.id,
            subject_id=who.on_behalf_of.id,
            assignee=who.assignee.id,
            on_behalf_of=who.on_behalf_of.id,
            reason="out of office",
        )
    return row
