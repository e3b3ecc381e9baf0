"""Two schedulers race over 1,000 due timer rows; each row fires exactly once (PostgreSQL).

The rows are reminders of open tasks across 20 instances: firing one writes a notification and an
audit event, so a row fired twice would show as a second notification, a second audit event, a
fire_count of 2, or a sum of the schedulers' counts above 1,000.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.db import session_scope
from engine.models import AuditEvent, Notification, Timer, TimerKind, TimerStatus
from engine.services import timers
from tests.engine.helpers import bundle_file, deploy, only_open_task, start

INSTANCES = 20
ROWS_PER_TASK = 50


# PostgreSQL only: SQLite serialises every writer, so there is no race to lose there.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_schedulers_fire_each_of_1000_due_rows_once(session_factory, org):
    deploy(session_factory, bundle_file("timers/boundary_timer.bpmn"))
    task_ids = [
        only_open_task(
            session_factory, start(session_factory, "boundary_timer", org["employee_sales_1"], {}).id
        )
        for _ in range(INSTANCES)
    ]
    due = clock.now() - timedelta(minutes=1)
    with session_scope(session_factory) as s:
        s.add_all(
            Timer(
                kind=TimerKind.TASK_REMINDER,
                instance_id=task.instance_id,
                task_id=task.id,
                name=task.element_id,
                due_at=due,
                payload={"working_days": 1},
            )
            for task in task_ids
            for _ in range(ROWS_PER_TASK)
        )

    fired = [0, 0]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def scheduler(slot: int) -> None:
        try:
            barrier.wait()
            while True:
                fired[slot] += timers.fire_due(session_factory, limit=25)
                with session_scope(session_factory) as s:
                    if not timers.pending_count(s, kind=TimerKind.TASK_REMINDER):
                        return
        except BaseException as exc:  # reported below; a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=scheduler, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(fired) == INSTANCES * ROWS_PER_TASK
    assert all(fired), f"one scheduler did all the work: {fired}"
    with session_scope(session_factory) as s:
        reminders = select(Timer.status, Timer.fire_count, Timer.last_error).where(
            Timer.kind == TimerKind.TASK_REMINDER
        )
        assert set(s.execute(reminders).all()) == {(TimerStatus.FIRED, 1, None)}
        notes = s.scalar(select(func.count()).where(Notification.kind == "task_reminder"))
        audits = s.scalar(select(func.count()).where(AuditEvent.action == "task.reminded"))
    assert notes == audits == INSTANCES * ROWS_PER_TASK
