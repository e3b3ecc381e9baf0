"""The staff import: payroll's staff list becomes approute's users, line managers and department tree.

The import is keyed by personnel number (табельный номер) and is idempotent: importing the same
file twice changes nothing the second time. It works on sets, not on one ORM object per person:
existing users are read once into dicts, new people go in with one multi-row INSERT per chunk,
changes go out as executemany UPDATEs, and line managers are linked in a second pass once every
person has an id. That is what keeps 10,000 rows well under 10 seconds on PostgreSQL.

What the import owns and what it leaves alone:
- people with a personnel number are the import's: it creates, updates, dismisses (absent from the
  file) and reactivates (back in the file) them;
- people without one (made by ``approute users create`` or the demo) are never dismissed; if a row
  carries the e-mail of such a user, that user becomes the row's person (they get its number);
- ``manager`` is granted to anyone with an active report, and taken back from imported people who
  no longer have any (roles of people without a personnel number are only ever added to);
- departments are created and named from the file; heads and parents are derived (``org``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from engine.errors import InvalidData
from engine.models import Department, User
from engine.models._types import utcnow
from engine.services import audit, org, person_facts, staff_csv
from engine.services.staff_csv import RejectedRow, StaffRow

CHUNK = 500  # rows per INSERT/UPDATE batch, and how often progress is reported
ADVISORY_LOCK = 0x5354_4146  # "STAF": one import at a time on PostgreSQL (SQLite serialises writers)
# The columns the file sets; a row is "updated" when one of these (or the line manager) changes.
# monthly_salary counts only when the file has its column (see staff_csv.FACT_COLUMNS).
FILE_FIELDS = (
    "name",
    "email",
    "phone",
    "position",
    "department",
    "hire_date",
    "flags",
    "is_active",
    "monthly_salary",
)
Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did. ``rejected`` and ``warnings`` carry row numbers and personnel numbers only."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dismissed: int = 0
    reactivated: int = 0
    manager_role_granted: int = 0
    manager_role_revoked: int = 0
    departments_created: int = 0
    departments_updated: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """The numbers alone (what the audit event records)."""
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "dismissed": self.dismissed,
            "reactivated": self.reactivated,
            "rejected": len(self.rejected),
        }

    def as_dict(self) -> dict[str, Any]:
        """The report as the API and the CLI show it."""
        return {
            "counts": self.counts(),
            "manager_role": {"granted": self.manager_role_granted, "revoked": self.manager_role_revoked},
            "departments": {"created": self.departments_created, "updated": self.departments_updated},
            "rejected": self.rejected,
            "warnings": self.warnings,
        }

    def warn(self, message: str, row: StaffRow | None = None) -> None:
        self.warnings.append(
            {
                "row": row.row if row else None,
                "personnel_number": row.personnel_number if row else None,
                "message": message,
            }
        )


@dataclass
class _Planned:
    """One accepted row and the user it becomes: ``existing`` is the stored row (None for a new person)."""

    row: StaffRow
    existing: Any
    values: dict[str, Any]
    id: int | None = None
    changed: bool = False


def import_staff(
    session: Session, source: bytes | str | IO, *, actor: User | None, progress: Progress | None = None
) -> ImportReport:
    """Import a payroll staff CSV (see ``staff_csv`` for the format) and return what it did.

    Bad rows are rejected with their row number and reason; the good rows still import.
    ``progress(done, total)`` is called every ``CHUNK`` rows written and once at the end.
    Raises InvalidData (nothing changed) for a file that cannot be read, a header missing
    required columns, or a file without a single importable row.
    """
    parsed = staff_csv.parse(source)
    if parsed.total == 0:
        raise InvalidData(
            "the file has a header but no people; nothing was imported",
            [
                {
                    "field": "file",
                    "message": "no data rows (an import dismisses everyone absent from the file)",
                }
            ],
        )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
    report = ImportReport(rows=parsed.total)
    for note in parsed.notes:
        report.warn(note)
    rejected = list(parsed.rejected)
    existing = session.execute(
        select(
            User.id,
            User.personnel_number,
            User.email,
            User.name,
            User.phone,
            User.position,
            User.department,
            User.hire_date,
            User.monthly_salary,
            User.flags,
            User.is_active,
            User.manager_id,
        )
    ).all()
    plan = _plan(parsed, existing, rejected, report)
    if not plan:
        raise InvalidData(
            f"none of the {parsed.total} rows can be imported; nothing was changed",
            [{"field": f"row {r.row}", "message": r.reason} for r in sorted(rejected, key=lambda r: r.row)],
        )
    now = utcnow()
    _write_people(session, plan, now, progress)
    manager_of = _link_managers(session, plan, parsed, existing, rejected, report)
    _sync_qualifications(session, plan)
    report.dismissed = _dismiss_absent(session, plan, existing, rejected, now)
    _settle_manager_roles(session, report)
    _apply_departments(session, plan, manager_of, report)
    report.rejected = [r.as_dict() for r in sorted(rejected, key=lambda r: r.row)]
    report.created = sum(1 for p in plan if p.existing is None)
    report.updated = sum(1 for p in plan if p.existing is not None and p.changed)
    report.reactivated = sum(1 for p in plan if p.existing is not None and not p.existing.is_active)
    report.unchanged = len(plan) - report.created - report.updated
    audit.record(
        session,
        "staff.imported",
        actor=actor,
        **report.counts(),
        departments_created=report.departments_created,
        departments_updated=report.departments_updated,
    )
    session.flush()
    # The bulk statements went around the identity map; drop what it holds so nothing stale is read.
    session.expire_all()
    return report


def _plan(parsed, existing, rejected: list[RejectedRow], report: ImportReport) -> list[_Planned]:
    """Match each row to a stored user (by number, else a number-less user with its e-mail)."""
    by_number = {u.personnel_number: u for u in existing if u.personnel_number}
    by_email = {u.email: u for u in existing}
    plan = []
    for row in parsed.rows:
        match = by_number.get(row.personnel_number)
        holder = by_email.get(row.email)
        if holder is not None and (match is None or holder.id != match.id):
            if match is None and holder.personnel_number is None:
                match = holder
                report.warn("the user with this e-mail had no personnel number; they now have this one", row)
            else:
                whose = f" (personnel number {holder.personnel_number})" if holder.personnel_number else ""
                reason = f"e-mail is already used by another person{whose}"
                rejected.append(RejectedRow(row.row, row.personnel_number, reason))
                continue
        flags = dict(match.flags or {}) if match is not None else {}
        for key in row.flag_columns:
            flags.pop(key, None)
        flags.update(row.flags)
        values = {
            "personnel_number": row.personnel_number,
            "name": row.full_name,
            "email": row.email,
            "phone": row.phone,
            "position": row.position,
            "department": row.department_code,
            "hire_date": row.hire_date,
            "flags": flags,
            "is_active": True,
            "dismissed_at": None,
        }
        if "monthly_salary" in row.fact_columns:
            values["monthly_salary"] = row.monthly_salary
        planned = _Planned(row=row, existing=match, values=values)
        if match is not None:
            planned.id = match.id
            planned.changed = match.personnel_number is None or any(
                getattr(match, key) != values[key] for key in FILE_FIELDS if key in values
            )
        plan.append(planned)
    return plan


def _write_people(session: Session, plan: list[_Planned], now, progress: Progress | None) -> None:
    """Insert the new people and update the changed ones, ``CHUNK`` rows at a time."""
    total = len(plan)
    for start in range(0, total, CHUNK):
        chunk = plan[start : start + CHUNK]
        new = [p for p in chunk if p.existing is None]
        if new:
            rows = [{**p.values, "role_names": ["employee"], "created_at": now} for p in new]
            inserted = session.execute(insert(User).returning(User.id, User.personnel_number), rows)
            ids = {number: user_id for user_id, number in inserted}
            for p in new:
                p.id = ids[p.row.personnel_number]
        changed = [{"id": p.id, **p.values} for p in chunk if p.existing is not None and p.changed]
        if changed:
            session.execute(update(User), changed)
        if progress is not None:
            progress(min(start + CHUNK, total), total)


def _link_managers(session, plan, parsed, existing, rejected, report) -> dict[int, int | None]:
    """Second pass: point each person at their line manager. Returns person id → manager id.

    A manager must be a person of this file (or an active person whose row was rejected, so kept);
    anyone else is about to be dismissed or unknown, and the person is imported without a manager.
    """
    stored = {u.personnel_number: u for u in existing if u.personnel_number}
    id_by_number = {p.row.personnel_number: p.id for p in plan}
    manager_of: dict[int, int | None] = {}
    for r in rejected:
        kept = stored.get(r.personnel_number)
        if kept is not None and kept.is_active:
            id_by_number.setdefault(r.personnel_number, kept.id)
            manager_of[kept.id] = kept.manager_id
    for p in plan:
        number = p.row.manager_personnel_number
        manager_of[p.id] = None
        if number is None:
            continue
        if number == p.row.personnel_number:
            report.warn("the row names the person as their own manager; imported without a manager", p.row)
        elif number not in id_by_number:
            report.warn(
                f"manager's personnel number {number} is not among the people imported; "
                "imported without a manager",
                p.row,
            )
        else:
            manager_of[p.id] = id_by_number[number]
    _break_cycles(plan, manager_of, report)
    links = []
    for p in plan:
        current = p.existing.manager_id if p.existing is not None else None
        if manager_of[p.id] != current:
            links.append({"id": p.id, "manager_id": manager_of[p.id]})
            p.changed = True
    for start in range(0, len(links), CHUNK):
        session.execute(update(User), links[start : start + CHUNK])
    return manager_of


def _sync_qualifications(session: Session, plan: list[_Planned]) -> None:
    """Make each person's qualifications the file's, when the file has the «Квалификации» column."""
    wanted = {p.id: p.row.qualifications for p in plan if "qualifications" in p.row.fact_columns}
    if not wanted:
        return
    changed = person_facts.sync_imported_qualifications(session, wanted)
    for p in plan:
        if p.id in changed:
            p.changed = True


def _break_cycles(plan: list[_Planned], manager_of: dict[int, int | None], report: ImportReport) -> None:
    """Cut every loop in the line-management chain at the row that comes last in the file."""
    by_id = {p.id: p for p in plan}
    done: set[int] = set()
    for p in plan:
        path: list[int] = []
        position: dict[int, int] = {}
        current = p.id
        while current is not None and current not in done:
            if current in position:
                loop = [by_id[i] for i in path[position[current] :] if i in by_id]
                if loop:
                    cut = max(loop, key=lambda q: q.row.row)
                    manager_of[cut.id] = None
                    rows = ", ".join(str(q.row.row) for q in sorted(loop, key=lambda q: q.row.row))
                    report.warn(
                        f"rows {rows} form a manager cycle; this row imported without a manager", cut.row
                    )
                break
            position[current] = len(path)
            path.append(current)
            current = manager_of.get(current)
        done.update(path)


def _dismiss_absent(session, plan, existing, rejected, now) -> int:
    """Dismiss imported people whose number is not in the file. Rejected rows' people are kept."""
    in_file = {p.row.personnel_number for p in plan} | {r.personnel_number for r in rejected}
    gone = [
        u.id for u in existing if u.personnel_number and u.is_active and u.personnel_number not in in_file
    ]
    for start in range(0, len(gone), CHUNK):
        session.execute(
            update(User)
            .where(User.id.in_(gone[start : start + CHUNK]))
            .values(is_active=False, dismissed_at=now)
            .execution_options(synchronize_session=False)
        )
    return len(gone)


