"""Bonus fund usage: approved bonuses booked against a department's fund.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types, as in 0001.
BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UtcDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bonus_fund_usage",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column(
            "department", sa.String(length=64), nullable=False, comment="the employee's department code"
        ),
        sa.Column(
            "fund_period",
            sa.String(length=7),
            nullable=False,
            comment="the period of the bonus_funds row booked against: YYYY, YYYY-MM or YYYY-Qn",
        ),
        sa.Column(
            "period",
            sa.String(length=7),
            nullable=False,
            comment="the period the bonus is for: YYYY-MM or YYYY-Qn",
        ),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False, comment="roubles"),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_bonus_fund_usage_instance_id_process_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bonus_fund_usage")),
        sa.UniqueConstraint("instance_id", name=op.f("uq_bonus_fund_usage_instance_id")),
    )
    op.create_index(
        "ix_bonus_fund_usage_department_fund_period",
        "bonus_fund_usage",
        ["department", "fund_period"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_bonus_fund_usage_department_fund_period", table_name="bonus_fund_usage")
    op.drop_table("bonus_fund_usage")
