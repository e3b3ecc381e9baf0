"""SLA policies in working days (hr-domain A18), driven by a clock moved forward over real calendar days.

The leave route's manager task carries dueInWorkingDays=3, reminderAfterWorkingDays=2 and
escalationAfterWorkingDays=3 to the manager's manager. The moments follow rules/sla.py: 09:00
Moscow time on the working day after the N-th working day after the day the task arrived.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine import clock
from engine.db import session_scope
from engine.models import Notification, Timer, TimerKind
from tests.acceptance.conftest import complete, completed, only_task, submitted
from tests.api.helpers import upload
from tests.engine.helpers import bundle_file

MSK = clock.company_timezone()


def msk(year, month, day, hour, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK).astimezone(UTC)


def notes(session_factory, kind: str) -> list[tuple[int, dict]]:
    with session_scope(session_factory) as s:
        rows = s.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id))
        return [(n.user_id, n.params) for n in rows]


def policy_rows(session_factory, task_id) -> dict[TimerKind, Timer]:
    with session_scope(session_factory) as s:
        return {t.kind: t for t in s.scalars(select(Timer).where(Timer.task_id == uuid.UUID(task_id)))}


def inbox_ids(client, person) -> list[str]:
    response = client.get("/api/v1/tasks", headers=person.headers)
    assert response.status_code == 200, response.json
    return [t["id"] for t in response.json]


def test_a18_reminder_at_2_working_days_then_escalation_to_the_managers_manager(
    client, world, session_factory, background, move_clock
):
    anna, manager, director = world["employee_sales_1"], world["manager_sales"], world["director"]
    move_clock(msk(2025, 10, 9, 10))  # Thu 2025-10-09, 10:00 Moscow
    started = submitted(client, anna, "unpaid_agreed", "2025-11-10", "2025-11-14")
    task = only_task(client, anna, started["id"])
    assert task["element_id"] == "manager_approval" and task["assignee"] == manager.email
    assert datetime.fromisoformat(task["due_at"]) == msk(2025, 10, 15, 9)  # 3 WD: end of Tue 10-14
    rows = policy_rows(session_factory, task["id"])
    assert rows[TimerKind.TASK_REMINDER].due_at == msk(2025, 10, 14, 9)  # WD1 Fri, WD2 Mon -> Tue
    assert rows[TimerKind.TASK_ESCALATION].due_at == msk(2025, 10, 15, 9)

    move_clock(msk(2025, 10, 14, 8, 59))
    background()
    assert notes(session_factory, "task_reminder") == []
    move_clock(msk(2025, 10, 14, 9, 1))
    background()
    background()
    ((to, params),) = notes(session_factory, "task_reminder")
    assert (to, params["task_name"], params["process_key"]) == (manager.id, "Approve leave", "leave_request")
    assert params["reason"] == "not acted on within 2 working days"
    assert inbox_ids(client, manager) == [task["id"]]  # a reminder moves nothing

    move_clock(msk(2025, 10, 15, 8, 59))  # Wed before 09:00: Tue is not over yet in the SLA's terms
    background()
    assert notes(session_factory, "task_escalated") == []
    move_clock(msk(2025, 10, 15, 9, 1))
    background()
    assert inbox_ids(client, director) == [task["id"]]
    assert inbox_ids(client, manager) == []  # the original assignee loses the task
    refused = complete(client, manager, task["id"], {"manager_decision": "approve"})
    assert refused.status_code in (403, 404), refused.json
    escalated = sorted(to for to, _ in notes(session_factory, "task_escalated"))
    assert escalated == sorted([director.id, manager.id])
    trail = client.get(f"/api/v1/instances/{started['id']}/history", headers=world["hr"].headers).json
    (event,) = [e for e in trail if e["action"] == "task.escalated"]
    assert event["details"]["reason"] == "not acted on within 3 working days"
    assert (event["details"]["escalated_from"], event["details"]["assignee"]) == (manager.id, director.id)

    background()  # nothing fires twice
    assert len(notes(session_factory, "task_reminder")) == 1
    assert len(notes(session_factory, "task_escalated")) == 2
    completed(client, director, task["id"], {"manager_decision": "approve"})


def test_reminders_skip_a_weekend_and_a_public_holiday(
    client, world, session_factory, background, move_clock
):
    """Filed Thu 2025-10-30: Fri 10-31 and the working Saturday 11-01 are WD1 and WD2; Sun 11-02, the
    moved day off Mon 11-03 and Unity Day Tue 11-04 do not count; WD3 is Wed 11-05."""
    anna, manager, director = world["employee_ops_1"], world["manager_ops"], world["director"]
    move_clock(msk(2025, 10, 30, 16))
    started = submitted(client, anna, "unpaid_agreed", "2025-12-01", "2025-12-05")
    task = only_task(client, anna, started["id"])
    rows = policy_rows(session_factory, task["id"])
    assert rows[TimerKind.TASK_REMINDER].due_at == msk(2025, 11, 5, 9)
    assert rows[TimerKind.TASK_ESCALATION].due_at == msk(2025, 11, 6, 9)

    for moment in (msk(2025, 11, 3, 12), msk(2025, 11, 4, 12), msk(2025, 11, 5, 8, 59)):
        move_clock(moment)  # over the long weekend: nothing is due yet
        background()
    assert notes(session_factory, "task_reminder") == []
    move_clock(msk(2025, 11, 5, 9, 1))
    background()
    assert [to for to, _ in notes(session_factory, "task_reminder")] == [manager.id]
    move_clock(msk(2025, 11, 6, 8, 59))
    background()
    assert inbox_ids(client, manager) == [task["id"]]
    move_clock(msk(2025, 11, 6, 9, 1))
    background()
    assert inbox_ids(client, director) == [task["id"]]
    assert inbox_ids(client, manager) == []
    assert len(notes(session_factory, "task_reminder")) == 1


def test_deciding_in_time_cancels_the_reminder_and_the_escalation(
    client, world, session_factory, background, move_clock
):
    anna, manager = world["employee_sales_1"], world["manager_sales"]
    move_clock(msk(2025, 10, 9, 10))
    started = submitted(client, anna, "unpaid_agreed", "2025-11-10", "2025-11-14")
    task = only_task(client, anna, started["id"])
    completed(client, manager, task["id"], {"manager_decision": "approve"})
    assert {r.status for r in policy_rows(session_factory, task["id"]).values()} == {"cancelled"}
    move_clock(msk(2025, 10, 20, 12))
    background()
    assert notes(session_factory, "task_reminder") == notes(session_factory, "task_escalated") == []


@pytest.mark.parametrize("keeps", [True, False])
def test_escalation_to_a_role_keeps_the_original_read_only_per_config(
    client, world, session_factory, background, move_clock, keeps
):
    anna, ops, hr = world["employee_sales_1"], world["manager_ops"], world["hr"]
    (name, content) = next(iter(bundle_file("timers/sla_to_role.bpmn").items()))
    content = content.replace(b"ASSIGNEE", ops.email.encode()).replace(b"KEEPS", str(keeps).lower().encode())
    assert upload(client, world["designer"], {name: content}).status_code == 201
    move_clock(msk(2025, 10, 9, 10))
    response = client.post(
        "/api/v1/definitions/sla_to_role/instances", json={"data": {}}, headers=anna.headers
    )
    assert response.status_code == 201, response.json
    task = only_task(client, anna, response.json["id"])
    move_clock(msk(2025, 10, 13, 9) + timedelta(minutes=1))  # WD1 Fri 10-10 -> Mon 10-13 09:00
    background()
    assert inbox_ids(client, hr) == [task["id"]]
    assert inbox_ids(client, ops) == []
    seen = client.get(f"/api/v1/tasks/{task['id']}", headers=ops.headers)
    assert seen.status_code == (200 if keeps else 404)
    refused = complete(client, ops, task["id"], {})
    assert refused.status_code in ((403, 409) if keeps else (404,)), refused.json
    assert [to for to, _ in notes(session_factory, "task_escalated")].count(hr.id) == 1
    completed(client, hr, task["id"], {})
