"""The human-task read model: one row per user task that became ready."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, JSONType
from engine.models._types import BigIntId, UtcDateTime, utcnow
from engine.models.instances import ProcessInstance


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class HumanTask(Base):
    __tablename__ = "human_tasks"
    __table_args__ = (
        # "the open tasks of this instance" and "my open tasks" run on every step and inbox read;
        # leading with the owner keeps them as cheap at an instance's 1,000th task as at its 1st.
        Index("ix_human_tasks_instance_id_status", "instance_id", "status"),
        Index("ix_human_tasks_assignee_id_status", "assignee_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, comment="the SpiffWorkflow task id")
    instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    element_id: Mapped[str] = mapped_column(String(255), comment="BPMN id of the user task")
    name: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(255))
    form: Mapped[str | None] = mapped_column(String(255), comment="form file name in the bundle")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[TaskStatus] = mapped_column(default=TaskStatus.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), comment="whom the assignee stands in for (out of office)"
    )
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalated_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), comment="who held the task before its escalation policy moved it"
    )
    escalated_from_reads: Mapped[bool] = mapped_column(
        default=False,
        server_default=false(),
        comment="escalationKeepsOriginal: the former holder still reads the task, without acting",
    )
    excluded_user_ids: Mapped[list[int]] = mapped_column(
        JSONType, default=list, comment="separation of duties: people who may not act on this task"
    )

    candidate_summary: Mapped[dict[str, list[str]]] = mapped_column(
        JSONType,
        default=dict,
        comment="{users: [e-mail], roles: [name]} for display; task_candidates is what queries use",
    )

    candidates: Mapped[list[TaskCandidate]] = relationship(cascade="all, delete-orphan")
    instance: Mapped[ProcessInstance] = relationship()


class TaskCandidate(Base):
    """A user or a role that may claim an unassigned task."""

    __tablename__ = "task_candidates"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(64), index=True, comment="lower-case")
