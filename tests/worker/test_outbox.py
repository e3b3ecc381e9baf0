"""The outbox: a job row commits or rolls back with the step that wrote it; it is handed over after commit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import clock
from engine.db import session_scope
from engine.models import JobStatus, OutboxJob
from engine.services import outbox
from tests.worker.fault_ops import EFFECT, count, effect_key
from worker.pump import pump_once, run_inline


class Recorder:
    """A dispatcher that notes what it was handed and whether those rows were visible to others then."""

    def __init__(self, factory):
        self.factory = factory
        self.calls: list[list[int]] = []
        self.committed_when_called: list[bool] = []

    def __call__(self, ids: list[int]) -> None:
        self.calls.append(list(ids))
        with self.factory() as other:
            seen = other.scalars(select(OutboxJob.id).where(OutboxJob.id.in_(ids))).all()
        self.committed_when_called.append(sorted(seen) == sorted(ids))


@pytest.fixture
def recorder(session_factory) -> Recorder:
    rec = Recorder(session_factory)
    outbox.set_dispatcher(rec)
    return rec


def _jobs(factory) -> list[OutboxJob]:
    with factory() as s:
        return list(s.scalars(select(OutboxJob).order_by(OutboxJob.id)))


def test_rolled_back_step_leaves_no_job_and_dispatches_nothing(session_factory, recorder):
    s = session_factory()
    outbox.enqueue(s, EFFECT, {"n": 1})
    s.flush()
    s.rollback()
    s.close()

    assert _jobs(session_factory) == []
    assert recorder.calls == []


def test_committed_job_is_dispatched_after_commit_and_not_before(session_factory, recorder):
    with session_factory() as s:
        job = outbox.enqueue(s, EFFECT, {"n": 1})
        s.flush()
        assert recorder.calls == []  # written, not yet committed: nothing handed over
        s.commit()
        job_id = job.id

    assert recorder.calls == [[job_id]]
    assert recorder.committed_when_called == [True]  # the runner can already read the row
    (row,) = _jobs(session_factory)
    assert row.status == JobStatus.SENT
    assert row.sent_at is not None
    assert row.payload == {"n": 1}


def test_jobs_of_a_rolled_back_savepoint_are_not_dispatched(session_factory, recorder):
    with session_scope(session_factory) as s:
        kept = outbox.enqueue(s, EFFECT)
        nested = s.begin_nested()
        outbox.enqueue(s, EFFECT)
        nested.rollback()

    assert recorder.calls == [[kept.id]]
    assert [job.id for job in _jobs(session_factory)] == [kept.id]


def test_a_session_closed_without_commit_hands_over_nothing_when_reused(session_factory, recorder):
    s = session_factory()
    outbox.enqueue(s, EFFECT)
    s.flush()
    s.close()  # no commit, no explicit rollback: the row is gone
    kept = outbox.enqueue(s, EFFECT)
    s.commit()
    s.close()

    assert recorder.calls == [[kept.id]]
    assert [job.id for job in _jobs(session_factory)] == [kept.id]


def test_without_a_dispatcher_the_job_waits_pending_for_the_pump(session_factory):
    outbox.set_dispatcher(None)
    with session_scope(session_factory) as s:
        job = outbox.enqueue(s, EFFECT)
    (row,) = _jobs(session_factory)
    assert (row.status, row.sent_at) == (JobStatus.PENDING, None)

    assert pump_once(session_factory, run_inline(session_factory), lease_seconds=120) == 1
    with session_factory() as s:
        assert s.get(OutboxJob, job.id).status == JobStatus.DONE
        assert count(s, effect_key(job.id)) == 1


def test_a_job_for_later_is_not_dispatched_until_it_is_due(session_factory, recorder):
    with session_scope(session_factory) as s:
        job = outbox.enqueue(s, EFFECT, run_at=clock.now() + timedelta(hours=1))
    assert recorder.calls == []
    assert _jobs(session_factory)[0].status == JobStatus.PENDING

    with session_scope(session_factory) as s:
        assert outbox.claim_for_dispatch(s) == []
    clock.advance(timedelta(hours=1, seconds=1))
    with session_scope(session_factory) as s:
        assert outbox.claim_for_dispatch(s) == [job.id]


def test_dedupe_key_makes_one_job_within_and_across_transactions(session_factory, recorder):
    with session_scope(session_factory) as s:
        first = outbox.enqueue(s, EFFECT, dedupe_key="svc:one")
        again = outbox.enqueue(s, EFFECT, dedupe_key="svc:one")
        assert again is first
    with session_scope(session_factory) as s:
        later = outbox.enqueue(s, EFFECT, dedupe_key="svc:one")
        assert later.id == first.id

    assert [job.id for job in _jobs(session_factory)] == [first.id]
    assert recorder.calls == [[first.id]]  # the repeat hands nothing over a second time


def test_claim_picks_due_pending_and_abandoned_sent_rows_only(session_factory):
    now = clock.now()
    lease = timedelta(minutes=2)
    rows = {
        "due": dict(status=JobStatus.PENDING, available_at=now - timedelta(seconds=1)),
        "future": dict(status=JobStatus.PENDING, available_at=now + timedelta(minutes=5)),
        "sent_recently": dict(status=JobStatus.SENT, available_at=now, sent_at=now - timedelta(seconds=30)),
        "abandoned": dict(status=JobStatus.SENT, available_at=now, sent_at=now - lease - timedelta(1)),
        "done": dict(status=JobStatus.DONE, available_at=now - timedelta(hours=1)),
        "failed": dict(status=JobStatus.FAILED, available_at=now - timedelta(hours=1)),
        "cancelled": dict(status=JobStatus.CANCELLED, available_at=now - timedelta(hours=1)),
    }
    with session_scope(session_factory) as s:
        made = {name: OutboxJob(kind=EFFECT, payload={}, **fields) for name, fields in rows.items()}
        s.add_all(made.values())
    ids = {name: job.id for name, job in made.items()}

    with session_scope(session_factory) as s:
        claimed = outbox.claim_for_dispatch(s, lease=lease)

    assert sorted(claimed) == sorted([ids["due"], ids["abandoned"]])
    with session_factory() as s:
        for name in ("due", "abandoned"):
            job = s.get(OutboxJob, ids[name])
            assert job.status == JobStatus.SENT
            assert job.sent_at >= now  # the lease starts again
        assert s.get(OutboxJob, ids["future"]).status == JobStatus.PENDING
        assert s.get(OutboxJob, ids["sent_recently"]).sent_at < now
    with session_scope(session_factory) as s:
        assert outbox.claim_for_dispatch(s, lease=lease) == []  # claimed rows wait out their new lease


# PostgreSQL only: row locks (FOR UPDATE SKIP LOCKED) do not exist on SQLite, which has one writer.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_claim_skips_rows_another_dispatcher_has_locked(session_factory):
    with session_scope(session_factory) as s:
        locked, free = outbox.enqueue(s, EFFECT), outbox.enqueue(s, EFFECT)

    holder = session_factory()
    try:
        holder.scalar(select(OutboxJob).where(OutboxJob.id == locked.id).with_for_update())
        with session_scope(session_factory) as s:
            assert outbox.claim_for_dispatch(s) == [free.id]
    finally:
        holder.rollback()
        holder.close()
    with session_scope(session_factory) as s:
        assert outbox.claim_for_dispatch(s) == [locked.id]


def test_hand_over_failing_after_commit_loses_nothing_the_pump_resends_after_the_lease(session_factory):
    """Crash between commit and enqueue: the row is committed as sent, nobody got it; the lease resends."""

    def redis_down(ids):
        raise ConnectionError("Redis is down")

    outbox.set_dispatcher(redis_down)
    with session_scope(session_factory) as s:
        job = outbox.enqueue(s, EFFECT)  # the commit succeeds although the hand-over raised
    (row,) = _jobs(session_factory)
    assert row.status == JobStatus.SENT

    outbox.set_dispatcher(None)
    send = run_inline(session_factory)
    assert pump_once(session_factory, send, lease_seconds=120) == 0  # the lease still runs
    clock.advance(timedelta(seconds=121))
    assert pump_once(session_factory, send, lease_seconds=120) == 1
    with session_factory() as s:
        done = s.get(OutboxJob, job.id)
        assert (done.status, done.attempts) == (JobStatus.DONE, 1)
        assert count(s, effect_key(job.id)) == 1
