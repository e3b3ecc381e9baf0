"""Rule tables HR edits, their immutable versions, and the decisions evaluated against them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType
from engine.models._types import BigIntId, UtcDateTime, utcnow


class RuleTable(Base):
    """One rule table of the catalog (``rules.tables``) that has been edited at least once.

    A table never edited has no row here: it reads as version 0, the catalog's default rows.
    """

    __tablename__ = "rule_tables"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, comment="catalog name, e.g. leave_types")
    current_version: Mapped[int] = mapped_column(default=0, comment="0 = the catalog's default rows")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RuleTableVersion(Base):
    """The complete rows of one version of a table. Immutable once written."""

    __tablename__ = "rule_table_versions"
    __table_args__ = (UniqueConstraint("table_id", "version"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("rule_tables.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(comment="1, 2, ... per table")
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, comment="every row, normalised")
    diff: Mapped[dict[str, Any]] = mapped_column(
        JSONType, comment="{added, removed, changed} against the version before, rows named by key"
    )
    comment: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="NULL: the CLI")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DecisionRecord(Base):
    """One evaluation of a rule for an instance: inputs, output and the table versions it read.

    Immutable: a later change of a rule table never rewrites it (an update raises). It goes only
    with its instance, or when the instance's personal data is purged.
    """

    __tablename__ = "decision_records"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    instance_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    element_id: Mapped[str | None] = mapped_column(String(255), comment="the BPMN element, if any")
    rule: Mapped[str] = mapped_column(String(128), comment="e.g. leave.balance, or a DMN decision id")
    tables: Mapped[dict[str, int]] = mapped_column(JSONType, comment="{table name: version} it read")
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONType)
    output: Mapped[Any] = mapped_column(JSONType, nullable=True)
    outcome: Mapped[str] = mapped_column(String(64), comment="stable code, e.g. OK, INSUFFICIENT_BALANCE")
    message: Mapped[str] = mapped_column(Text, default="")
    sensitive_fields: Mapped[list[str]] = mapped_column(
        JSONType, default=list, comment="dotted names in inputs/output masked for most viewers, e.g. salary"
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


@event.listens_for(RuleTableVersion, "before_update")
@event.listens_for(DecisionRecord, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:
    # Versions and decisions are the record of what was decided on which rules: never edited.
    raise ValueError(f"{type(target).__name__} rows are immutable: write a new one instead")
