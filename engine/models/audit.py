"""The audit trail: one append-only row per change."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String
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
