"""The worker under faults, on PostgreSQL and real Redis: kill -9 mid-job, Redis restart, crash after commit.

Workers are real processes (``python -m worker`` with the test job kinds loaded, see fault_ops),
killed with SIGKILL: no handler, no cleanup. What the database holds afterwards is the proof:
every job done exactly once (its counter is 1, it took one successful attempt) and none left behind.
Each test gets a fresh PostgreSQL database and its own redis-server; the lease is 1 s, so the
outbox re-sends abandoned jobs quickly.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from rq import Queue
from sqlalchemy import select

from api import create_app
from engine.bpmn import runtime
from engine.db import Base, make_engine, make_session_factory, session_scope
from engine.models import (
    AuditEvent,
    HumanTask,
    Incident,
    InstanceStatus,
    JobStatus,
    OutboxJob,
    ProcessInstance,
    TaskStatus,
    User,
)
from engine.services import definitions, instances, outbox
from engine.services.demo import seed_demo
from tests.conftest import _create_postgres_database, _drop_postgres_database
from tests.worker.fault_ops import EFFECT, RELEASE, STARTED, count, effect_key, operator_key
from tests.worker.helpers import ROOT, Workers, all_done, statuses, wait_until, worker_env
from worker.rq_jobs import QUEUE, RQDispatcher

KILLS = 20
BUNDLES = Path(__file__).resolve().parent / "bundles"
HELD_JOBS = 8  # fewer jobs than kills: the same jobs are killed again after their lease brings them back


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database with the schema (skipped, with the reason, where PostgreSQL is not up)."""
    url = _create_postgres_database()
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield url
    _drop_postgres_database(url)


