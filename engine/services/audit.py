"""Writing and checking audit events: an append-only, hash-chained trail of every change.

``record`` does not touch the chain: it keeps the event in the session. Just before the session
commits, ``_chain_pending`` locks the chain's head row, gives each kept event the next sequence
number, the previous event's hash and its own hash, inserts them and moves the head. So the one
global lock is held only for the last moments of a transaction, never while a step runs.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction

from engine.models import AuditChainHead, AuditEvent, ProcessInstance, User
from engine.models._types import utcnow

GENESIS_HASH = "0" * 64
HEAD_ID = 1
_PENDING = "approute.audit.pending"


def record(
    session: Session,
    action: str,
    *,
    actor: User | None = None,
    instance_id: uuid.UUID | None = None,
    task_id: uuid.UUID | None = None,
    definition_id: uuid.UUID | None = None,
    subject_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Keep one audit event in the session; it joins the chain and the table when the session commits.

    ``details`` must be JSON (ids, field names, counts; never personal data). They are stored as
    they hash, so a value JSON cannot hold fails here rather than at commit.
    """
    audit_event = AuditEvent(
        at=utcnow(),
        action=action,
        actor_id=actor.id if actor is not None else None,
        instance_id=instance_id,
        task_id=task_id,
        definition_id=definition_id,
        subject_id=subject_id,
        details=json.loads(_canonical_json(details)),
    )
    # Remember the innermost transaction, so a rolled-back savepoint takes its events with it.
    transaction = session.get_nested_transaction()
    session.info.setdefault(_PENDING, []).append((audit_event, transaction))
    return audit_event


def events_for_instance(session: Session, instance_id: uuid.UUID) -> list[AuditEvent]:
    """The audit trail of one instance, oldest first (committed events only)."""
    query = select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.chain_seq)
    return list(session.scalars(query))


def trail_of_person(session: Session, user_id: int) -> list[AuditEvent]:
    """Events where the person acted or was the subject, or on instances they started; in chain order."""
    started = select(ProcessInstance.id).where(ProcessInstance.initiator_id == user_id)
    query = (
        select(AuditEvent)
        .where(
            (AuditEvent.actor_id == user_id)
            | (AuditEvent.subject_id == user_id)
            | AuditEvent.instance_id.in_(started)
        )
        .order_by(AuditEvent.chain_seq)
    )
    return list(session.scalars(query))


# --- the chain ---------------------------------------------------------------------------------


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(row: Any) -> str:
    """sha256 over the canonical JSON of an event's fields and the hash before it.

    ``row`` is an AuditEvent or a result row with the same attribute names.
    """
    fields = {
        "seq": row.chain_seq,
        "at": _iso(row.at),
        "actor_id": row.actor_id,
        "action": row.action,
        "instance_id": _text(row.instance_id),
        "task_id": _text(row.task_id),
        "definition_id": _text(row.definition_id),
        "subject_id": row.subject_id,
        "details": row.details,
        "prev_hash": row.prev_hash,
    }
    return hashlib.sha256(_canonical_json(fields).encode("utf-8")).hexdigest()


@event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    # before_commit also fires when a savepoint is released; the chain is written once, at the end.
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, None)
    if pending:
        _append(session, [audit_event for audit_event, _transaction in pending])


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, rolled_back: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if not rolled_back.nested:
        session.info.pop(_PENDING, None)
        return
    session.info[_PENDING] = [
        (audit_event, transaction)
        for audit_event, transaction in pending
        if not _inside(transaction, rolled_back)
    ]


@event.listens_for(Session, "after_transaction_end")
def _drop_unfinished(session: Session, transaction: SessionTransaction) -> None:
    # A session closed without commit keeps its info dict; events it never committed must not
    # ride along into the next transaction of the same session.
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_PENDING, None)


def _inside(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def _append(session: Session, events: list[AuditEvent]) -> None:
    """Give ``events`` their places in the chain, insert them and move the head, under the head's lock."""
    # Inserting an event takes a key-share lock on its instance (the foreign key). Take those
    # before the head lock, in the same order every step takes them (instance, then head), so a
    # writer holding an instance never waits for the head while the head's holder waits for it.
    instance_ids = sorted({e.instance_id for e in events if e.instance_id is not None})
    if instance_ids:
        session.execute(
            select(ProcessInstance.id)
            .where(ProcessInstance.id.in_(instance_ids))
            .order_by(ProcessInstance.id)
            .with_for_update(read=True, key_share=True)
        ).all()
    last_seq, last_hash = _locked_head(session)
    for audit_event in events:
        last_seq += 1
        audit_event.chain_seq = last_seq
        audit_event.prev_hash = last_hash
        audit_event.hash = last_hash = event_hash(audit_event)
    session.add_all(events)
    session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(last_seq=last_seq, last_hash=last_hash)
    )
    session.flush()


