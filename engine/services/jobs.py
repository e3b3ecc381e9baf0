"""Running one outbox job: exactly one effect however often it is delivered, retries, then an incident.

A job handler is a function ``(session, job) -> None`` registered under the job's kind. It reads
the ids in ``job.payload``, loads fresh state and does its work in the session it is given. That
session's transaction also marks the job done, so the work and the "done" commit together: a
worker killed half-way leaves no half of it, and a second delivery finds the job done and stops.

A handler that raises is rolled back to a savepoint; the job is then retried after
``backoff_base ** attempts`` seconds, up to its ``max_attempts``, and after the last attempt
its ``on_exhausted`` callback records an incident, in the same transaction.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from engine.models import JobStatus, OutboxJob

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)

Handler = Callable[[Session, OutboxJob], None]
Exhausted = Callable[[Session, OutboxJob, str, str], None]


@dataclass(frozen=True)
class JobKind:
    """A registered kind of job."""

    name: str
    run: Handler
    on_exhausted: Exhausted | None = None


_KINDS: dict[str, JobKind] = {}


def register(name: str, *, on_exhausted: Exhausted | None = None) -> Callable[[Handler], Handler]:
    """Decorator: ``fn(session, job)`` runs jobs of kind ``name``."""

    def decorate(fn: Handler) -> Handler:
        _KINDS[name] = JobKind(name, fn, on_exhausted)
        return fn

    return decorate


def kinds() -> dict[str, JobKind]:
    """The registered job kinds (read-only use)."""
    return dict(_KINDS)


class RetryLater(Exception):
    """Raised by a handler that cannot run yet (a lock is busy): try again soon, not counted as a failure."""


def execute(factory: sessionmaker[Session], job_id: int) -> str:
    """Run job ``job_id`` once. Returns what happened: done, retry, failed, skipped or busy.

    busy: another runner holds the job right now (its lock). skipped: already finished or
    not due yet. Never raises for a handler's failure: that is recorded on the job.
    """
    _load_handlers()
    session = factory()
    try:
        job = session.scalar(
            select(OutboxJob)
            .where(OutboxJob.id == job_id)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if job is None:
            session.rollback()
            return "busy"
        now = clock.now()
        if job.status not in (JobStatus.PENDING, JobStatus.SENT) or job.available_at > now:
            session.rollback()
            return "skipped"
        kind = _KINDS.get(job.kind)
        try:
            if kind is None:
                raise LookupError(f"no handler for job kind '{job.kind}'")
            with session.begin_nested():
                kind.run(session, job)
        except RetryLater:
            job.status = JobStatus.PENDING
            job.available_at = clock.now() + timedelta(seconds=1)
            session.commit()
            return "retry"
        except Exception as exc:
            outcome = _record_failure(session, job, kind, exc)
            session.commit()
            return outcome
        job.attempts += 1
        job.status = JobStatus.DONE
        job.done_at = clock.now()
        job.last_error = None
        session.commit()
        return "done"
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _record_failure(session: Session, job: OutboxJob, kind: JobKind | None, exc: Exception) -> str:
    job.attempts += 1
    message = f"{type(exc).__name__}: {exc}"
    job.last_error = message[:4000]
    # Logged by kind and id only: the message may carry personal data from the instance.
    log.warning("job %s (%s) failed, attempt %s of %s", job.id, job.kind, job.attempts, job.max_attempts)
    if job.attempts < job.max_attempts:
        delay = timedelta(seconds=job.backoff_base**job.attempts)
        job.status = JobStatus.PENDING
        job.available_at = clock.now() + min(delay, MAX_BACKOFF)
        return "retry"
    job.status = JobStatus.FAILED
    job.done_at = clock.now()
    if kind is not None and kind.on_exhausted is not None:
        # In its own savepoint: were the callback's failure to escape, the job would stay "sent"
        # and be re-run after every lease, forever. It ends failed either way; last_error says both.
        try:
            with session.begin_nested():
                kind.on_exhausted(session, job, message, "".join(traceback.format_exception(exc)))
        except Exception as hook_exc:
            log.error("job %s (%s): recording its failure failed too", job.id, job.kind)
            job.last_error = f"{message}; then on_exhausted: {type(hook_exc).__name__}: {hook_exc}"[:4000]
    return "failed"


def _load_handlers() -> None:
    # The handlers live in the services that own the work; importing them registers them.
    from engine.services import background_jobs  # noqa: F401
