"""Coordinators: the person HR names to receive one kind of request (назначение координатора)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidData, NotFound
from engine.models import Coordinator, User
from engine.models._types import utcnow
from engine.services import audit
from engine.services.users import normalise_email

# Request types are process keys; the same shape keeps typos like spaces out of the table.
REQUEST_TYPE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")


def list_coordinators(session: Session) -> list[tuple[Coordinator, User]]:
    """Every named coordinator with their user, by request type."""
    query = (
        select(Coordinator, User)
        .join(User, User.id == Coordinator.user_id)
        .order_by(Coordinator.request_type)
    )
    return [(row, user) for row, user in session.execute(query)]


def coordinator_for(session: Session, request_type: str) -> User | None:
    """The user named for ``request_type``, or None."""
    query = select(User).join(Coordinator, Coordinator.user_id == User.id)
    return session.scalar(query.where(Coordinator.request_type == request_type))


def set_coordinator(
    session: Session, *, request_type: str, email: str, actor: User
) -> tuple[Coordinator, User]:
    """Name the active user with ``email`` coordinator of ``request_type``, replacing whoever was.

    Raises InvalidData for a malformed request type or an e-mail of no active user.
    """
    problems = []
    if not REQUEST_TYPE.match(request_type):
        problems.append({"field": "request_type", "message": "letters, digits, '_', '.', '-'; up to 128"})
    user = session.scalar(select(User).where(User.email == normalise_email(email or "")))
    if user is None or not user.is_active:
        problems.append({"field": "email", "message": "no active user has this e-mail"})
    if problems:
        raise InvalidData("the coordinator cannot be named", problems)
    row = session.scalar(select(Coordinator).where(Coordinator.request_type == request_type))
    previous = row.user_id if row is not None else None
    if row is None:
        row = Coordinator(request_type=request_type, user_id=user.id)
        session.add(row)
    row.user_id = user.id
    row.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        "coordinator.set",
        actor=actor,
        subject_id=user.id,
        request_type=request_type,
        user_id=user.id,
        previous_user_id=previous,
    )
    return row, user


def remove_coordinator(session: Session, *, request_type: str, actor: User) -> None:
    """Stop naming a coordinator for ``request_type``. Raises NotFound when none is named."""
    row = session.scalar(select(Coordinator).where(Coordinator.request_type == request_type))
    if row is None:
        raise NotFound(f"no coordinator is named for '{request_type}'")
    audit.record(
        session,
        "coordinator.removed",
        actor=actor,
        subject_id=row.user_id,
        request_type=request_type,
        user_id=row.user_id,
    )
    session.delete(row)
    session.flush()
