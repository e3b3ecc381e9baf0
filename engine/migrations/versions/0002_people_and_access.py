"""People and access: the organisation, sign-in, substitutes, audit chain and retention.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types, as in 0001.
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UtcDateTime = sa.DateTime(timezone=True)


# Frozen copies of the append-only triggers (engine/models/audit.py keeps the live ones).
APPEND_ONLY = {
    "postgresql": (
        """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'audit_events is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END
$$""",
        """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    ),
    "sqlite": (
        """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END""",
    ),
}
DROP_APPEND_ONLY = {
    "postgresql": (
        "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
        "DROP FUNCTION IF EXISTS audit_events_append_only()",
    ),
    "sqlite": (
        "DROP TRIGGER IF EXISTS audit_events_no_update",
        "DROP TRIGGER IF EXISTS audit_events_no_delete",
    ),
}
GENESIS_HASH = "0" * 64


def _event_hash(row, seq: int, prev_hash: str) -> str:
    # Frozen copy of engine.services.audit.event_hash as of this revision.
    at = row.at if row.at.tzinfo is not None else row.at.replace(tzinfo=datetime.UTC)
    fields = {
        "seq": seq,
        "at": at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "actor_id": row.actor_id,
        "action": row.action,
        "instance_id": None if row.instance_id is None else str(row.instance_id),
        "task_id": None if row.task_id is None else str(row.task_id),
        "definition_id": None if row.definition_id is None else str(row.definition_id),
        "subject_id": None,
        "details": row.details,
        "prev_hash": prev_hash,
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _chain_existing_events() -> None:
    """Put the events written before the chain existed into it, oldest first, and create the head."""
    events = sa.table(
        "audit_events",
        *(sa.column(name) for name in ("id", "actor_id", "action", "chain_seq", "prev_hash", "hash")),
        sa.column("task_id", sa.Uuid()),
        sa.column("at", UtcDateTime),
        sa.column("instance_id", sa.Uuid()),
        sa.column("definition_id", sa.Uuid()),
        sa.column("details", JSONType),
    )
    bind = op.get_bind()
    seq, prev_hash = 0, GENESIS_HASH
    rows = bind.execute(sa.select(events).order_by(events.c.id)).all()
    for row in rows:
        seq += 1
        digest = _event_hash(row, seq, prev_hash)
        bind.execute(
            events.update()
            .where(events.c.id == row.id)
            .values(chain_seq=seq, prev_hash=prev_hash, hash=digest)
        )
        prev_hash = digest
    head = sa.table("audit_chain_head", sa.column("id"), sa.column("last_seq"), sa.column("last_hash"))
    bind.execute(head.insert().values(id=1, last_seq=seq, last_hash=prev_hash))


def upgrade() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False, comment="as typed, lower-case"),
        sa.Column("remote_addr", sa.String(length=64), nullable=True),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    with op.batch_alter_table("sign_in_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_attempts_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_in_attempts_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_in_attempts_remote_addr"), ["remote_addr"], unique=False)

    op.create_table(
        "coordinators",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("request_type", sa.String(length=128), nullable=False, comment="a process key"),
        sa.Column("user_id", BigIntId, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_coordinators_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coordinators")),
        sa.UniqueConstraint("request_type", name=op.f("uq_coordinators_request_type")),
    )
    op.create_table(
        "departments",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False, comment="payroll's department code"),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("parent_id", BigIntId, nullable=True),
        sa.Column("head_id", BigIntId, nullable=True),
        sa.Column("hr_partner_id", BigIntId, nullable=True, comment="HR business partner"),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(["head_id"], ["users.id"], name=op.f("fk_departments_head_id_users")),
        sa.ForeignKeyConstraint(
            ["hr_partner_id"], ["users.id"], name=op.f("fk_departments_hr_partner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["departments.id"], name=op.f("fk_departments_parent_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("code", name=op.f("uq_departments_code")),
    )
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_departments_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "invitations",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigIntId, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False, comment="sha256 of the code"),
        sa.Column("created_by_id", BigIntId, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("used_at", UtcDateTime, nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_invitations_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_invitations_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invitations_code_hash")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitations_user_id"), ["user_id"], unique=False)

    op.create_table(
        "retention_policies",
        sa.Column("process_key", sa.String(length=128), nullable=False),
        sa.Column("retention_class", sa.String(length=32), nullable=False),
        sa.Column("updated_by_id", BigIntId, nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_retention_policies_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("process_key", name=op.f("pk_retention_policies")),
    )
    op.create_table(
        "substitutions",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigIntId, nullable=False),
        sa.Column("substitute_id", BigIntId, nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False, comment="inclusive"),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("ended_at", UtcDateTime, nullable=True, comment="set when ended early"),
        sa.ForeignKeyConstraint(
            ["substitute_id"], ["users.id"], name=op.f("fk_substitutions_substitute_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_substitutions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_substitutions")),
    )
    with op.batch_alter_table("substitutions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_substitutions_substitute_id"), ["substitute_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_substitutions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "purge_records",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("process_key", sa.String(length=128), nullable=False),
        sa.Column("retention_class", sa.String(length=32), nullable=False),
        sa.Column("closed_at", UtcDateTime, nullable=True),
        sa.Column("retain_until", sa.Date(), nullable=False, comment="the last day the data had to be kept"),
        sa.Column("purged_at", UtcDateTime, nullable=False),
        sa.Column("purged_by_id", BigIntId, nullable=True),
        sa.Column("details", JSONType, nullable=False, comment="what was deleted"),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_purge_records_instance_id_process_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["purged_by_id"], ["users.id"], name=op.f("fk_purge_records_purged_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_records")),
    )
    with op.batch_alter_table("purge_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purge_records_instance_id"), ["instance_id"], unique=False)

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "subject_id", BigIntId, nullable=True, comment="the person whose data the event concerns"
            )
        )
        batch_op.add_column(
            sa.Column(
                "chain_seq",
                sa.BigInteger(),
                nullable=True,
                comment="position in the hash chain, assigned at commit",
            )
        )
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "hash", sa.String(length=64), nullable=True, comment="sha256 over this event and prev_hash"
            )
        )
        batch_op.create_index(batch_op.f("ix_audit_events_subject_id"), ["subject_id"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_chain_seq"), ["chain_seq"])
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_events_subject_id_users"), "users", ["subject_id"], ["id"]
        )

    _chain_existing_events()
    for statement in APPEND_ONLY[op.get_bind().dialect.name]:
        op.execute(statement)

    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "on_behalf_of_id",
                BigIntId,
                nullable=True,
                comment="whom the assignee stands in for (out of office)",
            )
        )
        batch_op.add_column(
            sa.Column(
                "excluded_user_ids",
                JSONType,
                nullable=False,
                server_default="[]",
                comment="separation of duties: people who may not act on this task",
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_human_tasks_on_behalf_of_id_users"), "users", ["on_behalf_of_id"], ["id"]
        )
    # The defaults only filled existing rows; the models supply values from now on.
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.alter_column("excluded_user_ids", server_default=None)

    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "legal_hold_reason", sa.Text(), nullable=True, comment="set while a legal hold stops purge"
            )
        )
        batch_op.add_column(sa.Column("legal_hold_at", UtcDateTime, nullable=True))
        batch_op.add_column(sa.Column("legal_hold_by_id", BigIntId, nullable=True))
        batch_op.add_column(
            sa.Column("purged_at", UtcDateTime, nullable=True, comment="personal data deleted")
        )
        batch_op.alter_column(
            "initiator_id",
            existing_type=BigIntId,
            nullable=True,
            comment="NULL only on a purged, anonymised stub",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_process_instances_legal_hold_by_id_users"), "users", ["legal_hold_by_id"], ["id"]
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "personnel_number",
                sa.String(length=32),
                nullable=True,
                comment="табельный номер from payroll; the staff import's key",
            )
        )
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("position", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("hire_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("dismissed_at", UtcDateTime, nullable=True))
        batch_op.add_column(
            sa.Column(
                "flags",
                JSONType,
                nullable=False,
                server_default="{}",
                comment='employment flags, e.g. {"shift_worker": true}',
            )
        )
        batch_op.add_column(
            sa.Column(
                "password_hash",
                sa.String(length=255),
                nullable=True,
                comment="argon2id; NULL until activated",
            )
        )
        batch_op.create_index(batch_op.f("ix_users_department"), ["department"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_users_personnel_number"), ["personnel_number"])
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("flags", server_default=None)
        batch_op.alter_column(
            "is_active", existing_type=sa.Boolean(), comment="False once dismissed or disabled"
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_personnel_number"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_users_department"))
        batch_op.drop_column("password_hash")
        batch_op.drop_column("flags")
        batch_op.drop_column("dismissed_at")
        batch_op.drop_column("hire_date")
        batch_op.drop_column("position")
        batch_op.drop_column("phone")
        batch_op.drop_column("personnel_number")

    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_process_instances_legal_hold_by_id_users"), type_="foreignkey"
        )
        batch_op.alter_column("initiator_id", existing_type=BigIntId, nullable=False, comment=None)
        batch_op.drop_column("purged_at")
        batch_op.drop_column("legal_hold_by_id")
        batch_op.drop_column("legal_hold_at")
        batch_op.drop_column("legal_hold_reason")

    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_human_tasks_on_behalf_of_id_users"), type_="foreignkey")
        batch_op.drop_column("excluded_user_ids")
        batch_op.drop_column("on_behalf_of_id")

    for statement in DROP_APPEND_ONLY[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_audit_events_subject_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_audit_events_chain_seq"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_audit_events_subject_id"))
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("chain_seq")
        batch_op.drop_column("subject_id")

    with op.batch_alter_table("purge_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purge_records_instance_id"))

    op.drop_table("purge_records")
    with op.batch_alter_table("substitutions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_substitutions_user_id"))
        batch_op.drop_index(batch_op.f("ix_substitutions_substitute_id"))

    op.drop_table("substitutions")
    op.drop_table("retention_policies")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_user_id"))

    op.drop_table("invitations")
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_departments_parent_id"))

    op.drop_table("departments")
    op.drop_table("coordinators")
    with op.batch_alter_table("sign_in_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_attempts_remote_addr"))
        batch_op.drop_index(batch_op.f("ix_sign_in_attempts_email"))
        batch_op.drop_index(batch_op.f("ix_sign_in_attempts_at"))

    op.drop_table("sign_in_attempts")
    op.drop_table("audit_chain_head")
