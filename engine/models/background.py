"""Background work that must never be lost: the outbox of jobs, timers as due rows, and incidents.

Each row is written in the same transaction as the step that caused it, so a crash after the
commit loses nothing: the dispatcher re-sends outbox rows nobody finished, and the scheduler
fires timer rows whose time has come, whenever a worker is up again.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType
from engine.models._types import BigIntId, UtcDateTime, utcnow


class JobStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for available_at, then for the dispatcher
    SENT = "sent"  # handed to a queue at sent_at; re-sent if not done within the lease
    DONE = "done"
    FAILED = "failed"  # out of attempts; an incident says why
    CANCELLED = "cancelled"


class OutboxJob(Base):
    """One piece of background work. The payload holds ids only; the job loads fresh state."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_available_at", "status", "available_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64), comment="the job handler's name")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, comment="ids, never state")
    instance_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    dedupe_key: Mapped[str | None] = mapped_column(
        String(200), unique=True, comment="one job per key, e.g. svc:<task id>"
    )
    status: Mapped[JobStatus] = mapped_column(default=JobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0, comment="runs that ended, in success or failure")
    max_attempts: Mapped[int] = mapped_column(default=5)
    backoff_base: Mapped[float] = mapped_column(default=2.0, comment="seconds; the n-th retry waits base**n")
    available_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TimerKind(enum.StrEnum):
    BPMN = "bpmn"  # a timer event waiting inside an instance (boundary, intermediate, cycle)
    START = "start"  # a definition's timer start event: starts an instance when due
    TASK_REMINDER = "task_reminder"  # a human task's reminder policy
    TASK_ESCALATION = "task_escalation"  # a human task's escalation policy
    TASK_DUE_WARNING = "task_due_warning"  # a warning some working days before a task's due time
    SCHEDULE = "schedule"  # a recurring sweep (accreditation and training reminders)


class TimerStatus(enum.StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"


class Timer(Base):
    """A due row. The scheduler claims rows with due_at <= now (FOR UPDATE SKIP LOCKED) and fires them."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    kind: Mapped[TimerKind] = mapped_column()
    instance_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[uuid.UUID | None] = mapped_column(
        comment="the SpiffWorkflow task: the waiting timer event, or the human task"
    )
    definition_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("process_definitions.id"))
    name: Mapped[str | None] = mapped_column(String(128), comment="the timer event's or sweep's name")
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[TimerStatus] = mapped_column(default=TimerStatus.PENDING)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, comment="the policy that set it")
    fire_count: Mapped[int] = mapped_column(default=0, comment="cycle timers fire more than once")
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class IncidentStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Incident(Base):
    """Background work that failed for good: HR or an admin retries it, skips it or cancels the instance."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    instance_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[uuid.UUID | None] = mapped_column(comment="the SpiffWorkflow task that failed")
    element_id: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64), comment="service_task, timer or the job kind")
    operator: Mapped[str | None] = mapped_column(String(128))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    timer_id: Mapped[int | None] = mapped_column(ForeignKey("timers.id"), comment="a timer that kept failing")
    error: Mapped[str] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    status: Mapped[IncidentStatus] = mapped_column(default=IncidentStatus.OPEN, index=True)
    resolution: Mapped[str | None] = mapped_column(String(32), comment="retried, skipped or cancelled")
    resolution_data: Mapped[dict[str, Any] | None] = mapped_column(JSONType, comment="skip: the output given")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Notification(Base):
    """Something a person is told, in the app and by e-mail. Text is rendered from kind + params."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64), comment="the template: task_assigned, task_reminder, ...")
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    instance_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[uuid.UUID | None] = mapped_column()
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    email_status: Mapped[str] = mapped_column(
        String(16), default="pending", comment="pending, sent, skipped (no SMTP or no address), failed"
    )
    emailed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Document(Base):
    """A file of an instance: a generated certificate, or an upload for a checklist."""

    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    instance_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(64), comment="certificate type, or checklist item code")
    title: Mapped[str] = mapped_column(String(255))
    file_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    register_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    source_task_id: Mapped[uuid.UUID | None] = mapped_column(
        unique=True, comment="the service task that generated it: a re-run makes no second copy"
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RegisterCounter(Base):
    """The outgoing-number sequence of a register, per year (C-02): numbers never repeat or skip."""

    __tablename__ = "register_counters"

    register: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)
