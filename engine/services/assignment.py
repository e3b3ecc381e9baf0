"""Who may act on a user task: from its assignment attributes, or else from its lane."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn.runtime import evaluate_in_task
from engine.errors import InstanceFailed
from engine.models import User

INITIATOR_LANES = {"employee", "initiator"}
MANAGER_LANES = {"manager"}


@dataclass
class Assignment:
    """The outcome: one assignee, or candidates (users and roles) who may claim the task."""

    assignee: User | None = None
    candidate_users: list[User] = field(default_factory=list)
    candidate_roles: list[str] = field(default_factory=list)


def resolve(
    session: Session,
    *,
    element_id: str,
    lane: str | None,
    meta: dict[str, Any],
    initiator_id: int,
    task_data: dict[str, Any],
) -> Assignment:
    """Decide who may act on a ready user task.

    camunda:assignee / candidateUsers / candidateGroups win when present; otherwise the lane
    decides: Employee or Initiator is the initiator, Manager the initiator's line manager, and
    any other name the holders of the role of that name. A task with neither goes to the
    initiator. Raises InstanceFailed when the route names nobody who exists.
    """
    if not any(meta.get(k) for k in ("assignee", "candidate_users", "candidate_groups")):
        return _from_lane(session, element_id, lane, initiator_id)
    context = _expression_context(session, session.get(User, initiator_id))
    try:
        assignee_values = _evaluate(meta.get("assignee"), task_data, context)
        user_values = _evaluate(meta.get("candidate_users"), task_data, context)
        group_values = _evaluate(meta.get("candidate_groups"), task_data, context)
    except Exception as exc:  # any failure of a designer's expression is a route error
        raise InstanceFailed(
            f"task '{element_id}': cannot work out who acts: {exc}", {"element_id": element_id}
        ) from None
    if not (assignee_values or user_values or group_values):
        raise InstanceFailed(
            f"task '{element_id}': the assignment expressions named nobody", {"element_id": element_id}
        )
    result = Assignment(candidate_roles=[g.lower() for g in group_values])
    if assignee_values:
        result.assignee = _user_for(session, assignee_values[0], element_id)
    result.candidate_users = [_user_for(session, v, element_id) for v in user_values]
    return result


def _evaluate(value: str | None, task_data: dict[str, Any], context: dict[str, Any]) -> list[str]:
    if not value:
        return []
    return evaluate_in_task(task_data, value, context)


def _expression_context(session: Session, initiator: User) -> dict[str, Any]:
    manager = session.get(User, initiator.manager_id) if initiator.manager_id else None
    return {
        "initiator": initiator.email,
        "initiator_manager": manager.email if manager else None,
    }


def _user_for(session: Session, value: str, element_id: str) -> User:
    user = session.scalar(select(User).where(User.email == value.strip().lower()))
    if user is None or not user.is_active:
        raise InstanceFailed(
            f"task '{element_id}' is assigned to '{value}', who is not an active user",
            {"element_id": element_id},
        )
    return user


def _from_lane(session: Session, element_id: str, lane: str | None, initiator_id: int) -> Assignment:
    name = (lane or "").strip().lower()
    if not name or name in INITIATOR_LANES:
        return Assignment(assignee=session.get(User, initiator_id))
    if name in MANAGER_LANES:
        initiator = session.get(User, initiator_id)
        if initiator.manager_id is None:
            raise InstanceFailed(
                f"task '{element_id}' goes to the line manager, but {initiator.email} has none",
                {"element_id": element_id},
            )
        return Assignment(assignee=session.get(User, initiator.manager_id))
    return Assignment(candidate_roles=[name])
