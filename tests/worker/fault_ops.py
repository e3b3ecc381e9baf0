"""Test-only job kinds, registered on import: by the worker tests, and inside the worker processes
the fault tests start (``python -c "import tests.worker.fault_ops; ..."``, see ``worker_command``).

The effect of a ``test_effect`` job is a counter in ``register_counters`` bumped in the job's own
transaction, so the database itself counts how often a job's work was committed: exactly once is
the promise, whatever happened to the processes running it.
"""

from __future__ import annotations

import sys
import time
import uuid

import redis
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.models import OutboxJob, RegisterCounter
from engine.services import jobs, operators

EFFECT = "test_effect"
STARTED = "faults:started"  # Redis list: ids of held jobs that are mid-flight (effect written, not committed)
RELEASE = "faults:release"  # Redis key: while absent, held jobs wait (and get killed there)
WORKER_MAIN = "import tests.worker.fault_ops; from worker.__main__ import main; raise SystemExit(main())"


def worker_command(*args: str) -> list[str]:
    """`python -m worker` with the test job kinds loaded first."""
    return [sys.executable, "-c", WORKER_MAIN, *args]


def bump(session: Session, key: str) -> None:
    """Add one to the counter ``key`` in the session's transaction."""
    row = session.get(RegisterCounter, (key, 0), with_for_update=True)
    if row is None:
        session.add(RegisterCounter(register=key, year=0, last_number=1))
        session.flush()
    else:
        row.last_number += 1


def count(session: Session, key: str) -> int:
    """How many times ``key`` was bumped in committed transactions."""
    row = session.get(RegisterCounter, (key, 0), populate_existing=True)
    return 0 if row is None else row.last_number


def effect_key(job_id: int) -> str:
    """The counter of a ``test_effect`` job."""
    return f"effect-{job_id}"


def operator_key(task_id: uuid.UUID) -> str:
    """The counter of a ``test.held`` service task (fits the 32 characters of a register name)."""
    return f"op-{task_id.hex[:28]}"


def _hold(marker: str) -> None:
    """Say in Redis that the work is mid-flight, then wait until the test releases it."""
    connection = redis.Redis.from_url(Settings.from_env().redis_url)
    connection.rpush(STARTED, marker)
    while not connection.exists(RELEASE):
        time.sleep(0.02)


@jobs.register(EFFECT)
def run_effect(session: Session, job: OutboxJob) -> None:
    """Bump the job's counter; with payload ``hold``, then wait mid-flight for the release."""
    bump(session, effect_key(job.id))
    if job.payload.get("hold"):
        _hold(str(job.id))


@operators.register("test.held", retries=0)
def held(call: operators.OperatorCall) -> dict:
    """A service task's operator that writes its effect, then waits mid-flight (bundles/held_call.bpmn)."""
    bump(call.session, operator_key(call.task_id))
    _hold(str(call.instance.id))
    return {"doubled": call.params["amount"] * 2}
