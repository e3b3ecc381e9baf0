"""Mandatory training and attestation (hr-domain §5.2, A37): when each is due, reminders, work admission.

The catalogue is the ``mandatory_trainings`` rule table (code, period, how early "due soon" starts,
whether an overdue one stops work). A person's last training is a qualification with the same code
(upper-case, as every qualification code): ``valid_from`` the day of the training, ``valid_until``
the day the next one is due, worked out as ``valid_from + period_months`` when HR leaves it empty.
Only people holding such a row are tracked: who must be trained is HR's record, not a guess.

The daily sweep tells each person once per due date when a training is due soon, and once when it
is overdue (their line manager too: they must not let them work). An overdue training that blocks
admission turns ``User.flags["admission"]`` off, naming the trainings in
``flags["admission_blocked_by"]``; recording a new date turns it back on at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.models import PersonQualification, User
from engine.safe_log import describe
from engine.services import notifications, schedules
from engine.services.rule_tables import table_rows
from rules.dates import add_months

log = logging.getLogger(__name__)

TABLE = "mandatory_trainings"
OK, DUE_SOON, OVERDUE = "ok", "due_soon", "overdue"
ADMISSION, BLOCKED_BY = "admission", "admission_blocked_by"


@dataclass(frozen=True)
class TrainingStatus:
    """One person's standing on one training on a day."""

    code: str  # the qualification code, upper-case
    title: str
    last: date | None
    due: date | None
    status: str  # ok, due_soon, overdue, or unknown (no date recorded)
    days_left: int | None
    blocks_admission: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "last": self.last,
            "due": self.due,
            "status": self.status,
            "days_left": self.days_left,
            "blocks_admission": self.blocks_admission,
        }


def catalogue(session: Session) -> dict[str, dict[str, Any]]:
    """The table's rows by the qualification code that records them (upper-case)."""
    _version, rows = table_rows(session, TABLE)
    return {row["code"].upper(): row for row in rows}


def due_date(row: dict[str, Any], last: date | None, valid_until: date | None) -> date | None:
    """When the next training is due: the recorded ``valid_until``, else ``last`` + the period."""
    if valid_until is not None:
        return valid_until
    return add_months(last, int(row["period_months"])) if last is not None else None


def status_of(row: dict[str, Any], qualification: PersonQualification, today: date) -> TrainingStatus:
    """ok / due_soon (at most ``due_soon_days`` left, the due day included) / overdue (after it)."""
    due = due_date(row, qualification.valid_from, qualification.valid_until)
    if due is None:
        status, left = "unknown", None
    else:
        left = (due - today).days
        soon = row.get("due_soon_days")
        status = OVERDUE if left < 0 else DUE_SOON if left <= (30 if soon is None else soon) else OK
    return TrainingStatus(
        code=qualification.code,
        title=row.get("title") or qualification.code,
        last=qualification.valid_from,
        due=due,
        status=status,
        days_left=left,
        blocks_admission=bool(row.get("blocks_admission", True)),
    )


def statuses(session: Session, person: User, today: date | None = None) -> list[TrainingStatus]:
    """The person's standing on every mandatory training they hold a record of, by code."""
    today = today or clock.today()
    table = catalogue(session)
    rows = session.scalars(
        select(PersonQualification)
        .where(PersonQualification.user_id == person.id, PersonQualification.code.in_(list(table)))
        .order_by(PersonQualification.code)
    )
    return [status_of(table[q.code], q, today) for q in rows]


def admission_blocked_by(found: list[TrainingStatus]) -> list[str]:
    """Codes of the overdue trainings that stop work admission."""
    return sorted(s.code for s in found if s.status == OVERDUE and s.blocks_admission)


def refresh_person(session: Session, person: User, today: date | None = None) -> list[TrainingStatus]:
    """Fill missing due dates and set the person's admission flag from their trainings today."""
    today = today or clock.today()
    table = catalogue(session)
    found = []
    for qualification in session.scalars(
        select(PersonQualification).where(
            PersonQualification.user_id == person.id, PersonQualification.code.in_(list(table))
        )
    ):
        row = table[qualification.code]
        if qualification.valid_until is None and qualification.valid_from is not None:
            # S-04 reads valid_until: a training recorded by its date alone gets its due date here.
            qualification.valid_until = due_date(row, qualification.valid_from, None)
        found.append(status_of(row, qualification, today))
    _set_admission(person, admission_blocked_by(found))
    return found


def _set_admission(person: User, blocked_by: list[str]) -> None:
    flags = dict(person.flags or {})
    if blocked_by:
        if flags.get(ADMISSION) is False and flags.get(BLOCKED_BY) == blocked_by:
            return
        flags.update({ADMISSION: False, BLOCKED_BY: blocked_by})
    elif BLOCKED_BY in flags:
        # Only an admission this module turned off comes back on; HR's own "off" stays.
        flags.pop(BLOCKED_BY)
        flags[ADMISSION] = True
    else:
        return
    person.flags = flags


@schedules.register("trainings", hour=6)
def sweep(session: Session, today: date) -> None:
    """Daily: due-soon and overdue notices (once per due date) and the admission flags."""
    table = catalogue(session)
    if not table:
        return
    people = session.scalars(
        select(User)
        .where(
            User.is_active,
            User.id.in_(select(PersonQualification.user_id).where(PersonQualification.code.in_(list(table)))),
        )
        .order_by(User.id)
    ).all()
    for person in people:
        try:
            with session.begin_nested():
                _sweep_person(session, person, today)
        except Exception as exc:  # one person's bad data must not stop everyone else's reminders
            log.error("training sweep failed for user #%s (%s)", person.id, describe(exc))


def _sweep_person(session: Session, person: User, today: date) -> None:
    for status in refresh_person(session, person, today):
        if status.status not in (DUE_SOON, OVERDUE) or status.due is None:
            continue
        kind = "training_due_soon" if status.status == DUE_SOON else "training_overdue"
        params = {
            "code": status.code,
            "title": status.title,
            "due": status.due.isoformat(),
            "days_left": status.days_left,
            "admission_off": status.status == OVERDUE and status.blocks_admission,
        }
        key = f"training:{person.id}:{status.code}:{status.due.isoformat()}:{status.status}"
        notifications.notify(session, person.id, kind, params, dedupe_key=key)
        if status.status == OVERDUE and person.manager_id is not None:
            notifications.notify(
                session,
                person.manager_id,
                kind,
                {**params, "person_id": person.id},
                dedupe_key=f"{key}:manager",
            )
