"""Rule tables HR edits, their versions, and the decisions evaluated against them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types, as in 0001.
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UtcDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rule_tables",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False, comment="catalog name, e.g. leave_types"),
        sa.Column("current_version", sa.Integer(), nullable=False, comment="0 = the catalog's default rows"),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("updated_by_id", BigIntId, nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_rule_tables_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_tables")),
        sa.UniqueConstraint("name", name=op.f("uq_rule_tables_name")),
    )
    op.create_table(
        "rule_table_versions",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("table_id", BigIntId, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, comment="1, 2, ... per table"),
        sa.Column("rows", JSONType, nullable=False, comment="every row, normalised"),
        sa.Column(
            "diff",
            JSONType,
            nullable=False,
            comment="{added, removed, changed} against the version before, rows named by key",
        ),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by_id", BigIntId, nullable=True, comment="NULL: the CLI"),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_rule_table_versions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["rule_tables.id"],
            name=op.f("fk_rule_table_versions_table_id_rule_tables"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_table_versions")),
        sa.UniqueConstraint("table_id", "version", name=op.f("uq_rule_table_versions_table_id_version")),
    )
    with op.batch_alter_table("rule_table_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rule_table_versions_table_id"), ["table_id"], unique=False)

    op.create_table(
        "decision_records",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=True, comment="the BPMN element, if any"),
        sa.Column(
            "rule", sa.String(length=128), nullable=False, comment="e.g. leave.balance, or a DMN decision id"
        ),
        sa.Column("tables", JSONType, nullable=False, comment="{table name: version} it read"),
        sa.Column("inputs", JSONType, nullable=False),
        sa.Column("output", JSONType, nullable=True),
        sa.Column(
            "outcome",
            sa.String(length=64),
            nullable=False,
            comment="stable code, e.g. OK, INSUFFICIENT_BALANCE",
        ),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "sensitive_fields",
            JSONType,
            nullable=False,
            comment="dotted names in inputs/output masked for most viewers, e.g. salary",
        ),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_decision_records_instance_id_process_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_records")),
    )
    with op.batch_alter_table("decision_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_records_instance_id"), ["instance_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("decision_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_records_instance_id"))
    op.drop_table("decision_records")
    with op.batch_alter_table("rule_table_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rule_table_versions_table_id"))
    op.drop_table("rule_table_versions")
    op.drop_table("rule_tables")