@pytest.fixture
def factory(pg_url):
    engine = make_engine(pg_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def workers(pg_url, redis_server, tmp_path) -> Iterator[Workers]:
    """Worker processes on this test's database and Redis; any still running at the end are killed."""
    started = Workers(worker_env(pg_url, redis_server.url), tmp_path / "workers.log")
    yield started
    started.close()


def _assert_each_done_exactly_once(factory, job_ids: list[int]) -> None:
    assert all_done(factory, len(job_ids)), statuses(factory)
    with factory() as s:
        for job_id in job_ids:
            job = s.get(OutboxJob, job_id)
            assert (job.status, job.attempts, job.last_error) == (JobStatus.DONE, 1, None), job_id
            assert count(s, effect_key(job_id)) == 1, f"job {job_id}'s work committed more or less than once"


def test_kill_9_mid_job_twenty_times_then_every_job_is_done_exactly_once(
    factory, pg_url, redis_server, workers
):
    outbox.set_dispatcher(RQDispatcher(redis_server.url))
    with session_scope(factory) as s:
        jobs = [outbox.enqueue(s, EFFECT, {"hold": True}) for _ in range(HELD_JOBS)]
    job_ids = [job.id for job in jobs]
    outbox.set_dispatcher(None)
    redis = redis_server.client()

    killed: list[int] = []
    for _ in range(KILLS):
        pid = workers.start()
        # The job has written its effect in its open transaction and now waits: kill it right there.
        started = redis.blpop([STARTED], timeout=60)
        workers.kill(pid)
        assert started is not None, "no worker took a job within a minute (see workers.log)"
        killed.append(int(started[1]))
        with factory() as s:
            assert count(s, effect_key(killed[-1])) == 0  # the killed attempt left nothing behind
    assert set(killed) <= set(job_ids)
    assert len(set(killed)) < KILLS  # some jobs were killed more than once, after a re-send

    redis.set(RELEASE, 1)
    last = workers.start()
    wait_until(lambda: all_done(factory, HELD_JOBS), "a worker finishes every job after 20 kills", 120)
    workers.stop(last)

    _assert_each_done_exactly_once(factory, job_ids)
    assert statuses(factory) == {JobStatus.DONE: HELD_JOBS}  # nothing pending or sent is left: none stuck


def test_redis_restarted_with_jobs_queued_loses_nothing(factory, pg_url, redis_server, workers):
    app = create_app(
        {
            "APPROUTE_DATABASE_URL": pg_url,
            "APPROUTE_REDIS_URL": redis_server.url,
            "APPROUTE_JOBS": "rq",
            "APPROUTE_SECRET_KEY": "x" * 32,
        }
    )
    try:
        with session_scope(app.extensions["approute.sessions"]) as s:
            jobs = [outbox.enqueue(s, EFFECT) for _ in range(10)]
    finally:
        outbox.set_dispatcher(None)
        app.extensions["approute.engine"].dispose()
    queue = Queue(QUEUE, connection=redis_server.client())
    assert queue.count == 10

    redis_server.restart()
    assert queue.count == 0  # the new server is empty: every queued job is gone from Redis
    assert statuses(factory) == {JobStatus.SENT: 10}

    pid = workers.start()
    wait_until(lambda: all_done(factory, 10), "the worker re-sends and runs the 10 lost jobs")
    workers.stop(pid)
    _assert_each_done_exactly_once(factory, [job.id for job in jobs])


def test_redis_restarted_under_a_running_worker_which_carries_on(factory, pg_url, redis_server, workers):
    pid = workers.start()
    dispatcher = RQDispatcher(redis_server.url)
    outbox.set_dispatcher(dispatcher)
    with session_scope(factory) as s:
        before = outbox.enqueue(s, EFFECT)
    wait_until(lambda: all_done(factory, 1), "the worker runs a job before the restart")

    redis_server.kill()
    with session_scope(factory) as s:
        # Committed while Redis is down: the hand-over fails, the rows stay "sent" for the lease.
        during = [outbox.enqueue(s, EFFECT) for _ in range(5)]
    outbox.set_dispatcher(None)
    redis_server.start()

    wait_until(lambda: all_done(factory, 6), "the same worker reconnects and runs the 5 jobs")
    assert workers.alive(pid)  # it never gave up
    workers.stop(pid)
    _assert_each_done_exactly_once(factory, [before.id, *(job.id for job in during)])


INSTANCES = 3
INSTANCE_KILLS = 5


def test_kill_9_mid_service_task_leaves_no_instance_stuck(factory, redis_server, workers):
    """A BPMN service task whose operator is killed mid-call: the route still moves on, exactly once."""
    with session_scope(factory) as s:
        (_person, employee, _token), *_ = seed_demo(s)
        definitions.deploy_bundle(
            s, {"held_call.bpmn": (BUNDLES / "held_call.bpmn").read_bytes()}, actor=None
        )
    outbox.set_dispatcher(RQDispatcher(redis_server.url))
    started_ids = []
    for amount in range(INSTANCES):
        with session_scope(factory) as s:
            actor = s.get(User, employee.id)
            instance, _ = instances.start_instance(s, key="held_call", actor=actor, data={"amount": amount})
            started_ids.append(instance.id)
    outbox.set_dispatcher(None)
    assert statuses(factory) == {JobStatus.SENT: INSTANCES}  # each step committed its service task's job
    redis = redis_server.client()

    for _ in range(INSTANCE_KILLS):
        pid = workers.start()
        started = redis.blpop([STARTED], timeout=60)
        workers.kill(pid)
        assert started is not None, "no worker took a service task within a minute (see workers.log)"

    redis.set(RELEASE, 1)
    last = workers.start()
    wait_until(lambda: _service_jobs_done(factory) == INSTANCES, "a worker completes every service task", 120)
    workers.stop(last)

    with factory() as s:
        for amount, instance_id in enumerate(started_ids):
            instance = s.get(ProcessInstance, instance_id)
            assert instance.status == InstanceStatus.RUNNING
            assert instance.data["answer"] == {"doubled": amount * 2}
            workflow = runtime.restore_workflow(
                instance.state, definitions.snapshot(s, instance.definition_id).spec_json
            )
            assert runtime.started_service_tasks(workflow) == []  # nothing left waiting for a job
            (review,) = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).all()
            assert (review.element_id, review.status) == ("review", TaskStatus.OPEN)
            completions = s.scalars(
                select(AuditEvent).where(
                    AuditEvent.instance_id == instance_id, AuditEvent.action == "service_task.completed"
                )
            ).all()
            assert len(completions) == 1
            (job,) = s.scalars(
                select(OutboxJob).where(
                    OutboxJob.instance_id == instance_id, OutboxJob.kind == "service_task"
                )
            ).all()
            assert (job.status, job.attempts) == (JobStatus.DONE, 1)
            assert count(s, operator_key(uuid.UUID(job.payload["task_id"]))) == 1
        assert s.scalars(select(Incident)).all() == []


def _service_jobs_done(factory) -> int:
    with factory() as s:
        query = select(OutboxJob.status).where(OutboxJob.kind == "service_task")
        return sum(1 for status in s.scalars(query) if status == JobStatus.DONE)


CRASH_AFTER_COMMIT = """
import os, signal
import tests.worker.fault_ops
from engine.config import Settings
from engine.db import make_engine, make_session_factory, session_scope
from engine.services import outbox

def die(ids):
    os.kill(os.getpid(), signal.SIGKILL)  # after the commit, before anything reaches Redis

outbox.set_dispatcher(die)
factory = make_session_factory(make_engine(Settings.from_env().database_url))
with session_scope(factory) as session:
    for _ in range(5):
        outbox.enqueue(session, "test_effect")
print("survived")
"""


def test_a_crash_between_commit_and_enqueue_loses_nothing(factory, pg_url, redis_server, workers):
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_AFTER_COMMIT],
        cwd=ROOT,
        env=worker_env(pg_url, redis_server.url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert "survived" not in crashed.stdout
    assert statuses(factory) == {JobStatus.SENT: 5}  # committed, and Redis never heard of them
    assert Queue(QUEUE, connection=redis_server.client()).count == 0

    pid = workers.start()
    wait_until(lambda: all_done(factory, 5), "a worker re-sends the 5 jobs after their lease and runs them")
    workers.stop(pid)
    with factory() as s:
        ids = list(s.scalars(OutboxJob.__table__.select().with_only_columns(OutboxJob.id)))
    _assert_each_done_exactly_once(factory, ids)
