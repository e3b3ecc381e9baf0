"""Purging the personal data of requests past retention, and legal holds that stop it.

A purge keeps an anonymised stub of the instance (key, version, status, dates, purged_at), writes a
PurgeRecord (the destruction record of РКН order 179) and an ``instance.purged`` audit event.

Audit events are never changed by a purge: they are append-only and hash-chained, and they hold
ids, action names and field names, not personal data. Once the instance's data, its tasks and its
initiator link are gone, the ids in the trail no longer lead to anything personal on the request;
the users table (names, e-mails) is governed by the staff list, not by request retention.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.db import session_scope
from engine.errors import Conflict, InvalidData
from engine.models import (
    HumanTask,
    IdempotencyKey,
    InstanceStatus,
    ProcessInstance,
    PurgeRecord,
    TaskCandidate,
    User,
)
from engine.models._types import utcnow
from engine.services import audit, decision_records, retention

CLOSED = (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED)
MAX_HOLD_REASON = 2000


@dataclass(frozen=True)
class Candidate:
    """An instance past retention on the day asked about; ``held`` ones are skipped."""

    instance_id: uuid.UUID
    process_key: str
    closed_at: datetime
    retention_class: str
    retain_until: date
    held: bool


def candidates(session: Session, as_of: date) -> Iterator[Candidate]:
    """Closed, unpurged instances whose retention ended before ``as_of``, key by key, oldest first."""
    keys = session.scalars(
        select(ProcessInstance.process_key)
        .where(ProcessInstance.status.in_(CLOSED), ProcessInstance.purged_at.is_(None))
        .distinct()
        .order_by(ProcessInstance.process_key)
    ).all()
    for key in keys:
        name, _source = retention.class_for(session, key)
        query = (
            select(ProcessInstance.id, ProcessInstance.completed_at, ProcessInstance.legal_hold_at)
            .where(
                ProcessInstance.process_key == key,
                ProcessInstance.status.in_(CLOSED),
                ProcessInstance.purged_at.is_(None),
                ProcessInstance.completed_at < retention.closed_before_for_purge(as_of, name),
            )
            .order_by(ProcessInstance.completed_at, ProcessInstance.id)
        )
        for instance_id, closed_at, held_at in session.execute(query):
            yield Candidate(
                instance_id,
                key,
                closed_at,
                name,
                retention.retain_until(closed_at, name),
                held_at is not None,
            )


def purge_instance(
    session: Session, instance_id: uuid.UUID, *, as_of: date, actor: User | None
) -> PurgeRecord | None:
    """Delete the personal data of one instance, re-checking under its lock; None if it is not due."""
    instance = session.scalar(
        select(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if (
        instance is None
        or instance.status not in CLOSED
        or instance.purged_at is not None
        or instance.legal_hold_at is not None
        or instance.completed_at is None
    ):
        return None
    name, _source = retention.class_for(session, instance.process_key)
    until = retention.retain_until(instance.completed_at, name)
    if until >= as_of:
        return None
    task_ids = select(HumanTask.id).where(HumanTask.instance_id == instance.id).scalar_subquery()
    deleted = {
        "task_candidates": session.execute(
            delete(TaskCandidate).where(TaskCandidate.task_id.in_(task_ids))
        ).rowcount,
        "human_tasks": session.execute(
            delete(HumanTask).where(HumanTask.instance_id == instance.id)
        ).rowcount,
        "idempotency_keys": session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.instance_id == instance.id)
        ).rowcount,
        # Their inputs are the person's facts (balances, salary): personal data, so they go too.
        "decision_records": decision_records.erase_for_instance(session, instance.id),
    }
    cleared = ["data", "state", "business_key", "active_business_key", "initiator_id", "error"]
    now = utcnow()
    instance.data = {}
    instance.state = "{}"
    instance.business_key = instance.active_business_key = None
    instance.initiator_id = None
    instance.error = None
    instance.purged_at = instance.updated_at = now
    record = PurgeRecord(
        instance_id=instance.id,
        process_key=instance.process_key,
        retention_class=name,
        closed_at=instance.completed_at,
        retain_until=until,
        purged_at=now,
        purged_by_id=actor.id if actor is not None else None,
        details={"deleted_rows": deleted, "cleared_fields": cleared},
    )
    session.add(record)
    audit.record(
        session,
        "instance.purged",
        actor=actor,
        instance_id=instance.id,
        retention_class=name,
        retain_until=until.isoformat(),
        deleted_rows=deleted,
        cleared_fields=cleared,
    )
    session.flush()
    return record


def purge(
    sessions: sessionmaker[Session], *, as_of: date, actor_id: int | None = None
) -> tuple[list[PurgeRecord], list[Candidate]]:
    """Purge every instance due on ``as_of``, each in its own transaction; returns (purged, held)."""
    with session_scope(sessions) as session:
        due = list(candidates(session, as_of))
    purged = []
    for candidate in due:
        if candidate.held:
            continue
        with session_scope(sessions) as session:
            actor = session.get(User, actor_id) if actor_id is not None else None
            record = purge_instance(session, candidate.instance_id, as_of=as_of, actor=actor)
            if record is not None:
                purged.append(record)
    return purged, [c for c in due if c.held]


def purge_count(session: Session) -> int:
    """How many instances have been purged so far."""
    return session.scalar(select(func.count()).select_from(PurgeRecord)) or 0


# --- legal hold -----------------------------------------------------------------------------------


def set_legal_hold(session: Session, instance: ProcessInstance, reason: str, *, actor: User) -> None:
    """Stop the purge of ``instance`` until the hold is cleared. The reason stays on the instance only."""
    reason = (reason or "").strip()
    if not 0 < len(reason) <= MAX_HOLD_REASON:
        raise InvalidData(
            "a legal hold needs a reason of 1 to 2000 characters",
            [{"field": "reason", "message": "1 to 2000 characters"}],
        )
    if instance.purged_at is not None:
        raise Conflict("the instance was already purged; there is nothing left to hold")
    if instance.legal_hold_at is not None:
        raise Conflict("the instance is already under a legal hold")
    instance.legal_hold_reason = reason
    instance.legal_hold_at = utcnow()
    instance.legal_hold_by_id = actor.id
    # The reason may name people or a court case: the audit event keeps only that a hold was set.
    audit.record(session, "instance.legal_hold_set", actor=actor, instance_id=instance.id)
    session.flush()


def clear_legal_hold(session: Session, instance: ProcessInstance, *, actor: User) -> None:
    """Lift the legal hold of ``instance``; it is purged again once past retention."""
    if instance.legal_hold_at is None:
        raise Conflict("the instance is not under a legal hold")
    instance.legal_hold_reason = None
    instance.legal_hold_at = None
    instance.legal_hold_by_id = None
    audit.record(session, "instance.legal_hold_cleared", actor=actor, instance_id=instance.id)
    session.flush()
