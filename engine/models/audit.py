"""The audit trail: one append-only row per change."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, BigInteger, ForeignKey, String, event
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType
from engine.models._types import BigIntId, UtcDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64), comment="e.g. instance.started, task.completed")
    instance_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[uuid.UUID | None] = mapped_column()
    definition_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("process_definitions.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), index=True, comment="the person whose data the event concerns"
    )
    chain_seq: Mapped[int | None] = mapped_column(
        BigInteger, unique=True, comment="position in the hash chain, assigned at commit"
    )
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), comment="sha256 over this event and prev_hash")


class AuditChainHead(Base):
    """The single row holding the chain's last link; writers lock it to append in order."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


# Append-only: the database itself refuses UPDATE and DELETE on audit_events, so a bug or a stray
# script cannot rewrite history. Migration 0002 runs the same statements; tests that build the
# schema with metadata.create_all get them through the after_create hook below.
APPEND_ONLY_DDL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- No percent-placeholders here: DDL() formats its text with Python's percent operator.
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
DROP_APPEND_ONLY_DDL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
        "DROP FUNCTION IF EXISTS audit_events_append_only()",
    ),
    "sqlite": (
        "DROP TRIGGER IF EXISTS audit_events_no_update",
        "DROP TRIGGER IF EXISTS audit_events_no_delete",
    ),
}

for _dialect, _statements in APPEND_ONLY_DDL.items():
    for _statement in _statements:
        event.listen(AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect))
event.listen(
    AuditEvent.__table__,
    "after_drop",
    DDL(DROP_APPEND_ONLY_DDL["postgresql"][1]).execute_if(dialect="postgresql"),
)
