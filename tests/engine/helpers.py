"""Small helpers shared by the engine tests: bundles from disk, and one unit of work per call.

Each helper opens its own `session_scope`, the way a web request would, so what a test reads
afterwards is what was committed.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import processes
from engine import clock
from engine.db import session_scope
from engine.models import HumanTask, ProcessDefinition, ProcessInstance, User
from engine.services import definitions, instances, tasks

BUNDLES = Path(__file__).resolve().parents[1] / "bundles"
LEAVE_REQUEST = processes.PROCESS_DIR / "leave_request"


def leave_week(weeks_ahead: int = 3, *, today: date | None = None) -> tuple[str, str]:
    """Monday to Friday of a week at least ``weeks_ahead`` weeks away without public holidays.

    Far enough for the 14-day notice (L-10) and inside the shipped production calendar, so the real
    leave route accepts it from a demo person with a balance.
    """
    from rules.tables import production_calendar_rows

    today = today or clock.today()
    holidays = {
        row["date"]
        for row in production_calendar_rows((today.year, today.year + 1))
        if row["kind"] != "working_day"
    }
    monday = today + timedelta(weeks=weeks_ahead, days=7 - today.weekday())
    while any((monday + timedelta(days=i)).isoformat() in holidays for i in range(5)):
        monday += timedelta(weeks=1)
    return monday.isoformat(), (monday + timedelta(days=4)).isoformat()


_START, _END = leave_week()
# Unpaid leave by agreement needs no balance, so people made by a test (without a hire date) may
# file it too; tests/acceptance covers annual leave with balances.
VALID_LEAVE = {"leave_type": "unpaid_agreed", "start": _START, "end": _END}


def bundle_file(relative: str, *, name: str | None = None) -> dict[str, bytes]:
    """A one-file bundle from tests/bundles/, under its own name or ``name``."""
    path = BUNDLES / relative
    return {name or path.name: path.read_bytes()}


def leave_request_files() -> dict[str, bytes]:
    return processes.bundle_files(LEAVE_REQUEST)


def line_of(relative: str, text: str) -> int:
    """1-based number of the first line of a fixture file that contains ``text``."""
    lines = (BUNDLES / relative).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def user(s: Session, person) -> User:
    """The User row of an `org` person (or of a User id), loaded in session ``s``."""
    return s.get(User, getattr(person, "id", person))


def count(factory: sessionmaker[Session], model, *where) -> int:
    with session_scope(factory) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def deploy(factory: sessionmaker[Session], files: dict[str, bytes], actor=None) -> ProcessDefinition:
    with session_scope(factory) as s:
        return definitions.deploy_bundle(s, files, actor=user(s, actor) if actor else None)


def start(
    factory: sessionmaker[Session], key: str, person, data: dict[str, Any], **kwargs
) -> ProcessInstance:
    with session_scope(factory) as s:
        instance, created = instances.start_instance(s, key=key, actor=user(s, person), data=data, **kwargs)
        assert created
        return instance


def get_instance(factory: sessionmaker[Session], instance_id: uuid.UUID) -> ProcessInstance:
    """The stored instance, read without a visibility check."""
    with session_scope(factory) as s:
        return s.get(ProcessInstance, instance_id)


def open_tasks(factory: sessionmaker[Session], instance_id: uuid.UUID) -> list[HumanTask]:
    with session_scope(factory) as s:
        return instances.open_tasks(s, instance_id)


def only_open_task(factory: sessionmaker[Session], instance_id: uuid.UUID) -> HumanTask:
    found = open_tasks(factory, instance_id)
    assert len(found) == 1, [t.element_id for t in found]
    return found[0]


def complete(factory: sessionmaker[Session], task_id: uuid.UUID, person, data: dict[str, Any]) -> HumanTask:
    with session_scope(factory) as s:
        return tasks.complete_task(s, task_id, actor=user(s, person), data=data)


def claim(factory: sessionmaker[Session], task_id: uuid.UUID, person) -> HumanTask:
    with session_scope(factory) as s:
        return tasks.claim_task(s, task_id, actor=user(s, person))


def inbox(factory: sessionmaker[Session], person) -> list[HumanTask]:
    """The open tasks ``person`` may act on now."""
    with session_scope(factory) as s:
        return tasks.list_tasks(s, user=user(s, person))
