"""Deployed process definitions. A version is immutable once written."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, JSONType
from engine.models._types import UtcDateTime, utcnow


class ProcessDefinition(Base):
    __tablename__ = "process_definitions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    key: Mapped[str] = mapped_column(String(128), index=True, comment="id of the executable process")
    version: Mapped[int] = mapped_column(comment="1, 2, ... per key")
    name: Mapped[str] = mapped_column(String(200))
    names: Mapped[dict[str, str]] = mapped_column(
        JSONType,
        default=dict,
        server_default="{}",
        comment="the name per language (ru, en) from the process's name.<lang> properties",
    )
    checksum: Mapped[str] = mapped_column(String(64), comment="sha256 over the bundle's files")
    spec_json: Mapped[str] = mapped_column(
        Text, comment="serialized SpiffWorkflow spec, stored once per version"
    )
    task_meta: Mapped[dict[str, Any]] = mapped_column(
        JSONType, comment="per user task: assignment expressions and form file"
    )
    forms: Mapped[dict[str, Any]] = mapped_column(JSONType, comment="form file name -> JSON Schema")
    start_form: Mapped[str | None] = mapped_column(String(255))
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONType, default=list, comment="deploy report entries that did not stop the deploy"
    )
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    files: Mapped[list[DefinitionFile]] = relationship(cascade="all, delete-orphan")


class DefinitionFile(Base):
    __tablename__ = "definition_files"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    definition_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("process_definitions.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