def _settle_manager_roles(session: Session, report: ImportReport) -> None:
    """``manager`` for everyone with an active report; imported people without reports lose it."""
    with_reports = set(
        session.scalars(
            select(User.manager_id).where(User.is_active.is_(True), User.manager_id.is_not(None)).distinct()
        )
    )
    changes = []
    for user_id, number, is_active, roles in session.execute(
        select(User.id, User.personnel_number, User.is_active, User.role_names)
    ):
        roles = list(roles or [])
        if user_id in with_reports and is_active and "manager" not in roles:
            changes.append({"id": user_id, "role_names": sorted({*roles, "manager"})})
            report.manager_role_granted += 1
        elif user_id not in with_reports and number is not None and "manager" in roles:
            changes.append({"id": user_id, "role_names": [r for r in roles if r != "manager"]})
            report.manager_role_revoked += 1
    for start in range(0, len(changes), CHUNK):
        session.execute(update(User), changes[start : start + CHUNK])


def _apply_departments(session, plan, manager_of, report: ImportReport) -> None:
    """Create and name the file's departments; set heads and parents (see ``org.derive_heads``).

    The file's parent column always wins. Without it, a derived parent is only filled in where a
    department has none, and a derived head only replaces a head who is no longer in the
    department: both may have been set by HR (PUT /departments/{code}), and a re-import keeps that.
    """
    names: dict[str, str] = {}
    explicit_parent: dict[str, str] = {}
    members: list[org.Member] = []
    for p in plan:
        code = p.row.department_code
        if code is None:
            continue
        members.append(org.Member(p.id, code, manager_of.get(p.id)))
        if p.row.department_name:
            names.setdefault(code, p.row.department_name)
        wanted = p.row.parent_department_code
        if wanted and explicit_parent.setdefault(code, wanted) != wanted:
            report.warn(f"department {code}: rows name different parents; the first one was used", p.row)
    codes = list(dict.fromkeys(m.department for m in members))
    departments = {d.code: d for d in session.scalars(select(Department))}
    created: set[str] = set()
    for code in [*codes, *explicit_parent.values()]:
        if code not in departments:
            departments[code] = Department(code=code, name=names.get(code, code))
            session.add(departments[code])
            created.add(code)
    report.departments_created = len(created)
    session.flush()
    heads = org.derive_heads(members)
    derived_parent = org.derive_parents(heads, members)
    member_ids = {code: set() for code in codes}
    for m in members:
        member_ids[m.department].add(m.id)
    parent_of = {d.code: None for d in departments.values()}
    code_by_id = {d.id: d.code for d in departments.values()}
    parent_of.update({d.code: code_by_id.get(d.parent_id) for d in departments.values()})
    for code in codes:
        department = departments[code]
        changes: dict[str, Any] = {}
        if code in names and department.name != names[code]:
            changes["name"] = names[code]
        if department.head_id not in member_ids[code]:
            changes["head_id"] = heads[code]
        parent = explicit_parent.get(code)
        if parent is None and parent_of[code] is None:
            parent = derived_parent.get(code)
        if parent is not None and parent != parent_of[code]:
            if org.makes_cycle(parent_of, code, parent):
                report.warn(f"department {code}: parent {parent} would make a cycle; parent left unchanged")
            else:
                changes["parent_id"] = departments[parent].id
                parent_of[code] = parent
        changes = {k: v for k, v in changes.items() if getattr(department, k) != v}
        if changes:
            for key, value in changes.items():
                setattr(department, key, value)
            department.updated_at = utcnow()
            if code not in created:
                report.departments_updated += 1
    session.flush()
