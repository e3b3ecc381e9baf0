"""Writing audit events. Every change to an instance, task or definition records one."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import AuditEvent, User


def record(
    session: Session,
    action: str,
    *,
    actor: User | None = None,
    instance_id: uuid.UUID | None = None,
    task_id: uuid.UUID | None = None,
    definition_id: uuid.UUID | None = None,
    **details: Any,
) -> AuditEvent:
    """Append one audit event to the session."""
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        instance_id=instance_id,
        task_id=task_id,
        definition_id=definition_id,
        details=details,
    )
    session.add(event)
    return event


def events_for_instance(session: Session, instance_id: uuid.UUID) -> list[AuditEvent]:
    """The audit trail of one instance, oldest first."""
    query = select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
    return list(session.scalars(query))
