"""The organisation: the department tree, heads and HR partners."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidData, NotFound
from engine.models import Department, User
from engine.models._types import utcnow
from engine.services import audit


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


# ----- the tree as a whole: listing, edits by HR, and what the staff import derives -----

_UNSET = object()


def list_departments(session: Session) -> list[Department]:
    """Every department, each parent before its children, siblings by code."""
    rows = list(session.scalars(select(Department).order_by(Department.code)))
    children: dict[int | None, list[Department]] = {}
    known = {row.id for row in rows}
    for row in rows:
        # A parent that is missing counts as none, so that no department drops out of the list.
        children.setdefault(row.parent_id if row.parent_id in known else None, []).append(row)
    ordered: list[Department] = []
    seen: set[int] = set()

    def walk(parent_id: int | None) -> None:
        for row in children.get(parent_id, []):
            if row.id not in seen:
                seen.add(row.id)
                ordered.append(row)
                walk(row.id)

    walk(None)
    # Departments caught in a parent cycle hang under no root; list them last rather than lose them.
    ordered.extend(row for row in rows if row.id not in seen)
    return ordered


def makes_cycle(parent_of: dict[str, str | None], code: str, new_parent: str | None) -> bool:
    """True if giving ``code`` the parent ``new_parent`` would put ``code`` above itself."""
    seen: set[str] = set()
    current = new_parent
    while current is not None and current not in seen:
        if current == code:
            return True
        seen.add(current)
        current = parent_of.get(current)
    return False


def parent_codes(session: Session) -> dict[str, str | None]:
    """Department code → its parent's code, for every department."""
    parent = Department.__table__.alias("parent")
    query = select(Department.code, parent.c.code).outerjoin(parent, parent.c.id == Department.parent_id)
    return dict(session.execute(query).tuples().all())


def update_department(
    session: Session,
    code: str,
    *,
    actor: User | None,
    name: str | None = None,
    parent_code=_UNSET,
    head_email=_UNSET,
    hr_partner_email=_UNSET,
) -> Department:
    """HR's edit of one department. Arguments left out stay as they are; ``None`` clears a link.

    Raises NotFound for an unknown ``code``; InvalidData for an unknown or dismissed person, an
    unknown parent, or a parent that would make a cycle.
    """
    department = get_department(session, code)
    if department is None:
        raise NotFound(f"no department with code {code}")
    problems = []
    changes: dict[str, object] = {}
    if name is not None:
        if not name.strip():
            problems.append({"field": "name", "message": "the name may not be blank"})
        else:
            changes["name"] = name.strip()
    if parent_code is not _UNSET:
        if parent_code is None:
            changes["parent_id"] = None
        else:
            parent = get_department(session, parent_code)
            if parent is None:
                problems.append({"field": "parent_code", "message": f"no department with code {parent_code}"})
            elif makes_cycle(parent_codes(session), code, parent_code):
                problems.append(
                    {"field": "parent_code", "message": f"{parent_code} is {code} or lies below it: a cycle"}
                )
            else:
                changes["parent_id"] = parent.id
    for field, email in (("head_email", head_email), ("hr_partner_email", hr_partner_email)):
        if email is _UNSET:
            continue
        column = field.removesuffix("_email") + "_id"
        if email is None:
            changes[column] = None
            continue
        person = session.scalar(select(User).where(User.email == email.strip().lower()))
        if person is None:
            problems.append({"field": field, "message": "no user with this e-mail"})
        elif not person.is_active:
            problems.append({"field": field, "message": "this user is dismissed"})
        else:
            changes[column] = person.id
    if problems:
        raise InvalidData(f"department {code} was not changed", problems)
    changed = sorted(k for k, v in changes.items() if getattr(department, k) != v)
    for key in changed:
        setattr(department, key, changes[key])
    if changed:
        department.updated_at = utcnow()
        audit.record(session, "department.updated", actor=actor, department=code, fields=changed)
    session.flush()
    return department


@dataclass(frozen=True)
class Member:
    """One active person as the tree derivation sees them."""

    id: int
    department: str
    manager_id: int | None


def derive_heads(members: list[Member]) -> dict[str, int]:
    """The head of each department, derived from who reports to whom.

    The head of department D is the person in D whom the others in D report to: the member whose
    line manager is outside D (or who has none). Where several members qualify, the one with the
    most direct reports inside D is the head; a tie goes to the one listed first. Where none
    qualifies (every manager is inside D, which only a reporting cycle allows), the member with
    the most reports in D is taken.
    """
    by_department: dict[str, list[Member]] = {}
    for member in members:
        by_department.setdefault(member.department, []).append(member)
    heads = {}
    for code, people in by_department.items():
        ids = {m.id for m in people}
        reports = {m.id: 0 for m in people}
        for m in people:
            if m.manager_id in ids:
                reports[m.manager_id] += 1
        candidates = [m for m in people if m.manager_id not in ids] or people
        # max() keeps the first of equals, so file order breaks ties.
        heads[code] = max(candidates, key=lambda m: reports[m.id]).id
    return heads


def derive_parents(heads: dict[str, int], members: list[Member]) -> dict[str, str]:
    """The parent of each department D: the department of D's head's line manager.

    Departments whose head has no manager, or whose manager is in D itself or not among
    ``members``, get no derived parent (they are roots as far as the file can tell).
    """
    by_id = {m.id: m for m in members}
    parents = {}
    for code, head_id in heads.items():
        manager = by_id.get(by_id[head_id].manager_id) if head_id in by_id else None
        if manager is not None and manager.department != code:
            parents[code] = manager.department
    return parents
