"""Initial schema: users, definitions, instances, human tasks and the audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types in engine.db and engine.models._types, so that this revision
# keeps meaning the same thing when the models move on.
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False, comment="login, stored lower-case"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("manager_id", BigIntId, nullable=True, comment="line manager"),
        sa.Column("department", sa.String(length=64), nullable=True, comment="department code"),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "role_names",
            JSONType,
            nullable=False,
            comment='lower-case role names, e.g. ["employee", "manager"]',
        ),
        sa.ForeignKeyConstraint(["manager_id"], ["users.id"], name=op.f("fk_users_manager_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index(op.f("ix_users_manager_id"), "users", ["manager_id"])

    op.create_table(
        "api_tokens",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigIntId, nullable=False),
        sa.Column(
            "token_hash",
            sa.String(length=64),
            nullable=False,
            comment="sha256 of the token; the token itself is never stored",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])

    op.create_table(
        "process_definitions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False, comment="id of the executable process"),
        sa.Column("version", sa.Integer(), nullable=False, comment="1, 2, ... per key"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False, comment="sha256 over the bundle's files"),
        sa.Column(
            "spec_json",
            sa.Text(),
            nullable=False,
            comment="serialized SpiffWorkflow spec, stored once per version",
        ),
        sa.Column(
            "task_meta",
            JSONType,
            nullable=False,
            comment="per user task: assignment expressions and form file",
        ),
        sa.Column("forms", JSONType, nullable=False, comment="form file name -> JSON Schema"),
        sa.Column("start_form", sa.String(length=255), nullable=True),
        sa.Column(
            "warnings", JSONType, nullable=False, comment="deploy report entries that did not stop the deploy"
        ),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deployed_by_id", BigIntId, nullable=True),
        sa.ForeignKeyConstraint(
            ["deployed_by_id"], ["users.id"], name=op.f("fk_process_definitions_deployed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_definitions")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_process_definitions_key_version")),
    )
    op.create_index(op.f("ix_process_definitions_key"), "process_definitions", ["key"])

    op.create_table(
        "definition_files",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("definition_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["process_definitions.id"],
            name=op.f("fk_definition_files_definition_id_process_definitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_definition_files")),
    )
    op.create_index(op.f("ix_definition_files_definition_id"), "definition_files", ["definition_id"])

    op.create_table(
        "process_instances",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("definition_id", sa.Uuid(), nullable=False),
        sa.Column("process_key", sa.String(length=128), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "completed",
                "cancelled",
                "error",
                name="instancestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("business_key", sa.String(length=200), nullable=True),
        sa.Column(
            "active_business_key",
            sa.String(length=200),
            nullable=True,
            comment="business_key while the instance is running, NULL after",
        ),
        sa.Column("initiator_id", BigIntId, nullable=False),
        sa.Column("state", sa.Text(), nullable=False, comment="workflow state JSON without the spec"),
        sa.Column("data", JSONType, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["process_definitions.id"],
            name=op.f("fk_process_instances_definition_id_process_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["initiator_id"], ["users.id"], name=op.f("fk_process_instances_initiator_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_instances")),
        sa.UniqueConstraint(
            "process_key",
            "active_business_key",
            name=op.f("uq_process_instances_process_key_active_business_key"),
        ),
    )
    op.create_index(op.f("ix_process_instances_definition_id"), "process_instances", ["definition_id"])
    op.create_index(op.f("ix_process_instances_initiator_id"), "process_instances", ["initiator_id"])
    op.create_index(op.f("ix_process_instances_process_key"), "process_instances", ["process_key"])
    op.create_index(op.f("ix_process_instances_status"), "process_instances", ["status"])

    op.create_table(
        "audit_events",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", BigIntId, nullable=True),
        sa.Column(
            "action", sa.String(length=64), nullable=False, comment="e.g. instance.started, task.completed"
        ),
        sa.Column("instance_id", sa.Uuid(), nullable=True),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("definition_id", sa.Uuid(), nullable=True),
        sa.Column("details", JSONType, nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["process_definitions.id"],
            name=op.f("fk_audit_events_definition_id_process_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_audit_events_instance_id_process_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_instance_id"), "audit_events", ["instance_id"])

    op.create_table(
        "human_tasks",
        sa.Column("id", sa.Uuid(), nullable=False, comment="the SpiffWorkflow task id"),
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=False, comment="BPMN id of the user task"),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("lane", sa.String(length=255), nullable=True),
        sa.Column("form", sa.String(length=255), nullable=True, comment="form file name in the bundle"),
        sa.Column("assignee_id", BigIntId, nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "completed", "cancelled", name="taskstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by_id", BigIntId, nullable=True),
        sa.Column(
            "candidate_summary",
            JSONType,
            nullable=False,
            comment="{users: [e-mail], roles: [name]} for display; task_candidates is what queries use",
        ),
        sa.ForeignKeyConstraint(["assignee_id"], ["users.id"], name=op.f("fk_human_tasks_assignee_id_users")),
        sa.ForeignKeyConstraint(
            ["completed_by_id"], ["users.id"], name=op.f("fk_human_tasks_completed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_human_tasks_instance_id_process_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_human_tasks")),
    )
    op.create_index("ix_human_tasks_assignee_id_status", "human_tasks", ["assignee_id", "status"])
    op.create_index("ix_human_tasks_instance_id_status", "human_tasks", ["instance_id", "status"])
    op.create_index(op.f("ix_human_tasks_status"), "human_tasks", ["status"])

    op.create_table(
        "idempotency_keys",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigIntId, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_idempotency_keys_instance_id_process_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_idempotency_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_idempotency_keys_user_id_key")),
    )
    op.create_table(
        "task_candidates",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", BigIntId, nullable=True),
        sa.Column("role", sa.String(length=64), nullable=True, comment="lower-case"),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["human_tasks.id"],
            name=op.f("fk_task_candidates_task_id_human_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_task_candidates_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_candidates")),
    )
    op.create_index(op.f("ix_task_candidates_role"), "task_candidates", ["role"])
    op.create_index(op.f("ix_task_candidates_task_id"), "task_candidates", ["task_id"])
    op.create_index(op.f("ix_task_candidates_user_id"), "task_candidates", ["user_id"])


def downgrade() -> None:
    # Children first; dropping a table drops its indexes and constraints with it.
    for table in (
        "task_candidates",
        "idempotency_keys",
        "human_tasks",
        "audit_events",
        "process_instances",
        "definition_files",
        "process_definitions",
        "api_tokens",
        "users",
    ):
        op.drop_table(table)