def _locked_head(session: Session) -> tuple[int, str]:
    """The head's (last_seq, last_hash), locked until commit; made on first use."""
    query = (
        select(AuditChainHead.last_seq, AuditChainHead.last_hash)
        .where(AuditChainHead.id == HEAD_ID)
        .with_for_update()
    )
    head = session.execute(query).one_or_none()
    if head is None:
        # Two first writers may race here on PostgreSQL; the loser's insert does nothing and
        # its SELECT ... FOR UPDATE then waits for the winner's commit.
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        values = {"id": HEAD_ID, "last_seq": 0, "last_hash": GENESIS_HASH}
        session.execute(insert(AuditChainHead).values(values).on_conflict_do_nothing())
        head = session.execute(query).one()
    return head.last_seq, head.last_hash


# --- verification ------------------------------------------------------------------------------

_COLUMNS = (
    AuditEvent.id,
    AuditEvent.chain_seq,
    AuditEvent.at,
    AuditEvent.actor_id,
    AuditEvent.action,
    AuditEvent.instance_id,
    AuditEvent.task_id,
    AuditEvent.definition_id,
    AuditEvent.subject_id,
    AuditEvent.details,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


@dataclass(frozen=True)
class Verification:
    """The outcome of walking the chain: intact, or the first broken link."""

    events: int
    seq: int | None = None
    event_id: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None

    @property
    def message(self) -> str:
        if self.intact:
            return f"audit chain intact: {self.events} events"
        parts = [f"seq {self.seq}"] if self.seq is not None else []
        if self.event_id is not None:
            parts.append(f"event id {self.event_id}" if not parts else f"(event id {self.event_id})")
        where = " ".join(parts)
        return f"audit chain broken at {where}: {self.problem}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "events": self.events,
            "seq": self.seq,
            "event_id": self.event_id,
            "problem": self.problem,
            "message": self.message,
        }


def verify(session: Session, *, batch: int = 1000) -> Verification:
    """Walk the chain in order of seq, streaming, and report the first broken link.

    A hash that does not match its row means the row was edited; a prev_hash that does not
    match the row before, or a missing seq, means rows were removed or inserted. Rows with no
    seq at all were inserted behind the engine's back.
    """
    # Read the head first: rows up to its seq are committed with it, so later commits by
    # concurrent writers do not look like a truncated chain.
    head = session.execute(select(AuditChainHead.last_seq).where(AuditChainHead.id == HEAD_ID)).scalar()
    if head is None and session.execute(select(AuditEvent.id).limit(1)).first() is not None:
        return Verification(0, None, None, "the chain's head row is missing: it was deleted")
    head_seq = head or 0
    expected, prev_hash, walked = 1, GENESIS_HASH, 0
    rows = session.execute(
        select(*_COLUMNS)
        .where(AuditEvent.chain_seq.is_not(None), AuditEvent.chain_seq <= head_seq)
        .order_by(AuditEvent.chain_seq)
        .execution_options(yield_per=batch)
    )
    for row in rows:
        if row.chain_seq != expected:
            return Verification(
                walked,
                expected,
                None,
                f"seq {expected} to {row.chain_seq - 1} missing before event id {row.id}: rows were removed",
            )
        if row.prev_hash != prev_hash:
            return Verification(
                walked,
                row.chain_seq,
                row.id,
                "prev_hash does not match the event before: a row was removed or inserted before this one",
            )
        if event_hash(row) != row.hash:
            return Verification(walked, row.chain_seq, row.id, "hash mismatch: the row was edited")
        expected, prev_hash, walked = expected + 1, row.hash, walked + 1
    if walked < head_seq:
        return Verification(
            walked, walked + 1, None, f"the head says {head_seq} events: the last ones were removed"
        )
    outside = session.execute(
        select(func.count(), func.min(AuditEvent.id)).where(AuditEvent.chain_seq.is_(None))
    ).one()
    if outside[0]:
        return Verification(
            walked, None, outside[1], f"{outside[0]} events carry no seq: inserted behind the engine's back"
        )
    return Verification(walked)
