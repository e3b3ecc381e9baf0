"""People, their roles and their API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType
from engine.models._types import BigIntId, UtcDateTime, utcnow

ROLES = ("employee", "manager", "hr", "designer", "admin")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, comment="login, stored lower-case")
    name: Mapped[str] = mapped_column(String(200))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, comment="line manager")
    department: Mapped[str | None] = mapped_column(String(64), comment="department code")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    role_names: Mapped[list[str]] = mapped_column(
        JSONType, default=list, comment='lower-case role names, e.g. ["employee", "manager"]'
    )

    @property
    def roles(self) -> frozenset[str]:
        """The names of the roles this user holds."""
        return frozenset(self.role_names or ())

    def has_role(self, *names: str) -> bool:
        """True if the user holds any of ``names``."""
        return not self.roles.isdisjoint(names)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(
        String(64), unique=True, comment="sha256 of the token; the token itself is never stored"
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
