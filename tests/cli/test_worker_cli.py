"""`approute worker` as an operator runs it: --burst drains due work in both modes, and clear refusals."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine import clock
from engine.db import Base, make_engine, make_session_factory, session_scope
from engine.models import JobStatus, OutboxJob
from tests.worker.helpers import RedisServer

ROOT = Path(__file__).resolve().parents[2]
APPROUTE = Path(sys.executable).with_name("approute")


@pytest.fixture
def database(tmp_path) -> str:
    """A fresh SQLite database with one due job of a kind no process knows: running it fails it."""
    url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    with session_scope(make_session_factory(engine)) as s:
        s.add(OutboxJob(kind="retired_kind", payload={}, max_attempts=1, available_at=clock.now()))
    engine.dispose()
    return url


def _worker(database: str, *args: str, redis_url: str | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("APPROUTE_")}
    env["APPROUTE_DATABASE_URL"] = database
    if redis_url:
        env["APPROUTE_REDIS_URL"] = redis_url
    return subprocess.run(
        [str(APPROUTE), "worker", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _job(database: str) -> OutboxJob:
    engine = make_engine(database)
    try:
        with make_session_factory(engine)() as s:
            return s.query(OutboxJob).one()
    finally:
        engine.dispose()


def test_burst_without_redis_runs_the_due_work_in_the_process(database):
    done = _worker(database, "--burst")

    assert done.returncode == 0, done.stderr
    assert "ran 1 due jobs and timers" in done.stderr
    job = _job(database)
    assert job.status == JobStatus.FAILED
    assert job.last_error == "LookupError: no handler for job kind 'retired_kind'"


def test_a_long_running_worker_without_redis_is_refused_with_the_reason(database):
    done = _worker(database)

    assert done.returncode == 2
    assert "APPROUTE_REDIS_URL is not set" in done.stderr
    assert _job(database).status == JobStatus.PENDING


def test_burst_with_redis_sends_the_due_work_through_the_queue(database, tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis_server = RedisServer(tmp_path).start()
    try:
        done = _worker(database, "--burst", redis_url=redis_server.url)
    finally:
        redis_server.kill()

    assert done.returncode == 0, done.stderr
    job = _job(database)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert "no handler for job kind 'retired_kind'" in job.last_error


def test_an_unreachable_redis_is_named(database, tmp_path):
    redis_server = RedisServer(tmp_path)  # a free port nobody listens on

    done = _worker(database, redis_url=redis_server.url)

    assert done.returncode == 1
    assert "cannot reach Redis at APPROUTE_REDIS_URL" in done.stderr
    assert _job(database).status == JobStatus.PENDING
