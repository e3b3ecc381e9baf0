"""The organisation: the department tree, heads and HR partners."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Department, User
from engine.models._types import utcnow


def get_department(session: Session, code: str) -> Department | None:
    """The department with this code, or None."""
    return session.scalar(select(Department).where(Department.code == code))


def upsert_department(
    session: Session,
    *,
    code: str,
    name: str | None = None,
    parent_code: str | None = None,
    head: User | None = None,
    hr_partner: User | None = None,
) -> Department:
    """Create the department ``code`` or update the attributes given; ``None`` leaves one as it is."""
    department = get_department(session, code)
    if department is None:
        department = Department(code=code, name=name or code)
        session.add(department)
    elif name:
        department.name = name
    if parent_code is not None:
        parent = get_department(session, parent_code) or upsert_department(session, code=parent_code)
        department.parent_id = parent.id
    if head is not None:
        department.head_id = head.id
    if hr_partner is not None:
        department.hr_partner_id = hr_partner.id
    department.updated_at = utcnow()
    session.flush()
    return department


def ancestors(session: Session, department: Department) -> list[Department]:
    """The departments above ``department``, nearest first; stops at a cycle."""
    found: list[Department] = []
    seen = {department.id}
    current = department
    while current.parent_id is not None and current.parent_id not in seen:
        current = session.get(Department, current.parent_id)
        seen.add(current.id)
        found.append(current)
    return found


def subtree_codes(session: Session, code: str) -> set[str]:
    """``code`` and the codes of every department below it."""
    root = get_department(session, code)
    if root is None:
        return {code}
    found = {root.id: root.code}
    frontier = {root.id}
    while frontier:
        rows = session.execute(
            select(Department.id, Department.code).where(Department.parent_id.in_(frontier))
        )
        below = {row.id: row.code for row in rows if row.id not in found}
        found.update(below)
        frontier = set(below)
    return set(found.values())
