"""One turn of the background loop: hand over due and abandoned jobs, fire due timers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

import engine.services.background_jobs  # noqa: F401 - registers engine job kinds, operators and sweeps
import worker.operators  # noqa: F401 - registers the worker-side operators and job kinds
from engine.db import session_scope
from engine.services import jobs, outbox, timers

Send = Callable[[list[int]], None]


def pump_once(factory: sessionmaker[Session], send: Send, *, lease_seconds: float, limit: int = 200) -> int:
    """Dispatch what is due, fire due timers; returns how many jobs and timers were handled."""
    with session_scope(factory) as session:
        ids = outbox.claim_for_dispatch(session, lease=timedelta(seconds=lease_seconds), limit=limit)
    if ids:
        send(ids)
    return len(ids) + timers.fire_due(factory, limit=limit)


def run_inline(factory: sessionmaker[Session]) -> Send:
    """A sender that runs each job at once, in this thread (embedded and manual modes)."""

    def send(ids: list[int]) -> None:
        for job_id in ids:
            jobs.execute(factory, job_id)

    return send


def work_until_idle(factory: sessionmaker[Session], *, max_rounds: int = 100) -> int:
    """Run jobs and timers in this thread until nothing is due; returns how many were handled.

    Used by the manual mode (tests, scripts) and by ``approute worker --burst`` without Redis.
    """
    send = run_inline(factory)
    total = 0
    for _ in range(max_rounds):
        handled = pump_once(factory, send, lease_seconds=0)
        if not handled:
            return total
        total += handled
    return total
