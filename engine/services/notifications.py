"""Telling people: in-app notifications, and e-mail sent by a background job.

``notify`` is the one way to tell someone something. It writes the notification row and, in the
same transaction, the outbox job that e-mails it; the text is rendered from ``kind`` and
``params`` in the recipient's language, so params hold ids and plain values, never whole records.

``after_step`` tells people what a workflow step did for them: a task arrived, a request was decided.
The readers (``list_for``, ``mark_read``) serve the API's in-app list.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, cast, func, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.models import HumanTask, InstanceStatus, Notification, ProcessInstance, User
from engine.services import definitions, outbox

EMAIL_JOB = "email_notification"
# Params that may be e-mailed once and are then dropped (worker.operators.email): activation codes.
ONE_TIME_PARAMS = ("activation_code",)
# A task offered to a role held by more people than this is not announced to each of them: a
# broadcast to a whole department would bury the message; the role's inbox still lists the task.
ROLE_FAN_OUT_LIMIT = 50
# Where a process says how its request ended, in this order; the first text value wins.
OUTCOME_KEYS = ("outcome", "leave_status", "decision", "status")
_REFUSALS = frozenset({"reject", "rejected", "decline", "declined", "refuse", "refused"})


def notify(
    session: Session,
    user_id: int,
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    instance_id: uuid.UUID | None = None,
    task_id: uuid.UUID | None = None,
    dedupe_key: str | None = None,
    key_is_new: bool = False,
) -> Notification:
    """Tell user ``user_id`` about ``kind`` (in-app now, e-mail after commit).

    With ``dedupe_key``, telling the same thing twice (a job run again) returns the first one.
    ``key_is_new``: the caller knows no row can hold the key yet (it names a task created in this
    transaction), so the look-up is skipped; the unique constraint still stands guard.
    """
    if dedupe_key is not None and not key_is_new:
        existing = session.scalar(select(Notification).where(Notification.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    params = params or {}
    if instance_id is not None and "process_names" not in params:
        instance = session.get(ProcessInstance, instance_id)
        if instance is not None:
            params = {**_about(session, instance), **params}
    emailed = email_configured()
    if not emailed:
        # Nothing will e-mail it, so a one-time secret (an activation code) has nowhere to go.
        params = {k: v for k, v in params.items() if k not in ONE_TIME_PARAMS}
    row = Notification(
        user_id=user_id,
        kind=kind,
        params=params,
        instance_id=instance_id,
        task_id=task_id,
        dedupe_key=dedupe_key,
        email_status="pending" if emailed else "skipped",
    )
    session.add(row)
    session.flush()  # callers may need its id
    if emailed:
        # One e-mail job per notification, which was just inserted: no earlier job can exist for it.
        outbox.enqueue(session, EMAIL_JOB, {"notification_id": row.id})
    return row


def email_configured() -> bool:
    """Whether e-mail goes out (APPROUTE_SMTP_HOST set). Read per call: the environment decides."""
    return bool(os.environ.get("APPROUTE_SMTP_HOST"))


def role_holders(session: Session, role: str, *, limit: int | None = None) -> list[int]:
    """Ids of the active users holding ``role``, by id; at most ``limit`` + 1 when a limit is given.

    Roles are a JSON list on the user: the text match narrows the rows in the database (on both
    SQLite and PostgreSQL), the exact check is done here.
    """
    role = role.strip().lower()
    query = (
        select(User.id, User.role_names)
        .where(User.is_active.is_(True), cast(User.role_names, String).like(f'%"{role}"%'))
        .order_by(User.id)
    )
    found = [user_id for user_id, roles in session.execute(query) if role in (roles or ())]
    return found if limit is None else found[: limit + 1]


def notify_role(
    session: Session,
    role: str,
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    instance_id: uuid.UUID | None = None,
    task_id: uuid.UUID | None = None,
    dedupe_prefix: str | None = None,
) -> list[Notification]:
    """Tell every active holder of ``role``; ``dedupe_prefix`` + ':' + user id dedupes each."""
    return [
        notify(
            session,
            user_id,
            kind,
            params,
            instance_id=instance_id,
            task_id=task_id,
            dedupe_key=f"{dedupe_prefix}:{user_id}" if dedupe_prefix else None,
        )
        for user_id in role_holders(session, role)
    ]


def after_step(session: Session, instance: ProcessInstance, created: list[HumanTask]) -> None:
    """Tell assignees about tasks that arrived, and the initiator when the request was decided."""
    if not created and instance.status not in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
        return
    about = _about(session, instance)
    for task in created:
        params = {"task_name": task.name, **about}
        for user_id in task_audience(session, task):
            notify(
                session,
                user_id,
                "task_assigned",
                params,
                instance_id=instance.id,
                task_id=task.id,
                dedupe_key=f"task_assigned:{task.id}:{user_id}",
                key_is_new=True,  # the task was created in this very step
            )
    if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED) and instance.initiator_id:
        notify(
            session,
            instance.initiator_id,
            "request_decided",
            {"outcome": outcome_of(instance), **about},
            instance_id=instance.id,
            dedupe_key=f"request_decided:{instance.id}",
        )


def outcome_of(instance: ProcessInstance) -> str:
    """How a finished request ended, for the initiator: approved, rejected, cancelled, completed, ...

    A process may say it itself by setting ``outcome`` in its data (or ``decision``/``status``; the
    leave route keeps ``leave_status``). Otherwise a ``*_decision`` field that refused makes it
    rejected, decisions that all approved make it approved, and anything else is "completed".
    """
    if instance.status == InstanceStatus.CANCELLED:
        return "cancelled"
    data = instance.data or {}
    for key in OUTCOME_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    decisions = [
        str(value).strip().lower()
        for key, value in data.items()
        if key.endswith("_decision") and isinstance(value, str)
    ]
    if any(value in _REFUSALS for value in decisions):
        return "rejected"
    if decisions and all(value in ("approve", "approved", "accept", "accepted") for value in decisions):
        return "approved"
    return "completed"


def _about(session: Session, instance: ProcessInstance) -> dict[str, Any]:
    """What every notice about a request names: its process (per language) and business key."""
    definition = definitions.snapshot(session, instance.definition_id)  # cached per version
    return {
        "process_key": instance.process_key,
        "process_name": definition.name,
        "process_names": dict(definition.names),
        "business_key": instance.business_key,
    }


def task_audience(session: Session, task: HumanTask) -> list[int]:
    """Who is told about a task (its arrival, its reminders): the people who hold it now.

    Its assignee, or else each active candidate user and holder of a candidate role (roles held by
    more than ROLE_FAN_OUT_LIMIT people are not broadcast), less those separation of duties excludes.
    """
    excluded = set(task.excluded_user_ids or ())
    if task.assignee_id is not None:
        return [task.assignee_id] if task.assignee_id not in excluded else []
    named = [c.user_id for c in task.candidates if c.user_id is not None]
    active = _active(session, named)  # no query when there are none
    found = [user_id for user_id in named if user_id in active]
    for candidate in task.candidates:
        if candidate.user_id is None and candidate.role:
            holders = role_holders(session, candidate.role, limit=ROLE_FAN_OUT_LIMIT)  # active ones only
            if len(holders) <= ROLE_FAN_OUT_LIMIT:
                found.extend(holders)
    return [user_id for user_id in dict.fromkeys(found) if user_id not in excluded]


def _active(session: Session, user_ids: Iterable[int]) -> set[int]:
    ids = set(user_ids)
    if not ids:
        return set()
    return set(session.scalars(select(User.id).where(User.id.in_(ids), User.is_active.is_(True))))


# --- the in-app list ------------------------------------------------------------------------------


def list_for(
    session: Session, user: User, *, unread_only: bool = False, limit: int = 50, offset: int = 0
) -> list[Notification]:
    """``user``'s own notifications, newest first."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def unread_count(session: Session, user: User) -> int:
    """How many of ``user``'s notifications are unread."""
    return session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def get_own(session: Session, user: User, notification_id: int) -> Notification | None:
    """``user``'s notification ``notification_id``; None for an unknown id and for someone else's alike."""
    row = session.get(Notification, notification_id)
    return row if row is not None and row.user_id == user.id else None


def mark_read(session: Session, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark ``user``'s notifications ``ids`` (None: all of them) read; returns how many changed.

    Ids of other people's notifications change nothing: the user filter is part of the update.
    """
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        wanted = list(ids)
        if not wanted:
            return 0
        query = query.where(Notification.id.in_(wanted))
    result = session.execute(query.values(read_at=clock.now()).execution_options(synchronize_session=False))
    return result.rowcount or 0
