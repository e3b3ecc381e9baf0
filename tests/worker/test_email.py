"""E-mail of notifications over real SMTP (aiosmtpd on loopback): language, retries, skips, invitations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import clock
from engine.db import session_scope
from engine.models import JobStatus, Notification, OutboxJob
from tests.api.helpers import started
from tests.worker.smtp_server import serving


@pytest.fixture
def smtp(monkeypatch):
    """A real SMTP server on loopback that the e-mail job sends to."""
    yield from serving(monkeypatch)


def _notifications(factory, user_id: int, kind: str) -> list[Notification]:
    with session_scope(factory) as s:
        rows = s.scalars(
            select(Notification).where(Notification.user_id == user_id, Notification.kind == kind)
        ).all()
        s.expunge_all()
        return list(rows)


def _email_jobs(factory) -> list[OutboxJob]:
    with session_scope(factory) as s:
        rows = s.scalars(select(OutboxJob).where(OutboxJob.kind == "email_notification")).all()
        s.expunge_all()
        return list(rows)


def test_the_manager_is_emailed_the_new_task_in_russian_then_in_english(
    client, org, leave_definition, background, smtp, session_factory
):
    manager = org["manager_sales"]
    instance = started(client, org["employee_sales_1"])
    background()

    (mail,) = smtp.inbox.to(manager.email)
    assert mail["Subject"] == "Новая задача: Approve leave"
    body = mail.get_content()
    assert "Вам поступила задача «Approve leave»" in body
    task_id = instance["open_tasks"][0]["id"]
    assert f"https://hr.example.test/api/v1/tasks/{task_id}" in body
    (row,) = _notifications(session_factory, manager.id, "task_assigned")
    assert mail["Message-ID"] == f"<notification-{row.id}@localhost>"
    assert row.email_status == "sent" and row.emailed_at is not None

    switched = client.patch("/api/v1/users/me", json={"language": "en"}, headers=manager.headers)
    assert switched.status_code == 200 and switched.json["language"] == "en"
    started(client, org["employee_sales_2"])
    background()

    first, second = smtp.inbox.to(manager.email)
    assert second["Subject"] == "New task: Approve leave"
    assert 'A task has come to you: "Approve leave"' in second.get_content()
    assert first["Message-ID"] != second["Message-ID"]


def test_an_smtp_server_that_is_down_is_retried_with_backoff_and_the_mail_arrives_once(
    client, org, leave_definition, background, smtp, session_factory, move_clock
):
    manager = org["manager_sales"]
    smtp.stop()
    started(client, org["employee_sales_1"])
    background()

    (job,) = _email_jobs(session_factory)
    assert job.status == JobStatus.PENDING and job.attempts == 1
    assert job.available_at > clock.now()  # waits 2 s (backoff 2 ** 1) before the next try
    assert "Connection refused" in job.last_error or "Errno" in job.last_error
    (row,) = _notifications(session_factory, manager.id, "task_assigned")
    assert row.email_status == "pending"
    assert background() == 0  # not due yet: nothing runs

    smtp.start()
    move_clock(job.available_at + timedelta(seconds=1))
    background()
    background()

    assert len(smtp.inbox.to(manager.email)) == 1
    (job,) = _email_jobs(session_factory)
    assert job.status == JobStatus.DONE and job.attempts == 2
    assert _notifications(session_factory, manager.id, "task_assigned")[0].email_status == "sent"


def test_after_the_last_attempt_the_email_is_marked_failed(
    client, org, leave_definition, background, smtp, session_factory, move_clock
):
    smtp.stop()
    started(client, org["employee_sales_1"])
    for _ in range(5):
        background()
        (job,) = _email_jobs(session_factory)
        move_clock(job.available_at + timedelta(seconds=1))

    (job,) = _email_jobs(session_factory)
    assert job.status == JobStatus.FAILED and job.attempts == 5
    (row,) = _notifications(session_factory, org["manager_sales"].id, "task_assigned")
    assert row.email_status == "failed"
    # The person still has it in the app.
    listed = client.get("/api/v1/notifications", headers=org["manager_sales"].headers).json
    assert [n["email_status"] for n in listed] == ["failed"]


def test_without_an_smtp_host_the_email_is_skipped_and_the_app_still_tells(
    client, org, leave_definition, background, session_factory, monkeypatch
):
    monkeypatch.delenv("APPROUTE_SMTP_HOST", raising=False)
    started(client, org["employee_sales_1"])
    background()

    (row,) = _notifications(session_factory, org["manager_sales"].id, "task_assigned")
    assert row.email_status == "skipped" and row.emailed_at is None
    assert _email_jobs(session_factory) == []  # no background work is made for mail that cannot go


def test_an_invitation_without_smtp_keeps_no_code(client, org, session_factory, monkeypatch):
    monkeypatch.delenv("APPROUTE_SMTP_HOST", raising=False)
    answer = client.post(
        "/api/v1/invitations", json={"email": org["employee_ops_2"].email}, headers=org["hr"].headers
    )
    assert answer.status_code == 201, answer.json
    (row,) = _notifications(session_factory, org["employee_ops_2"].id, "invitation")
    assert row.email_status == "skipped" and "activation_code" not in row.params


def test_an_invited_person_is_emailed_the_activation_link_and_the_code_is_not_kept(
    client, org, background, smtp, session_factory
):
    person = org["employee_ops_2"]
    answer = client.post("/api/v1/invitations", json={"email": person.email}, headers=org["hr"].headers)
    assert answer.status_code == 201
    code = answer.json["code"]
    background()

    (mail,) = smtp.inbox.to(person.email)
    assert mail["Subject"] == "Приглашение в approute"
    assert f"https://hr.example.test/activate#code={code}" in mail.get_content()
    (row,) = _notifications(session_factory, person.id, "invitation")
    assert row.email_status == "sent" and "activation_code" not in row.params
