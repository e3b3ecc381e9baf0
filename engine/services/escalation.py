"""Firing a human task's SLA rows: remind its holder, warn before the due time, escalate it.

The scheduler (engine.services.timers) calls these with the instance row locked. A row whose task
is no longer open is cancelled instead of fired.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.models import HumanTask, TaskCandidate, TaskStatus, Timer, TimerStatus, User
from engine.models._types import utcnow
from engine.services import audit, notifications

MANAGER_OF_MANAGER = "manager_of_manager"


def _open_task(session: Session, row: Timer) -> HumanTask | None:
    task = session.get(HumanTask, row.task_id) if row.task_id else None
    if task is None or task.status != TaskStatus.OPEN:
        row.status = TimerStatus.CANCELLED
        return None
    return task


def _params(task: HumanTask, row: Timer, reason: str) -> dict[str, Any]:
    return {
        "task_name": task.name,
        "process_key": task.instance.process_key,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "working_days": (row.payload or {}).get("working_days"),
        "reason": reason,
    }


def _tell(session: Session, row: Timer, task: HumanTask, kind: str, reason: str, user_ids: list[int]) -> None:
    for user_id in user_ids:
        notifications.notify(
            session,
            user_id,
            kind,
            _params(task, row, reason),
            instance_id=task.instance_id,
            task_id=task.id,
            dedupe_key=f"timer:{row.id}:{row.fire_count}:{user_id}",
        )


def fire_reminder(session: Session, row: Timer) -> None:
    """reminderAfterWorkingDays: tell the holder the task still waits for them."""
    _remind(session, row, "task_reminder", "task.reminded", "not acted on within {days} working days")


def fire_due_warning(session: Session, row: Timer) -> None:
    """reminderBeforeDueWorkingDays: tell the holder the due time is near."""
    _remind(session, row, "task_due_warning", "task.due_warning", "due in {days} working days")


def _remind(session: Session, row: Timer, kind: str, event: str, reason: str) -> None:
    from engine.services.timers import mark_fired

    task = _open_task(session, row)
    if task is None:
        return
    mark_fired(row)
    reason = reason.format(days=(row.payload or {}).get("working_days"))
    recipients = notifications.task_audience(session, task)
    _tell(session, row, task, kind, reason, recipients)
    audit.record(
        session, event, instance_id=task.instance_id, task_id=task.id, recipients=recipients, reason=reason
    )


def fire_escalation(session: Session, row: Timer) -> None:
    """escalationAfterWorkingDays: move the task to the holder's manager, or to a role, and say why."""
    from engine.services.timers import mark_fired

    task = _open_task(session, row)
    if task is None:
        return
    mark_fired(row)
    payload = row.payload or {}
    reason = f"not acted on within {payload.get('working_days')} working days"
    target = payload.get("escalate_to") or MANAGER_OF_MANAGER
    former = notifications.task_audience(session, task)
    previous = task.assignee_id
    if target == MANAGER_OF_MANAGER:
        new_holder, why_not = _manager_above(session, task)
        if new_holder is None:
            audit.record(
                session,
                "task.escalation_skipped",
                instance_id=task.instance_id,
                task_id=task.id,
                reason=why_not,
            )
            return
        task.assignee_id = new_holder.id
        task.candidates = []
        task.candidate_summary = {"users": [new_holder.email], "roles": []}
    else:
        role = target.split(":", 1)[1]
        task.assignee_id = None
        task.candidates = [TaskCandidate(role=role)]
        task.candidate_summary = {"users": [], "roles": [role]}
    task.on_behalf_of_id = None
    task.escalated_at = utcnow()
    task.escalated_from_id = previous
    task.escalated_from_reads = bool(payload.get("keeps_original")) and previous is not None
    audit.record(
        session,
        "task.escalated",
        instance_id=task.instance_id,
        task_id=task.id,
        escalated_from=previous,
        assignee=task.assignee_id,
        candidate_roles=[target.split(":", 1)[1]] if target != MANAGER_OF_MANAGER else [],
        keeps_original=task.escalated_from_reads,
        reason=reason,
    )
    session.flush()
    new_holders = notifications.task_audience(session, task)  # who holds it now, as for a new task
    _tell(
        session,
        row,
        task,
        "task_escalated",
        reason,
        new_holders + [u for u in former if u not in new_holders],
    )


def _manager_above(session: Session, task: HumanTask) -> tuple[User | None, str]:
    """The manager of the person the task is assigned to (or whom its assignee stands in for)."""
    holder_id = task.on_behalf_of_id or task.assignee_id
    if holder_id is None:
        return None, "nobody holds the task, so there is no manager to escalate to"
    holder = session.get(User, holder_id)
    manager = session.get(User, holder.manager_id) if holder and holder.manager_id else None
    if manager is None or not manager.is_active:
        return None, "the task's holder has no active manager to escalate to"
    if manager.id in (task.excluded_user_ids or ()):
        return None, "the manager above may not act on this task (separation of duties)"
    return manager, ""
