"""Facts about people that rules need, and the leave ledger.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types, as in 0001.
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UtcDateTime = sa.DateTime(timezone=True)
LEDGER_KINDS = ("accrual", "use", "adjustment", "carry_over", "reservation", "release")


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "monthly_salary",
                sa.Numeric(precision=12, scale=2),
                nullable=True,
                comment="roubles a month; sensitive: shown only to the person, HR and admins",
            )
        )

    op.create_table(
        "person_qualifications",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigIntId, nullable=False),
        sa.Column(
            "code", sa.String(length=64), nullable=False, comment="upper-case qualification code, e.g. NURSE"
        ),
        sa.Column(
            "credential_number",
            sa.String(length=64),
            nullable=True,
            comment="the certificate's or accreditation's number",
        ),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True, comment="inclusive; NULL: does not expire"),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_person_qualifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_qualifications")),
        sa.UniqueConstraint("user_id", "code", name=op.f("uq_person_qualifications_user_id_code")),
    )
    op.create_index(
        op.f("ix_person_qualifications_user_id"), "person_qualifications", ["user_id"], unique=False
    )

    op.create_table(
        "leave_ledger_entries",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigIntId, nullable=False),
        sa.Column(
            "leave_type", sa.String(length=32), nullable=False, comment="a leave type code, e.g. annual"
        ),
        sa.Column(
            "kind",
            sa.Enum(*LEDGER_KINDS, name="ledgerkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "days",
            sa.Numeric(precision=7, scale=2),
            nullable=False,
            comment="calendar days; > 0 except adjustments, which may be negative",
        ),
        sa.Column(
            "working_year",
            sa.Date(),
            nullable=False,
            comment="start of the working year the entry belongs to (1 January if the hire date was unknown)",
        ),
        sa.Column("instance_id", sa.Uuid(), nullable=True, comment="the request, for use and reservations"),
        sa.Column("reason", sa.Text(), nullable=True, comment="HR's reason for an adjustment"),
        sa.Column("created_by_id", BigIntId, nullable=True),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_leave_ledger_entries_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_leave_ledger_entries_instance_id_process_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_leave_ledger_entries_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_ledger_entries")),
        sa.UniqueConstraint(
            "instance_id",
            "leave_type",
            "kind",
            name=op.f("uq_leave_ledger_entries_instance_id_leave_type_kind"),
        ),
    )
    op.create_index(
        op.f("ix_leave_ledger_entries_instance_id"), "leave_ledger_entries", ["instance_id"], unique=False
    )
    op.create_index(
        "ix_leave_ledger_entries_user_id_leave_type",
        "leave_ledger_entries",
        ["user_id", "leave_type"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_leave_ledger_entries_user_id_leave_type", table_name="leave_ledger_entries")
    op.drop_index(op.f("ix_leave_ledger_entries_instance_id"), table_name="leave_ledger_entries")
    op.drop_table("leave_ledger_entries")
    op.drop_index(op.f("ix_person_qualifications_user_id"), table_name="person_qualifications")
    op.drop_table("person_qualifications")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("monthly_salary")
