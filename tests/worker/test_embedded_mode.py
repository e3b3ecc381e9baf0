"""The embedded mode: a runner thread in the web process runs committed jobs with nobody pumping by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from api import create_app
from engine import clock
from engine.db import session_scope
from engine.models import JobStatus, OutboxJob
from engine.services import outbox
from tests.worker.fault_ops import EFFECT, count, effect_key
from tests.worker.helpers import all_done, wait_until
from worker.embedded import EmbeddedRunner


@pytest.fixture
def embedded_app(database_url, session_factory) -> Iterator:
    """The app in the embedded ("thread") mode on the test database; its runner stopped afterwards."""
    app = create_app(
        {
            "APPROUTE_DATABASE_URL": database_url,
            "APPROUTE_JOBS": "thread",
            "APPROUTE_SCHEDULER_INTERVAL_SECONDS": "0.05",
            "APPROUTE_OUTBOX_LEASE_SECONDS": "120",
            "APPROUTE_SECRET_KEY": "x" * 32,
        }
    )
    runner = app.extensions["approute.runner"]
    try:
        yield app
    finally:
        if runner is not None:
            runner.stop()
        outbox.set_dispatcher(None)
        app.extensions["approute.engine"].dispose()


def test_the_web_process_starts_a_runner_thread(embedded_app):
    runner = embedded_app.extensions["approute.runner"]
    assert isinstance(runner, EmbeddedRunner)
    assert runner._thread.is_alive()


def test_a_committed_job_runs_without_any_pumping(embedded_app):
    factory = embedded_app.extensions["approute.sessions"]
    with session_scope(factory) as s:
        jobs = [outbox.enqueue(s, EFFECT) for _ in range(3)]

    wait_until(lambda: all_done(factory, 3), "the runner thread finishes the 3 jobs")
    with factory() as s:
        for job in jobs:
            assert count(s, effect_key(job.id)) == 1
            assert s.get(OutboxJob, job.id).attempts == 1


def test_the_runner_picks_up_rows_nobody_handed_over_and_jobs_that_come_due(embedded_app):
    factory = embedded_app.extensions["approute.sessions"]
    with session_scope(factory) as s:
        # A row as a process leaves it that died before its hand-over: the runner was never told.
        orphan = OutboxJob(kind=EFFECT, payload={}, status=JobStatus.PENDING, available_at=clock.now())
        s.add(orphan)
        later = outbox.enqueue(s, EFFECT, run_at=clock.now() + timedelta(hours=2))

    wait_until(lambda: _status(factory, orphan.id) == JobStatus.DONE, "the pump runs the orphaned row")
    assert _status(factory, later.id) == JobStatus.PENDING

    clock.advance(timedelta(hours=2))
    wait_until(lambda: _status(factory, later.id) == JobStatus.DONE, "the pump runs the job once it is due")
    with factory() as s:
        assert count(s, effect_key(orphan.id)) == 1
        assert count(s, effect_key(later.id)) == 1


def test_stop_ends_the_thread(embedded_app):
    runner = embedded_app.extensions["approute.runner"]
    runner.stop()
    assert not runner._thread.is_alive()


def _status(factory, job_id) -> JobStatus:
    with factory() as s:
        return s.get(OutboxJob, job_id, populate_existing=True).status
