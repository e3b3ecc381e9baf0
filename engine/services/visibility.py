"""The one place that decides who may see and act on instances and tasks."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.orm import Session

from engine.models import HumanTask, ProcessInstance, TaskCandidate, TaskStatus, User
from engine.services.users import report_ids

SEES_EVERYTHING = ("hr", "admin")


def sees_everything(user: User) -> bool:
    """HR and admins see every instance and task."""
    return user.has_role(*SEES_EVERYTHING)


def candidate_clause(user: User) -> ColumnElement[bool]:
    """SQL condition: ``user`` is a candidate of the task, by name or by role."""
    roles = [r.lower() for r in user.roles]
    return exists().where(
        TaskCandidate.task_id == HumanTask.id,
        or_(
            TaskCandidate.user_id == user.id,
            TaskCandidate.role.in_(roles) if roles else false(),
        ),
    )


def may_act_clause(user: User) -> ColumnElement[bool]:
    """SQL condition: the open task is assigned to ``user`` or open to them as a candidate."""
    candidate = candidate_clause(user)
    return and_(
        HumanTask.status == TaskStatus.OPEN,
        or_(
            HumanTask.assignee_id == user.id,
            and_(HumanTask.assignee_id.is_(None), candidate),
        ),
    )


def is_candidate(user: User, task: HumanTask) -> bool:
    """True if ``user`` is named among the task's candidates, or holds a candidate role."""
    roles = {r.lower() for r in user.roles}
    return any(c.user_id == user.id or (c.role and c.role in roles) for c in task.candidates)


def may_act(user: User, task: HumanTask) -> bool:
    """True if ``user`` may claim or complete ``task`` now."""
    if task.status != TaskStatus.OPEN:
        return False
    if task.assignee_id is not None:
        return task.assignee_id == user.id
    return is_candidate(user, task)


def visible_instances_clause(session: Session, user: User) -> ColumnElement[bool]:
    """SQL condition on ProcessInstance: the instances ``user`` may see."""
    if sees_everything(user):
        return ProcessInstance.id.is_not(None)
    people = {user.id} | report_ids(session, user)
    involved = select(HumanTask.instance_id).where(_involved_clause(user)).scalar_subquery()
    return or_(ProcessInstance.initiator_id.in_(people), ProcessInstance.id.in_(involved))


def _involved_clause(user: User) -> ColumnElement[bool]:
    """SQL condition on HumanTask: ``user`` holds, held, completed or may claim the task."""
    return or_(
        HumanTask.assignee_id == user.id,
        HumanTask.completed_by_id == user.id,
        candidate_clause(user),
    )


def can_see_instance(session: Session, user: User, instance: ProcessInstance) -> bool:
    """True if ``user`` may see ``instance`` and its tasks."""
    if sees_everything(user) or instance.initiator_id == user.id:
        return True
    if instance.initiator_id in report_ids(session, user):
        return True
    query = select(HumanTask.id).where(HumanTask.instance_id == instance.id, _involved_clause(user)).limit(1)
    return session.scalar(query) is not None


def can_see_task(session: Session, user: User, task: HumanTask, instance: ProcessInstance) -> bool:
    """A task is visible to its assignee and candidates, and to whoever may see its instance.

    A candidate keeps seeing a task someone else claimed, so they are told it is taken.
    """
    # may_act() needs one of the first two, so they cover everyone who may act.
    return (
        task.assignee_id == user.id or is_candidate(user, task) or can_see_instance(session, user, instance)
    )
