"""Choosing how background work runs in this process, from the settings (RQ, a thread, or by hand)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from engine.config import Settings
from engine.services import outbox
from worker.embedded import EmbeddedRunner


def install(settings: Settings, factory: sessionmaker[Session]) -> EmbeddedRunner | None:
    """Point the outbox at this process's runner; returns the embedded runner when one was started.

    rq: committed jobs go to Redis, `approute worker` runs them. thread: a runner thread here
    runs them (the embedded mode). manual: nothing runs until ``worker.pump.work_until_idle``.
    """
    if settings.jobs_mode == "rq":
        from worker.rq_jobs import RQDispatcher

        outbox.set_dispatcher(RQDispatcher(settings.redis_url))
        return None
    if settings.jobs_mode == "thread":
        runner = EmbeddedRunner(
            factory,
            interval=settings.scheduler_interval_seconds,
            lease_seconds=settings.outbox_lease_seconds,
        ).start()
        outbox.set_dispatcher(runner.submit)
        return runner
    outbox.set_dispatcher(None)
    return None
