"""People, their roles and their API tokens."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String
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
    department: Mapped[str | None] = mapped_column(String(64), index=True, comment="department code")
    is_active: Mapped[bool] = mapped_column(default=True, comment="False once dismissed or disabled")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    personnel_number: Mapped[str | None] = mapped_column(
        String(32), unique=True, comment="табельный номер from payroll; the staff import's key"
    )
    phone: Mapped[str | None] = mapped_column(String(40))
    position: Mapped[str | None] = mapped_column(String(200))
    hire_date: Mapped[date | None] = mapped_column()
    language: Mapped[str] = mapped_column(
        String(8), default="ru", server_default="ru", comment="ru or en: notifications and e-mail"
    )
    monthly_salary: Mapped[Decimal | None] = mapped_column(
        Numeric(12, 2), comment="roubles a month; sensitive: shown only to the person, HR and admins"
    )
    dismissed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    flags: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, comment='employment flags, e.g. {"shift_worker": true}'
    )
    password_hash: Mapped[str | None] = mapped_column(String(255), comment="argon2id; NULL until activated")

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


class Department(Base):
    """A unit of the organisation. Departments form a tree; each has a head."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, comment="payroll's department code")
    name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    head_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hr_partner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="HR business partner")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Invitation(Base):
    """A one-time activation code that lets an employee set a password."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="sha256 of the code")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SignInAttempt(Base):
    """One password sign-in attempt; recent failures rate-limit the next ones."""

    __tablename__ = "sign_in_attempts"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), index=True, comment="as typed, lower-case")
    remote_addr: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    succeeded: Mapped[bool] = mapped_column(default=False)


class Substitution(Base):
    """An out-of-office period: tasks for ``user`` go to ``substitute`` from ``starts_on`` to ``ends_on``."""

    __tablename__ = "substitutions"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    substitute_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_on: Mapped[date] = mapped_column()
    ends_on: Mapped[date] = mapped_column(comment="inclusive")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, comment="set when ended early")


class Coordinator(Base):
    """The person HR names to receive one kind of request (назначение координатора)."""

    __tablename__ = "coordinators"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    request_type: Mapped[str] = mapped_column(String(128), unique=True, comment="a process key")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
