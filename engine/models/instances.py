"""Running and finished process instances."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType
from engine.models._types import BigIntId, UtcDateTime, utcnow


class InstanceStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ERROR = "error"


class ProcessInstance(Base):
    __tablename__ = "process_instances"
    __table_args__ = (
        # NULLs are distinct, so only running instances compete for a business key.
        UniqueConstraint("process_key", "active_business_key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    definition_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[InstanceStatus] = mapped_column(default=InstanceStatus.RUNNING, index=True)
    business_key: Mapped[str | None] = mapped_column(String(200))
    active_business_key: Mapped[str | None] = mapped_column(
        String(200), comment="business_key while the instance is running, NULL after"
    )
    initiator_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), index=True, comment="NULL only on a purged, anonymised stub"
    )
    state: Mapped[str] = mapped_column(Text, comment="workflow state JSON without the spec")
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    legal_hold_reason: Mapped[str | None] = mapped_column(Text, comment="set while a legal hold stops purge")
    legal_hold_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    legal_hold_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, comment="personal data deleted")


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("process_instances.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RetentionPolicy(Base):
    """The retention class HR assigned to a process key (hr-domain §6.1)."""

    __tablename__ = "retention_policies"

    process_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    retention_class: Mapped[str] = mapped_column(String(32))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PurgeRecord(Base):
    """The destruction record of one purged instance (РКН order 179); holds no personal data."""

    __tablename__ = "purge_records"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("process_instances.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(128))
    retention_class: Mapped[str] = mapped_column(String(32))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    retain_until: Mapped[date] = mapped_column(comment="the last day the data had to be kept")
    purged_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    purged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, comment="what was deleted")
