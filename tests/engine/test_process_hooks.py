"""Route hooks run inside the step's transaction: a refusal stores nothing, bookkeeping commits with it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.errors import InvalidData
from engine.models import AuditEvent, InstanceStatus, ProcessInstance
from engine.services import audit, instances, process_hooks
from tests.engine.helpers import (
    bundle_file,
    complete,
    count,
    deploy,
    get_instance,
    only_open_task,
    start,
    user,
)


class RecordingHooks(process_hooks.ProcessHooks):
    """Refuses a start with days > 10, notes each call in the audit trail, adds data fields."""

    key = "lane_manager"

    def before_start(self, session, actor, data):
        if data.get("days", 0) > 10:
            raise InvalidData(
                "the request breaks a rule",
                [{"field": "days", "rule": "TOO_LONG", "params": {"max": 10}, "message": "at most 10 days"}],
            )
        return {"checked_at_start": True}

    def after_start(self, session, instance):
        audit.record(session, "hook.after_start", instance_id=instance.id)

    def before_complete(self, session, instance, task, actor, data):
        return {"checked_at_approval": task.element_id}

    def on_finished(self, session, instance):
        audit.record(session, "hook.finished", instance_id=instance.id, status=instance.status.value)


@pytest.fixture
def hooks():
    installed = process_hooks.register(RecordingHooks())
    yield installed
    process_hooks.unregister(installed.key)


def _actions(factory, instance_id):
    with session_scope(factory) as s:
        return [e.action for e in audit.events_for_instance(s, instance_id)]


def test_a_refused_start_stores_nothing(session_factory, org, hooks):
    deploy(session_factory, bundle_file("assignment/lane_manager.bpmn"))
    with session_scope(session_factory) as s, pytest.raises(InvalidData) as refused:
        instances.start_instance(
            s, key="lane_manager", actor=user(s, org["employee_sales_1"]), data={"days": 14}
        )
    assert refused.value.details == [
        {"field": "days", "rule": "TOO_LONG", "params": {"max": 10}, "message": "at most 10 days"}
    ]
    assert count(session_factory, ProcessInstance) == 0
    assert count(session_factory, AuditEvent, AuditEvent.action == "instance.started") == 0


def test_hooks_add_data_and_bookkeeping_at_start_completion_and_cancel(session_factory, org, hooks):
    deploy(session_factory, bundle_file("assignment/lane_manager.bpmn"))
    started = start(session_factory, "lane_manager", org["employee_sales_1"], {"days": 3})
    assert get_instance(session_factory, started.id).data["checked_at_start"] is True

    task = only_open_task(session_factory, started.id)
    complete(session_factory, task.id, org["manager_sales"], {})
    finished = get_instance(session_factory, started.id)
    assert finished.status == InstanceStatus.COMPLETED
    assert finished.data["checked_at_approval"] == "act"
    actions = _actions(session_factory, started.id)
    assert "hook.after_start" in actions
    assert actions.index("hook.finished") > actions.index("instance.completed")

    other = start(session_factory, "lane_manager", org["employee_sales_2"], {"days": 1})
    with session_scope(session_factory) as s:
        instances.cancel_instance(s, other.id, actor=user(s, org["employee_sales_2"]))
        finished_events = s.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == other.id, AuditEvent.action == "hook.finished")
        ).all()
    assert finished_events == []  # sealed at commit: read after it
    with session_scope(session_factory) as s:
        (event,) = s.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == other.id, AuditEvent.action == "hook.finished")
        ).all()
        assert event.details == {"status": "cancelled"}
