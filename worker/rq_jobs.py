"""What RQ runs: the outbox job by id. RQ carries ids only; the truth stays in the database."""

from __future__ import annotations

from functools import lru_cache

from redis import Redis
from rq import Queue
from rq.job import Job
from rq.job import JobStatus as RQJobStatus
from sqlalchemy.orm import Session, sessionmaker

import worker.operators  # noqa: F401 - registers the worker-side operators and job kinds
from engine.config import Settings
from engine.db import make_engine, make_session_factory
from engine.services import jobs

QUEUE = "approute"


@lru_cache(maxsize=1)
def _factory() -> sessionmaker[Session]:
    return make_session_factory(make_engine(Settings.from_env().database_url))


def run_outbox_job(job_id: int) -> str:
    """RQ entry point."""
    return jobs.execute(_factory(), job_id)


class RQDispatcher:
    """Hands committed job ids to the RQ queue (one RQ job per outbox row)."""

    def __init__(self, redis_url: str):
        self.connection = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        self.queue = Queue(QUEUE, connection=self.connection)

    def __call__(self, ids: list[int]) -> None:
        """Hand over jobs just committed (never queued before)."""
        self._enqueue(ids)

    def resend(self, ids: list[int]) -> None:
        """Hand over jobs again whose lease ran out, except those still waiting in the queue.

        A backlog longer than the lease would otherwise add every waiting job again at each lease;
        a job whose worker died (started), or that Redis lost (no such job), goes in again.
        """
        waiting = {
            job.id
            for job in Job.fetch_many([rq_job_id(i) for i in ids], connection=self.connection)
            if job is not None and job.get_status(refresh=False) == RQJobStatus.QUEUED
        }
        self._enqueue([i for i in ids if rq_job_id(i) not in waiting])

    def _enqueue(self, ids: list[int]) -> None:
        if not ids:
            return
        with self.connection.pipeline() as pipe:
            for job_id in ids:
                self.queue.enqueue(
                    run_outbox_job,
                    job_id,
                    job_id=rq_job_id(job_id),
                    result_ttl=0,
                    failure_ttl=3600,
                    pipeline=pipe,
                )
            pipe.execute()


def rq_job_id(outbox_id: int) -> str:
    """The RQ job of an outbox row: one id per row, so a re-send can see the first is still queued."""
    return f"approute-outbox-{outbox_id}"
