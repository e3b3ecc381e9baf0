"""Retention classes, the purge of requests past retention, and the legal hold that stops it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.errors import Conflict, InvalidData, NotFound
from engine.models import (
    AuditEvent,
    DecisionRecord,
    HumanTask,
    IdempotencyKey,
    InstanceStatus,
    PurgeRecord,
    TaskCandidate,
)
from engine.services import audit, decision_records, instances, purge, retention
from tests.engine.helpers import VALID_LEAVE, count, deploy, get_instance, leave_request_files, start, user


def test_retention_counts_from_the_first_of_january_after_closing():
    # hr-domain A38: annual leave closed in 2025 is kept to 2030-12-31; unpaid leave to 2075-12-31.
    closed = datetime(2025, 6, 10, 12, tzinfo=UTC)
    assert retention.retain_until(closed, "leave-5y") == date(2030, 12, 31)
    assert retention.retain_until(closed, "personnel-50y") == date(2075, 12, 31)
    # Closed late on 31 December UTC is already 1 January in the east of the country: the later year.
    assert retention.retain_until(datetime(2025, 12, 31, 20, tzinfo=UTC), "social-1y") == date(2027, 12, 31)


def test_keys_fall_back_to_the_longest_class_and_shipped_defaults(session):
    assert retention.FALLBACK == "personnel-50y"
    assert retention.class_for(session, "leave_request") == ("personnel-50y", "default")
    assert retention.class_for(session, "certificate") == ("certificates-5y", "default")
    assert retention.class_for(session, "never_classified") == ("personnel-50y", "fallback")


def test_setting_a_class_is_checked_and_audited(session_factory, org):
    deploy(session_factory, leave_request_files())
    with session_scope(session_factory) as s:
        retention.set_policy(s, "leave_request", "leave-5y", actor=user(s, org["hr"]))
    with session_scope(session_factory) as s:
        assert retention.class_for(s, "leave_request") == ("leave-5y", "set")
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "retention.set"))
        assert event.details == {
            "key": "leave_request",
            "retention_class": "leave-5y",
            "previous": "personnel-50y",
        }
        with pytest.raises(InvalidData) as bad:
            retention.set_policy(s, "leave_request", "forever", actor=None)
        assert bad.value.details[0]["field"] == "retention_class"
        with pytest.raises(NotFound):
            retention.set_policy(s, "no_such_key", "it-3y", actor=None)


def closed_request(session_factory, person, **kwargs):
    """A leave request started and then cancelled by its initiator (closed now)."""
    instance = start(session_factory, "leave_request", person, VALID_LEAVE, **kwargs)
    with session_scope(session_factory) as s:
        instances.cancel_instance(s, instance.id, actor=user(s, person))
    return get_instance(session_factory, instance.id)


def test_purge_deletes_personal_data_keeps_a_stub_and_skips_the_running_and_held(session_factory, org):
    deploy(session_factory, leave_request_files())
    anna, boris = org["employee_sales_1"], org["employee_ops_1"]
    closed = closed_request(session_factory, anna, business_key="LR-1")
    held = closed_request(session_factory, boris)
    running = start(session_factory, "leave_request", anna, VALID_LEAVE)
    with session_scope(session_factory) as s:
        purge.set_legal_hold(s, get_instance_in(s, held.id), "court case 12/2026", actor=user(s, org["hr"]))
        for request in (closed, held):
            decision_records.record_decision(
                s,
                request.id,
                "leave.balance",
                {"available": 10, "requested": 14},
                False,
                "INSUFFICIENT_BALANCE",
                "balance 10, requested 14: insufficient",
                {"leave_types": 0},
            )
    this_year = closed.completed_at.year
    held_decisions = count(session_factory, DecisionRecord, DecisionRecord.instance_id == held.id)

    # Not due before 50 years have passed, counted from the next 1 January.
    with session_scope(session_factory) as s:
        assert list(purge.candidates(s, date(this_year + 50, 12, 31))) == []
        due = list(purge.candidates(s, date(this_year + 51, 1, 1)))
    assert {(c.instance_id, c.held) for c in due} == {(closed.id, False), (held.id, True)}
    assert all(c.retain_until == date(this_year + 50, 12, 31) for c in due)

    purged, skipped = purge.purge(session_factory, as_of=date(this_year + 51, 1, 1))

    assert [r.instance_id for r in purged] == [closed.id]
    assert [c.instance_id for c in skipped] == [held.id]
    stub = get_instance(session_factory, closed.id)
    assert stub.status == InstanceStatus.CANCELLED
    assert (stub.data, stub.state, stub.business_key, stub.initiator_id) == ({}, "{}", None, None)
    assert stub.created_at == closed.created_at and stub.completed_at == closed.completed_at
    assert stub.purged_at is not None
    assert count(session_factory, HumanTask, HumanTask.instance_id == closed.id) == 0
    assert count(session_factory, HumanTask, HumanTask.instance_id == held.id) > 0
    # Decision records hold the person's facts among their inputs: gone with the data, kept under hold.
    assert count(session_factory, DecisionRecord, DecisionRecord.instance_id == closed.id) == 0
    assert count(session_factory, DecisionRecord, DecisionRecord.instance_id == held.id) == held_decisions > 0
    assert get_instance(session_factory, held.id).data == closed.data  # held: untouched
    assert get_instance(session_factory, running.id).initiator_id == anna.id
    with session_scope(session_factory) as s:
        record = s.scalar(select(PurgeRecord))
        assert (record.instance_id, record.process_key, record.retention_class) == (
            closed.id,
            "leave_request",
            "personnel-50y",
        )
        assert record.retain_until == date(this_year + 50, 12, 31)
        assert record.details["deleted_rows"]["human_tasks"] >= 1
        # The trail of the purged request is still there and still verifies.
        actions = [e.action for e in audit.events_for_instance(s, closed.id)]
        assert actions[0] == "instance.started" and actions[-1] == "instance.purged"
        assert audit.verify(s).intact
    # A second run finds nothing more to do.
    assert purge.purge(session_factory, as_of=date(this_year + 51, 1, 1))[0] == []


def test_purge_removes_idempotency_keys_and_candidates(session_factory, org):
    deploy(session_factory, leave_request_files())
    with session_scope(session_factory) as s:
        retention.set_policy(s, "leave_request", "social-1y", actor=None)
    anna = org["employee_sales_1"]
    instance = start(session_factory, "leave_request", anna, VALID_LEAVE, idempotency_key="k-1")
    with session_scope(session_factory) as s:
        instances.cancel_instance(s, instance.id, actor=user(s, anna))
    year = get_instance(session_factory, instance.id).completed_at.year

    purged, _held = purge.purge(session_factory, as_of=date(year + 2, 1, 1))

    assert [r.retention_class for r in purged] == ["social-1y"]
    assert count(session_factory, IdempotencyKey) == 0
    assert count(session_factory, TaskCandidate) == 0


def test_legal_hold_needs_a_reason_and_cannot_be_set_twice_or_cleared_unset(session_factory, org):
    deploy(session_factory, leave_request_files())
    instance = closed_request(session_factory, org["employee_sales_1"])
    with session_scope(session_factory) as s:
        hr, row = user(s, org["hr"]), get_instance_in(s, instance.id)
        with pytest.raises(InvalidData):
            purge.set_legal_hold(s, row, "  ", actor=hr)
        with pytest.raises(Conflict):
            purge.clear_legal_hold(s, row, actor=hr)
        purge.set_legal_hold(s, row, "audit by the labour inspectorate", actor=hr)
        with pytest.raises(Conflict):
            purge.set_legal_hold(s, row, "again", actor=hr)
    with session_scope(session_factory) as s:
        purge.clear_legal_hold(s, get_instance_in(s, instance.id), actor=user(s, org["hr"]))
    with session_scope(session_factory) as s:  # events join the trail when their step commits
        events = [e for e in audit.events_for_instance(s, instance.id) if "legal_hold" in e.action]
        assert [e.action for e in events] == ["instance.legal_hold_set", "instance.legal_hold_cleared"]
        assert all(e.details == {} for e in events)  # the reason stays out of the trail


def get_instance_in(s, instance_id):
    return instances.lock_instance(s, instance_id)
