"""Notifications in the engine: who is told about a task, how an ending is named, the notify operator."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from engine.db import session_scope
from engine.models import (
    HumanTask,
    InstanceStatus,
    Notification,
    OutboxJob,
    ProcessInstance,
    TaskCandidate,
    User,
)
from engine.services import notifications
from engine.services.notify_operator import RecipientError, notify_operator
from engine.services.operators import OperatorCall, get
from tests.api.helpers import started
from worker.notification_text import render


def _call(session, instance_id, params, delivery_id="svc:1:0") -> OperatorCall:
    instance = session.get(ProcessInstance, uuid.UUID(instance_id))
    return OperatorCall(
        session=session,
        instance=instance,
        task_id=uuid.uuid4(),
        element_id="tell",
        params=params,
        delivery_id=delivery_id,
    )


def _count(session, **where) -> int:
    query = select(func.count()).select_from(Notification)
    for column, value in where.items():
        query = query.where(getattr(Notification, column) == value)
    return session.scalar(query)


def test_the_notify_operator_tells_each_recipient_once_and_a_rerun_adds_nothing(
    client, org, leave_definition, session_factory, monkeypatch
):
    monkeypatch.setenv("APPROUTE_SMTP_HOST", "127.0.0.1")  # mail is configured: each notice gets its job
    instance = started(client, org["employee_sales_1"])
    params = {
        "to": ["initiator", "role:hr", org["hr"].email.upper(), org["designer"].email],
        "subject": "Документы готовы",
        "message": "Заберите оригиналы в отделе кадров.",
    }
    with session_scope(session_factory) as s:
        assert get("notify").retries == 3
        assert notify_operator(_call(s, instance["id"], params)) == {"notified": 3}
    with session_scope(session_factory) as s:
        assert notify_operator(_call(s, instance["id"], params)) == {"notified": 3}  # the same delivery
        assert _count(s, kind="process_message") == 3
        row = s.scalar(select(Notification).where(Notification.user_id == org["employee_sales_1"].id))
        assert row.kind == "process_message" and row.instance_id == uuid.UUID(instance["id"])
        assert render(row.kind, "ru", row.params) == (
            "Документы готовы",
            "Заберите оригиналы в отделе кадров.",
        )
        emails = s.scalar(
            select(func.count()).select_from(OutboxJob).where(OutboxJob.kind == "email_notification")
        )
        assert emails == 3 + 1  # and the manager's task_assigned from the start
    with session_scope(session_factory) as s:
        notify_operator(_call(s, instance["id"], params, delivery_id="svc:1:1"))  # a new round tells again
        assert _count(s, kind="process_message") == 6


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ("nobody@demo.approute.test", "no active person has the e-mail 'nobody@demo.approute.test'"),
        ("role:astronaut", "nobody active holds the role 'astronaut'"),
        ("the boss", "cannot tell who 'the boss' is"),
        ([], "'to' is empty"),
    ],
)
def test_an_unknown_recipient_fails_the_task_with_a_clear_message(
    client, org, leave_definition, session_factory, to, message
):
    instance = started(client, org["employee_sales_1"])
    with session_scope(session_factory) as s, pytest.raises(RecipientError, match=message):
        notify_operator(_call(s, instance["id"], {"to": to}))


def test_a_task_for_a_role_tells_its_holders_unless_the_role_is_crowded(session_factory, org, monkeypatch):
    with session_scope(session_factory) as s:
        hr_ids = notifications.role_holders(s, "hr")
        assert hr_ids == [org["hr"].id]
        assert len(notifications.role_holders(s, "employee")) > 3
    monkeypatch.setattr(notifications, "ROLE_FAN_OUT_LIMIT", 3)
    with session_scope(session_factory) as s:
        task = HumanTask(
            id=uuid.uuid4(),
            element_id="x",
            name="Check",
            candidates=[TaskCandidate(role="hr"), TaskCandidate(role="employee")],
            excluded_user_ids=[],
        )
        assert notifications.task_audience(s, task) == [org["hr"].id]  # employee: more than 3 hold it


def test_an_inactive_or_excluded_candidate_is_not_told(session_factory, org):
    with session_scope(session_factory) as s:
        s.get(User, org["employee_ops_1"].id).is_active = False
        task = HumanTask(
            id=uuid.uuid4(),
            element_id="x",
            name="Check",
            candidates=[
                TaskCandidate(user_id=org["employee_ops_1"].id),
                TaskCandidate(user_id=org["employee_ops_2"].id),
                TaskCandidate(user_id=org["hr"].id),
            ],
            excluded_user_ids=[org["hr"].id],
        )
        assert notifications.task_audience(s, task) == [org["employee_ops_2"].id]


@pytest.mark.parametrize(
    ("status", "data", "outcome"),
    [
        (InstanceStatus.CANCELLED, {"outcome": "approved"}, "cancelled"),
        (InstanceStatus.COMPLETED, {"outcome": "Issued"}, "issued"),
        (InstanceStatus.COMPLETED, {"leave_status": "approved", "manager_decision": "reject"}, "approved"),
        (
            InstanceStatus.COMPLETED,
            {"manager_decision": "approve", "director_decision": "reject"},
            "rejected",
        ),
        (InstanceStatus.COMPLETED, {"manager_decision": "approve", "hr_decision": "approved"}, "approved"),
        (InstanceStatus.COMPLETED, {"amount": 5}, "completed"),
    ],
)
def test_how_a_finished_request_is_named(status, data, outcome):
    assert notifications.outcome_of(ProcessInstance(status=status, data=data)) == outcome


def test_every_kind_renders_in_both_languages_and_an_unknown_kind_still_does():
    kinds = [
        "task_assigned",
        "task_reminder",
        "task_due_warning",
        "task_escalated",
        "request_decided",
        "document_ready",
        "incident_opened",
        "accreditation_window_open",
        "accreditation_reminder",
        "accreditation_expired",
        "training_due_soon",
        "training_overdue",
        "leave_schedule_notice",
        "leave_schedule_may_move",
        "invitation",
        "process_message",
    ]
    for kind in kinds:
        subjects = {}
        for language in ("ru", "en"):
            subject, body = render(kind, language, {})  # no params at all: still words, no crash
            assert subject and "\n" not in subject and body, (kind, language)
            subjects[language] = subject
        assert subjects["ru"] != subjects["en"], kind
    assert render("brand_new_kind", "en", {"amount": 5}) == (
        "approute notification",
        "You have a new notification (brand_new_kind).\namount: 5",
    )
    assert render("task_assigned", "de", {"task_name": "X"})[0] == "Новая задача: X"  # unknown language → ru


def test_mark_read_touches_only_the_callers_own(session_factory, org):
    with session_scope(session_factory) as s:
        mine = notifications.notify(s, org["hr"].id, "task_reminder", {"task_name": "A"})
        theirs = notifications.notify(s, org["director"].id, "task_reminder", {"task_name": "B"})
        hr = s.get(User, org["hr"].id)
        assert notifications.mark_read(s, hr, [mine.id, theirs.id]) == 1
        assert notifications.unread_count(s, hr) == 0
        assert notifications.unread_count(s, s.get(User, org["director"].id)) == 1
