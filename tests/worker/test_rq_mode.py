"""The RQ mode: the app hands committed jobs to Redis as ids, and `approute worker` runs them."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from rq import Queue

from api import create_app
from engine.db import session_scope
from engine.models import JobStatus, OutboxJob
from engine.services import outbox
from tests.worker.fault_ops import EFFECT, count, effect_key, worker_command
from tests.worker.helpers import ROOT, all_done, statuses, worker_env
from worker.rq_jobs import QUEUE, RQDispatcher


@pytest.fixture
def rq_app(database_url, session_factory, redis_server) -> Iterator:
    """The app in the rq mode on the test database and this test's own Redis."""
    app = create_app(
        {
            "APPROUTE_DATABASE_URL": database_url,
            "APPROUTE_REDIS_URL": redis_server.url,
            "APPROUTE_JOBS": "rq",
            "APPROUTE_SECRET_KEY": "x" * 32,
        }
    )
    try:
        yield app
    finally:
        outbox.set_dispatcher(None)
        app.extensions["approute.engine"].dispose()


def _burst(database_url, redis_server) -> subprocess.CompletedProcess:
    """`approute worker --burst` in its own process, against this test's database and Redis."""
    return subprocess.run(
        worker_command("--burst"),
        cwd=ROOT,
        env=worker_env(database_url, redis_server.url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _queue(redis_server) -> Queue:
    return Queue(QUEUE, connection=redis_server.client())


def test_committed_jobs_reach_redis_as_ids_only_and_rolled_back_ones_never(rq_app, redis_server):
    assert rq_app.extensions["approute.runner"] is None  # no thread in the web process
    factory = rq_app.extensions["approute.sessions"]
    with session_scope(factory) as s:
        jobs = [outbox.enqueue(s, EFFECT, {"request": 7}) for _ in range(2)]
    s = factory()
    outbox.enqueue(s, EFFECT)
    s.flush()
    s.rollback()
    s.close()

    queued = _queue(redis_server).get_jobs()
    assert [(job.func_name, job.args) for job in queued] == [
        ("worker.rq_jobs.run_outbox_job", (jobs[0].id,)),
        ("worker.rq_jobs.run_outbox_job", (jobs[1].id,)),
    ]
    assert statuses(factory) == {JobStatus.SENT: 2}


def test_approute_worker_burst_runs_the_queue_once(rq_app, redis_server, database_url, tmp_path):
    factory = rq_app.extensions["approute.sessions"]
    with session_scope(factory) as s:
        jobs = [outbox.enqueue(s, EFFECT) for _ in range(3)]

    done = _burst(database_url, redis_server)

    assert done.returncode == 0, done.stderr
    assert all_done(factory, 3), statuses(factory)
    assert _queue(redis_server).count == 0
    with factory() as s:
        for job in jobs:
            assert count(s, effect_key(job.id)) == 1
            assert s.get(OutboxJob, job.id, populate_existing=True).attempts == 1


def test_a_second_delivery_through_redis_runs_nothing_twice(rq_app, redis_server, database_url):
    factory = rq_app.extensions["approute.sessions"]
    with session_scope(factory) as s:
        job = outbox.enqueue(s, EFFECT)
    RQDispatcher(redis_server.url)([job.id, job.id])  # the lease re-sent it while it was still queued
    assert _queue(redis_server).count == 3

    done = _burst(database_url, redis_server)

    assert done.returncode == 0, done.stderr
    assert all_done(factory, 1)
    with factory() as s:
        assert count(s, effect_key(job.id)) == 1


def test_a_resend_skips_jobs_still_waiting_in_the_queue_and_restores_lost_ones(rq_app, redis_server):
    factory = rq_app.extensions["approute.sessions"]
    with session_scope(factory) as s:
        job = outbox.enqueue(s, EFFECT, {"request": 9})
    dispatcher = RQDispatcher(redis_server.url)
    queue = _queue(redis_server)
    assert queue.count == 1

    dispatcher.resend([job.id])  # the lease ran out while it waited behind a backlog
    assert queue.count == 1, "a job still queued is not queued a second time"

    queue.empty()  # Redis lost it (a restart without persistence)
    dispatcher.resend([job.id])
    assert [(queued.func_name, queued.args) for queued in queue.get_jobs()] == [
        ("worker.rq_jobs.run_outbox_job", (job.id,))
    ]
