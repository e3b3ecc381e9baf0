"""Background work: the outbox, timers as due rows, incidents, notifications, documents and registers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:42:44.613890
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types, as in 0001.
BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UtcDateTime = sa.DateTime(timezone=True)
JSONType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "register_counters",
        sa.Column("register", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("register", "year", name=op.f("pk_register_counters")),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind", sa.String(length=64), nullable=False, comment="certificate type, or checklist item code"
        ),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("register_number", sa.String(length=40), nullable=True),
        sa.Column(
            "source_task_id",
            sa.Uuid(),
            nullable=True,
            comment="the service task that generated it: a re-run makes no second copy",
        ),
        sa.Column("created_by_id", BigIntId, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_documents_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_documents_instance_id_process_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("register_number", name=op.f("uq_documents_register_number")),
        sa.UniqueConstraint("source_task_id", name=op.f("uq_documents_source_task_id")),
    )
    op.create_index(op.f("ix_documents_instance_id"), "documents", ["instance_id"], unique=False)
    op.create_table(
        "notifications",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigIntId, nullable=False),
        sa.Column(
            "kind",
            sa.String(length=64),
            nullable=False,
            comment="the template: task_assigned, task_reminder, ...",
        ),
        sa.Column("params", JSONType, nullable=False),
        sa.Column("instance_id", sa.Uuid(), nullable=True),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column(
            "email_status",
            sa.String(length=16),
            nullable=False,
            comment="pending, sent, skipped (no SMTP or no address), failed",
        ),
        sa.Column("emailed_at", UtcDateTime, nullable=True),
        sa.Column("read_at", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_notifications_instance_id_process_instances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notifications_dedupe_key")),
    )
    op.create_index(op.f("ix_notifications_instance_id"), "notifications", ["instance_id"], unique=False)
    op.create_index("ix_notifications_user_id_read_at", "notifications", ["user_id", "read_at"], unique=False)
    op.create_table(
        "leave_schedule_notices",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigIntId, nullable=False),
        sa.Column("start", sa.Date(), nullable=False, comment="first day of the scheduled leave"),
        sa.Column("days", sa.Integer(), nullable=True, comment="calendar days, as the schedule says"),
        sa.Column("leave_type", sa.String(length=32), nullable=False, comment="a leave type code"),
        sa.Column(
            "notice_due",
            sa.Date(),
            nullable=False,
            comment="start - 14 calendar days: the last day to sign",
        ),
        sa.Column("sent_at", UtcDateTime, nullable=True),
        sa.Column("acknowledged_at", UtcDateTime, nullable=True, comment="the employee signed"),
        sa.Column("may_move", sa.Boolean(), nullable=False, comment="unsigned by notice_due: ст. 124 ч.2"),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_leave_schedule_notices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_schedule_notices")),
        sa.UniqueConstraint("user_id", "start", name=op.f("uq_leave_schedule_notices_user_id_start")),
    )
    op.create_index(
        op.f("ix_leave_schedule_notices_user_id"), "leave_schedule_notices", ["user_id"], unique=False
    )
    op.create_table(
        "outbox",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False, comment="the job handler's name"),
        sa.Column("payload", JSONType, nullable=False, comment="ids, never state"),
        sa.Column("instance_id", sa.Uuid(), nullable=True),
        sa.Column(
            "dedupe_key", sa.String(length=200), nullable=True, comment="one job per key, e.g. svc:<task id>"
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "done",
                "failed",
                "cancelled",
                name="jobstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="runs that ended, in success or failure"),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column(
            "backoff_base", sa.Float(), nullable=False, comment="seconds; the n-th retry waits base**n"
        ),
        sa.Column("available_at", UtcDateTime, nullable=False),
        sa.Column("sent_at", UtcDateTime, nullable=True),
        sa.Column("done_at", UtcDateTime, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_outbox_instance_id_process_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    op.create_index(op.f("ix_outbox_instance_id"), "outbox", ["instance_id"], unique=False)
    op.create_index("ix_outbox_status_available_at", "outbox", ["status", "available_at"], unique=False)
    op.create_table(
        "timers",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "bpmn",
                "start",
                "task_reminder",
                "task_escalation",
                "task_due_warning",
                "schedule",
                name="timerkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("instance_id", sa.Uuid(), nullable=True),
        sa.Column(
            "task_id",
            sa.Uuid(),
            nullable=True,
            comment="the SpiffWorkflow task: the waiting timer event, or the human task",
        ),
        sa.Column("definition_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=True, comment="the timer event's or sweep's name"),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "fired", "cancelled", name="timerstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("payload", JSONType, nullable=False, comment="the policy that set it"),
        sa.Column("fire_count", sa.Integer(), nullable=False, comment="cycle timers fire more than once"),
        sa.Column("fired_at", UtcDateTime, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["process_definitions.id"],
            name=op.f("fk_timers_definition_id_process_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_timers_instance_id_process_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timers")),
    )
    op.create_index(op.f("ix_timers_instance_id"), "timers", ["instance_id"], unique=False)
    op.create_index("ix_timers_status_due_at", "timers", ["status", "due_at"], unique=False)
    op.create_table(
        "incidents",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.Uuid(), nullable=True),
        sa.Column("task_id", sa.Uuid(), nullable=True, comment="the SpiffWorkflow task that failed"),
        sa.Column("element_id", sa.String(length=255), nullable=True),
        sa.Column(
            "kind", sa.String(length=64), nullable=False, comment="service_task, timer or the job kind"
        ),
        sa.Column("operator", sa.String(length=128), nullable=True),
        sa.Column("job_id", BigIntId, nullable=True),
        sa.Column("timer_id", BigIntId, nullable=True, comment="a timer that kept failing"),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "resolved", name="incidentstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("resolution", sa.String(length=32), nullable=True, comment="retried, skipped or cancelled"),
        sa.Column("resolution_data", JSONType, nullable=True, comment="skip: the output given"),
        sa.Column("resolved_by_id", BigIntId, nullable=True),
        sa.Column("resolved_at", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_incidents_instance_id_process_instances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["job_id"], ["outbox.id"], name=op.f("fk_incidents_job_id_outbox")),
        sa.ForeignKeyConstraint(["timer_id"], ["timers.id"], name=op.f("fk_incidents_timer_id_timers")),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["users.id"], name=op.f("fk_incidents_resolved_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index(op.f("ix_incidents_instance_id"), "incidents", ["instance_id"], unique=False)
    op.create_index(op.f("ix_incidents_status"), "incidents", ["status"], unique=False)
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalated_at", UtcDateTime, nullable=True))
        batch_op.add_column(
            sa.Column(
                "escalated_from_id",
                BigIntId,
                nullable=True,
                comment="who held the task before its escalation policy moved it",
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_human_tasks_escalated_from_id_users"), "users", ["escalated_from_id"], ["id"]
        )
        batch_op.add_column(
            sa.Column(
                "escalated_from_reads",
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
                comment="escalationKeepsOriginal: the former holder still reads the task, without acting",
            )
        )
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "names",
                JSONType,
                server_default="{}",
                nullable=False,
                comment="the name per language (ru, en) from the process's name.<lang> properties",
            )
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "language",
                sa.String(length=8),
                server_default="ru",
                nullable=False,
                comment="ru or en: notifications and e-mail",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.drop_column("names")
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_human_tasks_escalated_from_id_users"), type_="foreignkey")
        batch_op.drop_column("escalated_from_reads")
        batch_op.drop_column("escalated_from_id")
        batch_op.drop_column("escalated_at")
    op.drop_index(op.f("ix_incidents_status"), table_name="incidents")
    op.drop_index(op.f("ix_incidents_instance_id"), table_name="incidents")
    op.drop_table("incidents")
    op.drop_index("ix_timers_status_due_at", table_name="timers")
    op.drop_index(op.f("ix_timers_instance_id"), table_name="timers")
    op.drop_table("timers")
    op.drop_index("ix_outbox_status_available_at", table_name="outbox")
    op.drop_index(op.f("ix_outbox_instance_id"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_leave_schedule_notices_user_id"), table_name="leave_schedule_notices")
    op.drop_table("leave_schedule_notices")
    op.drop_index("ix_notifications_user_id_read_at", table_name="notifications")
    op.drop_index(op.f("ix_notifications_instance_id"), table_name="notifications")
    op.drop_table("notifications")
    op.drop_index(op.f("ix_documents_instance_id"), table_name="documents")
    op.drop_table("documents")
    op.drop_table("register_counters")
