"""The outbox: background work is written as rows in the step's own transaction, then dispatched.

``enqueue`` adds a row to the caller's session. When that session commits, the new rows are
handed to the dispatcher the process installed (RQ in production, the in-process runner in the
embedded mode). A row that was handed over but never finished — Redis lost it, the process died
between commit and enqueue, a worker was killed mid-job — is handed over again once its lease
runs out (``claim_for_dispatch``). Jobs are idempotent, so a second delivery does no harm.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from engine import clock
from engine.models import JobStatus, OutboxJob

Dispatcher = Callable[[list[int]], None]

_dispatcher: Dispatcher | None = None
_NEW = "approute.outbox.new"  # session.info key: rows added in the open transaction
DEFAULT_LEASE = timedelta(minutes=2)


def set_dispatcher(dispatcher: Dispatcher | None) -> None:
    """Install what hands committed job ids to a runner (None: leave them to the pump)."""
    global _dispatcher
    _dispatcher = dispatcher


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    instance_id: uuid.UUID | None = None,
    run_at: datetime | None = None,
    max_attempts: int = 5,
    backoff_base: float = 2.0,
    dedupe_key: str | None = None,
) -> OutboxJob:
    """Add a job to the session; it runs after the transaction commits, never if it rolls back.

    With ``dedupe_key`` an existing job of that key is returned instead of a second one.
    """
    if dedupe_key is not None:
        existing = session.scalar(select(OutboxJob).where(OutboxJob.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    now = clock.now()
    immediate = _dispatcher is not None and (run_at is None or run_at <= now)
    job = OutboxJob(
        kind=kind,
        payload=payload or {},
        instance_id=instance_id,
        dedupe_key=dedupe_key,
        max_attempts=max_attempts,
        backoff_base=backoff_base,
        available_at=run_at or now,
        # Handed over right after commit; if that hand-over is lost, the lease brings it back.
        status=JobStatus.SENT if immediate else JobStatus.PENDING,
        sent_at=now if immediate else None,
        created_at=now,
    )
    session.add(job)
    if immediate:
        session.info.setdefault(_NEW, []).append(job)
    return job


@event.listens_for(Session, "after_commit")
def _dispatch_committed(session: Session) -> None:
    jobs = session.info.pop(_NEW, None)
    if not jobs or _dispatcher is None:
        return
    # The rows are committed; if the hand-over fails (Redis down), the pump re-sends them after the lease.
    with contextlib.suppress(Exception):
        _dispatcher([job.id for job in jobs])


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction) -> None:
    # A rolled-back savepoint drops only the jobs added inside it (they were expunged); a savepoint's
    # "after_rollback" also fires, so that event cannot tell the two apart. The end of the outermost
    # transaction (commit already dispatched, rollback, or close without commit) forgets the rest, so
    # a reused session never hands over ids of rows that were not committed.
    if transaction.nested:
        jobs = session.info.get(_NEW)
        if jobs:
            session.info[_NEW] = [job for job in jobs if job in session]
    elif transaction.parent is None:
        session.info.pop(_NEW, None)


def claim_for_dispatch(session: Session, *, lease: timedelta = DEFAULT_LEASE, limit: int = 200) -> list[int]:
    """Mark due and abandoned jobs as sent and return their ids (commit, then hand them over).

    Due: pending with available_at reached. Abandoned: sent longer than ``lease`` ago and not
    finished. Rows locked by another dispatcher are skipped, so dispatchers never collide.
    """
    now = clock.now()
    query = (
        select(OutboxJob)
        .where(
            or_(
                (OutboxJob.status == JobStatus.PENDING) & (OutboxJob.available_at <= now),
                (OutboxJob.status == JobStatus.SENT) & (OutboxJob.sent_at <= now - lease),
            )
        )
        .order_by(OutboxJob.available_at, OutboxJob.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    jobs = list(session.scalars(query))
    for job in jobs:
        job.status = JobStatus.SENT
        job.sent_at = now
    session.flush()
    return [job.id for job in jobs]


def cancel_for_instance(session: Session, instance_id: uuid.UUID, kinds: Iterable[str] | None = None) -> int:
    """Cancel the unfinished jobs of an instance (it was cancelled); returns how many."""
    query = select(OutboxJob).where(
        OutboxJob.instance_id == instance_id,
        OutboxJob.status.in_((JobStatus.PENDING, JobStatus.SENT)),
    )
    if kinds is not None:
        query = query.where(OutboxJob.kind.in_(list(kinds)))
    # A job running right now holds its row and waits for the instance this caller has locked:
    # skip it rather than deadlock; it finds the instance closed and does nothing.
    jobs = list(session.scalars(query.with_for_update(skip_locked=True)))
    for job in jobs:
        job.status = JobStatus.CANCELLED
        job.done_at = clock.now()
    return len(jobs)
