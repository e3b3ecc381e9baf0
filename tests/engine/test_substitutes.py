"""Out of office: new tasks go to the substitute, held tasks follow them, the audit says «X for Y»."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.errors import Forbidden, InvalidData, NotFound
from engine.models import AuditEvent, HumanTask, Substitution, TaskCandidate
from engine.services import substitutes
from tests.engine.helpers import (
    VALID_LEAVE,
    bundle_file,
    complete,
    deploy,
    inbox,
    only_open_task,
    start,
    user,
)

APPROVE = {"manager_decision": "approve"}


def _away(session_factory, person, substitute, *, starts=0, ends=7):
    """``person`` is away from today+starts to today+ends, with ``substitute`` standing in."""
    today = substitutes.today()
    with session_scope(session_factory) as s:
        return substitutes.set_away(
            s,
            user=user(s, person),
            substitute_email=substitute.email,
            starts_on=today + timedelta(days=starts),
            ends_on=today + timedelta(days=ends),
        ).id


def _events(session_factory, task_id, action) -> list[AuditEvent]:
    with session_scope(session_factory) as s:
        query = select(AuditEvent).where(AuditEvent.task_id == task_id, AuditEvent.action == action)
        return list(s.scalars(query))


def test_a_new_task_goes_to_the_substitute_and_the_audit_says_for_whom(
    session_factory, org, leave_definition
):
    marina, vera = org["manager_sales"], org["manager_ops"]
    _away(session_factory, marina, vera)

    instance = start(session_factory, "leave_request", org["employee_sales_1"], VALID_LEAVE)
    task = only_open_task(session_factory, instance.id)

    assert (task.assignee_id, task.on_behalf_of_id) == (vera.id, marina.id)
    assert [t.id for t in inbox(session_factory, vera)] == [task.id]
    assert inbox(session_factory, marina) == []
    (assigned,) = _events(session_factory, task.id, "task.assigned")
    assert (assigned.details["assignee"], assigned.details["on_behalf_of"]) == (vera.id, marina.id)

    complete(session_factory, task.id, vera, APPROVE)
    with session_scope(session_factory) as s:
        done = s.get(HumanTask, task.id)
        assert (done.completed_by_id, done.on_behalf_of_id) == (vera.id, marina.id)
    (completed,) = _events(session_factory, task.id, "task.completed")
    assert completed.actor_id == vera.id
    assert completed.details["on_behalf_of"] == marina.id


def test_tasks_held_when_the_period_starts_follow_the_substitute(session_factory, org, leave_definition):
    marina, vera = org["manager_sales"], org["manager_ops"]
    instance = start(session_factory, "leave_request", org["employee_sales_2"], VALID_LEAVE)
    held = only_open_task(session_factory, instance.id)
    assert held.assignee_id == marina.id
    assert inbox(session_factory, vera) == []

    _away(session_factory, marina, vera)

    assert [t.id for t in inbox(session_factory, vera)] == [held.id]
    complete(session_factory, held.id, vera, APPROVE)
    with session_scope(session_factory) as s:
        done = s.get(HumanTask, held.id)
        assert (done.assignee_id, done.completed_by_id, done.on_behalf_of_id) == (
            marina.id,
            vera.id,
            marina.id,
        )
    (completed,) = _events(session_factory, held.id, "task.completed")
    assert completed.details["on_behalf_of"] == marina.id


def test_a_period_that_starts_later_changes_nothing_today(session_factory, org, leave_definition):
    marina, vera = org["manager_sales"], org["manager_ops"]
    held = only_open_task(
        session_factory, start(session_factory, "leave_request", org["employee_sales_1"], VALID_LEAVE).id
    )
    _away(session_factory, marina, vera, starts=3, ends=10)

    assert inbox(session_factory, vera) == []
    with pytest.raises(NotFound):
        complete(session_factory, held.id, vera, APPROVE)
    new = only_open_task(
        session_factory, start(session_factory, "leave_request", org["employee_sales_2"], VALID_LEAVE).id
    )
    assert (new.assignee_id, new.on_behalf_of_id) == (marina.id, None)


def test_when_the_period_ends_new_tasks_go_to_the_person_again(session_factory, org, leave_definition):
    marina, vera = org["manager_sales"], org["manager_ops"]
    _away(session_factory, marina, vera)
    with session_scope(session_factory) as s:
        substitutes.end_away(s, user=user(s, marina))

    task = only_open_task(
        session_factory, start(session_factory, "leave_request", org["employee_sales_1"], VALID_LEAVE).id
    )
    assert (task.assignee_id, task.on_behalf_of_id) == (marina.id, None)
    assert inbox(session_factory, vera) == []


def test_a_period_in_the_past_does_not_count(session_factory, org, leave_definition):
    marina, vera = org["manager_sales"], org["manager_ops"]
    today = substitutes.today()
    with session_scope(session_factory) as s:
        s.add(
            Substitution(
                user_id=marina.id,
                substitute_id=vera.id,
                starts_on=today - timedelta(days=10),
                ends_on=today - timedelta(days=1),
            )
        )

    task = only_open_task(
        session_factory, start(session_factory, "leave_request", org["employee_sales_1"], VALID_LEAVE).id
    )
    assert task.assignee_id == marina.id
    with session_scope(session_factory) as s:
        assert substitutes.current_period(s, user(s, marina)) is None


def test_a_substitute_who_is_away_too_passes_the_task_on(session_factory, org, leave_definition):
    marina, oleg, director = org["manager_sales"], org["manager_ops"], org["director"]
    _away(session_factory, marina, oleg)
    _away(session_factory, oleg, director)

    task = only_open_task(
        session_factory, start(session_factory, "leave_request", org["employee_sales_1"], VALID_LEAVE).id
    )
    assert (task.assignee_id, task.on_behalf_of_id) == (director.id, marina.id)
    assert inbox(session_factory, oleg) == []


def test_a_substitute_who_is_the_initiator_sends_the_task_above_the_absent_person(
    session_factory, org, leave_definition
):
    marina, anna = org["manager_sales"], org["employee_sales_1"]
    _away(session_factory, marina, anna)

    task = only_open_task(session_factory, start(session_factory, "leave_request", anna, VALID_LEAVE).id)

    assert (task.assignee_id, task.on_behalf_of_id) == (org["director"].id, None)
    assert inbox(session_factory, anna) == []
    with pytest.raises(Forbidden, match="your own request"):
        complete(session_factory, task.id, anna, APPROVE)


def test_candidate_users_are_substituted_too(session_factory, org):
    anna, boris, vera = org["employee_sales_1"], org["employee_sales_2"], org["employee_ops_1"]
    _away(session_factory, anna, vera)
    definition = deploy(session_factory, bundle_file("assignment/candidate_users.bpmn"))
    task = only_open_task(session_factory, start(session_factory, definition.key, org["manager_ops"], {}).id)

    with session_scope(session_factory) as s:
        candidates = set(s.scalars(select(TaskCandidate.user_id).where(TaskCandidate.task_id == task.id)))
    assert candidates == {boris.id, vera.id}


def test_the_period_is_checked(session_factory, org):
    today = substitutes.today()
    marina = org["manager_sales"]
    cases = [
        (org["manager_ops"].email, today, today - timedelta(days=1), "to"),
        (org["manager_ops"].email, today - timedelta(days=9), today - timedelta(days=2), "to"),
        (marina.email, today, today, "substitute_email"),
        ("nobody@demo.approute.test", today, today, "substitute_email"),
    ]
    for email, starts, ends, field in cases:
        with session_scope(session_factory) as s, pytest.raises(InvalidData) as refused:
            substitutes.set_away(
                s, user=user(s, marina), substitute_email=email, starts_on=starts, ends_on=ends
            )
        assert [p["field"] for p in refused.value.details] == [field], (email, starts, ends)
    with session_scope(session_factory) as s:
        assert s.scalar(select(Substitution.id)) is None


def test_a_chain_that_would_loop_is_refused_only_when_the_periods_overlap(session_factory, org):
    marina, oleg, director = org["manager_sales"], org["manager_ops"], org["director"]
    _away(session_factory, marina, oleg, starts=0, ends=5)
    _away(session_factory, oleg, director, starts=3, ends=9)

    with pytest.raises(InvalidData) as refused:
        _away(session_factory, director, marina, starts=4, ends=4)
    assert refused.value.details[0]["field"] == "substitute_email"
    # Day 7: Marina is back, so the director naming her cannot loop.
    _away(session_factory, director, marina, starts=7, ends=8)


def test_a_new_period_replaces_the_current_one(session_factory, org):
    marina = org["manager_sales"]
    first = _away(session_factory, marina, org["manager_ops"], starts=1, ends=3)
    second = _away(session_factory, marina, org["director"], starts=5, ends=6)

    with session_scope(session_factory) as s:
        current = substitutes.current_period(s, user(s, marina))
        assert (current.id, current.substitute_id) == (second, org["director"].id)
        assert s.get(Substitution, first).ended_at is not None
        substitutes.end_away(s, user=user(s, marina))
    with session_scope(session_factory) as s, pytest.raises(NotFound):
        substitutes.end_away(s, user=user(s, marina))
