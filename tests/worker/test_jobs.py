"""Running a job: its work commits once with "done", failures retry with backoff, then one incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine import clock
from engine.db import session_scope
from engine.models import Incident, JobStatus, OutboxJob
from engine.services import jobs, outbox
from tests.worker.fault_ops import EFFECT, bump, count, effect_key

FAILING = "test_failing"
RETRY_LATER = "test_retry_later"
BROKEN_EXHAUSTED = "test_broken_exhausted"


def _open_incident(session, job, message, trace) -> None:
    session.add(Incident(kind=job.kind, job_id=job.id, error=message, traceback=trace, attempts=job.attempts))


@jobs.register(FAILING, on_exhausted=_open_incident)
def _failing(session, job) -> None:
    bump(session, "failing-work")  # rolled back with the failed attempt
    raise ValueError("the payroll system said no")


@jobs.register(RETRY_LATER)
def _busy(session, job) -> None:
    bump(session, "busy-work")
    raise jobs.RetryLater


def _exhausted_fails_too(session, job, message, trace) -> None:
    raise RuntimeError("the incident could not be written")


@jobs.register(BROKEN_EXHAUSTED, on_exhausted=_exhausted_fails_too)
def _failing_again(session, job) -> None:
    raise ValueError("no")


def _enqueue(factory, kind, **kwargs) -> int:
    with session_scope(factory) as s:
        job = outbox.enqueue(s, kind, **kwargs)
    return job.id


def _job(factory, job_id) -> OutboxJob:
    with factory() as s:
        return s.get(OutboxJob, job_id)


def test_a_job_runs_once_and_a_second_delivery_does_nothing(session_factory):
    job_id = _enqueue(session_factory, EFFECT)

    assert jobs.execute(session_factory, job_id) == "done"
    assert jobs.execute(session_factory, job_id) == "skipped"

    job = _job(session_factory, job_id)
    assert (job.status, job.attempts, job.last_error) == (JobStatus.DONE, 1, None)
    assert job.done_at is not None
    with session_factory() as s:
        assert count(s, effect_key(job_id)) == 1


def test_an_unknown_job_id_is_reported_not_raised(session_factory):
    assert jobs.execute(session_factory, 987654) == "busy"


def test_a_job_not_yet_due_is_skipped_until_its_time(session_factory):
    job_id = _enqueue(session_factory, EFFECT, run_at=clock.now() + timedelta(minutes=10))

    assert jobs.execute(session_factory, job_id) == "skipped"
    clock.advance(timedelta(minutes=10))
    assert jobs.execute(session_factory, job_id) == "done"
    with session_factory() as s:
        assert count(s, effect_key(job_id)) == 1


def test_failures_retry_after_base_to_the_attempts_then_one_incident(session_factory, move_clock):
    start = move_clock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    job_id = _enqueue(session_factory, FAILING, max_attempts=3, backoff_base=3.0)

    assert jobs.execute(session_factory, job_id) == "retry"
    job = _job(session_factory, job_id)
    assert (job.status, job.attempts) == (JobStatus.PENDING, 1)
    assert job.last_error == "ValueError: the payroll system said no"
    assert timedelta(seconds=3) <= job.available_at - start < timedelta(seconds=4)  # 3 ** 1
    assert jobs.execute(session_factory, job_id) == "skipped"  # not before its backoff

    clock.advance(timedelta(seconds=3))
    assert jobs.execute(session_factory, job_id) == "retry"
    job = _job(session_factory, job_id)
    assert job.attempts == 2
    assert timedelta(seconds=12) <= job.available_at - start < timedelta(seconds=13)  # 3 + 3 ** 2

    clock.advance(timedelta(seconds=9))
    assert jobs.execute(session_factory, job_id) == "failed"
    assert jobs.execute(session_factory, job_id) == "skipped"
    clock.advance(timedelta(hours=1))
    assert jobs.execute(session_factory, job_id) == "skipped"

    job = _job(session_factory, job_id)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
    with session_factory() as s:
        (incident,) = s.scalars(select(Incident)).all()
        assert (incident.job_id, incident.kind, incident.attempts) == (job_id, FAILING, 3)
        assert incident.error == "ValueError: the payroll system said no"
        assert "ValueError" in incident.traceback
        assert count(s, "failing-work") == 0  # every failed attempt's work was rolled back


def test_backoff_is_capped_at_an_hour(session_factory, move_clock):
    start = move_clock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    job_id = _enqueue(session_factory, FAILING, max_attempts=5, backoff_base=100_000.0)

    assert jobs.execute(session_factory, job_id) == "retry"
    waited = _job(session_factory, job_id).available_at - start
    assert timedelta(hours=1) <= waited < timedelta(hours=1, seconds=1)


def test_retry_later_waits_a_moment_and_is_not_a_failure(session_factory, move_clock):
    start = move_clock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    job_id = _enqueue(session_factory, RETRY_LATER, max_attempts=1)

    assert jobs.execute(session_factory, job_id) == "retry"
    job = _job(session_factory, job_id)
    assert (job.status, job.attempts, job.last_error) == (JobStatus.PENDING, 0, None)
    assert timedelta(seconds=1) <= job.available_at - start < timedelta(seconds=2)
    with session_factory() as s:
        assert count(s, "busy-work") == 0
        assert s.scalars(select(Incident)).all() == []


def test_a_job_of_an_unknown_kind_fails_with_that_reason(session_factory):
    job_id = _enqueue(session_factory, "no_such_kind", max_attempts=1)

    assert jobs.execute(session_factory, job_id) == "failed"
    job = _job(session_factory, job_id)
    assert job.status == JobStatus.FAILED
    assert job.last_error == "LookupError: no handler for job kind 'no_such_kind'"


def test_a_failing_exhausted_callback_still_ends_the_job(session_factory):
    """Were it to raise out of execute, the job would stay sent and be re-run after every lease, forever."""
    job_id = _enqueue(session_factory, BROKEN_EXHAUSTED, max_attempts=1)

    assert jobs.execute(session_factory, job_id) == "failed"
    job = _job(session_factory, job_id)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert "ValueError: no" in job.last_error
    assert "RuntimeError: the incident could not be written" in job.last_error


# PostgreSQL only: row locks (FOR UPDATE SKIP LOCKED) do not exist on SQLite, which has one writer.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_job_another_runner_holds_is_busy_and_left_alone(session_factory):
    job_id = _enqueue(session_factory, EFFECT)
    holder = session_factory()
    try:
        holder.scalar(select(OutboxJob).where(OutboxJob.id == job_id).with_for_update())
        assert jobs.execute(session_factory, job_id) == "busy"
    finally:
        holder.rollback()
        holder.close()
    assert _job(session_factory, job_id).status == JobStatus.PENDING
    assert jobs.execute(session_factory, job_id) == "done"
    with session_factory() as s:
        assert count(s, effect_key(job_id)) == 1
