"""Telling people: in-app notifications, and e-mail sent by a background job.

``notify`` is the one way to tell someone something. It writes the notification row and, in the
same transaction, the outbox job that e-mails it; the text is rendered from ``kind`` and
``params`` in the recipient's language, so params hold ids and plain values, never whole records.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import HumanTask, Notification, ProcessInstance
from engine.services import outbox

EMAIL_JOB = "email_notification"


def notify(
    session: Session,
    user_id: int,
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    instance_id: uuid.UUID | None = None,
    task_id: uuid.UUID | None = None,
    dedupe_key: str | None = None,
) -> Notification:
    """Tell user ``user_id`` about ``kind`` (in-app now, e-mail after commit).

    With ``dedupe_key``, telling the same thing twice (a job run again) returns the first one.
    """
    if dedupe_key is not None:
        existing = session.scalar(select(Notification).where(Notification.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    row = Notification(
        user_id=user_id,
        kind=kind,
        params=params or {},
        instance_id=instance_id,
        task_id=task_id,
        dedupe_key=dedupe_key,
    )
    session.add(row)
    session.flush()
    outbox.enqueue(session, EMAIL_JOB, {"notification_id": row.id}, dedupe_key=f"email:{row.id}")
    return row


def after_step(session: Session, instance: ProcessInstance, created: list[HumanTask]) -> None:
    """Tell assignees about tasks that arrived, and the initiator when the request was decided."""
