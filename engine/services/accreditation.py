"""Periodic accreditation of medical specialists (hr-domain §5.1, A35/A36): who is due, and the daily sweep.

An accreditation is a qualification whose code the ``qualifications`` rule table marks
``periodic_accreditation`` (``medical_accreditation`` by default); its ``valid_until`` is the expiry.
The ЗЕТ hours gathered toward it are the person fact ``zet_hours`` ({code: hours}, 144 needed).

The sweep, once a day, for each active person holding one:
- from 12 months before expiry (the filing window) it starts the accreditation route for them, unless
  one is running, and tells them the window is open and how many hours are still to go;
- it reminds them 6 and 3 months, 1 month, 14 days and 1 day before expiry (the most recent offset
  passed, once: a sweep missed for a week does not send three reminders at once);
- after expiry it marks them (``User.flags["accreditation_expired"]``: codes), lists their recorded
  shifts after the expiry day (every shift of a specialist needs what they hold, as S-04 reads it),
  and tells them, their department head and HR. A qualification renewed since clears the mark.
Every notice has a dedupe key of person, code, expiry and offset, so a re-run sends nothing twice.
The reminders live here and not as BPMN timers: they reach people without a running instance too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import EngineError, InvalidData
from engine.models import (
    Department,
    HumanTask,
    InstanceStatus,
    PersonQualification,
    ProcessInstance,
    TaskStatus,
    User,
)
from engine.safe_log import describe
from engine.services import instances, notifications, org, person_facts, schedules
from engine.services.rule_tables import table_rows
from rules.dates import add_months

log = logging.getLogger(__name__)

KEY = "accreditation"
ZET_REQUIRED = 144
WINDOW_MONTHS = 12
EXPIRED_FLAG = "accreditation_expired"
# (label, months, days) before expiry; the window opening (12 months) has its own notice.
REMINDERS = (("6m", 6, 0), ("3m", 3, 0), ("1m", 1, 0), ("14d", 0, 14), ("1d", 0, 1))
# The documents of the portfolio (szgmu.ru, the 334н list), uploaded to the instance with kind = code.
CHECKLIST = (
    ("application", "Application"),
    ("id_document", "ID document"),
    ("portfolio", "Portfolio"),
    ("certificate_copy", "Copy of the certificate or accreditation"),
    ("diplomas", "Diplomas with supplements"),
    ("cpd_certificates", "Continuing-education certificates"),
    ("std_r", "СТД-Р or work book"),
    ("snils", "СНИЛС"),
)
OPTIONAL_DOCUMENTS = (("name_change", "Name-change documents"),)
STAGES = {
    "draft_report": "preparing",
    "head_approval": "report_drafted",
    "record_submission": "report_agreed_by_head",
    "record_result": "submitted",
}


@dataclass(frozen=True)
class Holding:
    """A person's accreditation: the code, its expiry and the hours gathered toward the next one."""

    person: User
    code: str
    expiry: date
    zet_hours: int

    @property
    def window_opens(self) -> date:
        return add_months(self.expiry, -WINDOW_MONTHS)

    @property
    def hours_to_go(self) -> int:
        return max(0, ZET_REQUIRED - self.zet_hours)

    def status_on(self, today: date) -> str:
        """valid (before the window), window_open (12 months up to expiry, inclusive), expired."""
        if today > self.expiry:
            return "expired"
        return "window_open" if today >= self.window_opens else "valid"

    def figures(self) -> dict[str, Any]:
        """What every notice and the status show: the code, dates and the hours against 144."""
        return {
            "code": self.code,
            "expiry": self.expiry.isoformat(),
            "window_opens": self.window_opens.isoformat(),
            "zet_hours": self.zet_hours,
            "zet_required": ZET_REQUIRED,
            "hours_to_go": self.hours_to_go,
            "summary": hours_summary(self.zet_hours),
        }


def hours_summary(hours: int) -> str:
    """ "44 hours to go to 144", or that the 144 are there."""
    to_go = max(0, ZET_REQUIRED - hours)
    if to_go == 0:
        return f"{hours} hours gathered, {ZET_REQUIRED} needed"
    return f"{to_go} hours to go to {ZET_REQUIRED}"


def accreditation_codes(session: Session) -> set[str]:
    """Qualification codes (upper-case, as people hold them) renewed by periodic accreditation."""
    _version, rows = table_rows(session, "qualifications")
    return {row["code"].upper() for row in rows if row.get("periodic_accreditation")}


def holdings(session: Session, person: User, codes: set[str] | None = None) -> list[Holding]:
    """The person's dated accreditations, the one expiring first first."""
    codes = accreditation_codes(session) if codes is None else codes
    hours = person_facts.zet_hours_of(person)
    rows = session.scalars(
        select(PersonQualification).where(
            PersonQualification.user_id == person.id,
            PersonQualification.code.in_(list(codes)),
            PersonQualification.valid_until.is_not(None),
        )
    )
    found = [Holding(person, q.code, q.valid_until, hours.get(q.code, 0)) for q in rows]
    return sorted(found, key=lambda h: (h.expiry, h.code))


def holding_of(session: Session, person: User, code: str | None) -> Holding:
    """The accreditation ``code`` of the person (default: the one expiring first). InvalidData if none."""
    found = holdings(session, person)
    if code:
        found = [h for h in found if h.code == code.strip().upper()]
    if not found:
        raise InvalidData(
            "no accreditation to renew",
            [
                {
                    "field": "data.specialty" if code else "data.email",
                    "rule": "ACCREDITATION_NONE",
                    "params": {"specialty": code},
                    "message": "the specialist holds no dated qualification marked periodic_accreditation",
                }
            ],
        )
    return found[0]


def running_instance(session: Session, person_id: int, code: str) -> ProcessInstance | None:
    """The specialist's running accreditation instance for ``code``, if any."""
    rows = session.scalars(
        select(ProcessInstance).where(
            ProcessInstance.process_key == KEY,
            ProcessInstance.status == InstanceStatus.RUNNING,
            ProcessInstance.initiator_id == person_id,
        )
    )
    return next((i for i in rows if (i.data or {}).get("specialty") == code), None)


def stage_of(session: Session, instance: ProcessInstance | None) -> str | None:
    """The tracked stage (§5.1) of a running instance, from its open task."""
    if instance is None:
        return None
    open_ids = session.scalars(
        select(HumanTask.element_id).where(
            HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.OPEN
        )
    ).all()
    return next((STAGES[e] for e in open_ids if e in STAGES), instance.status.value)


def shifts_after(person: User, expiry: date) -> list[dict[str, str]]:
    """The person's recorded shifts that run into a day after ``expiry`` (valid_until is inclusive)."""
    limit = datetime.combine(expiry + timedelta(days=1), time.min)
    found = []
    for shift in person_facts.shifts_of(person) or []:
        try:
            if datetime.fromisoformat(shift["end"]).replace(tzinfo=None) > limit:
                found.append(dict(shift))
        except (KeyError, TypeError, ValueError):
            continue  # HR's roster is checked on the way in; an odd stored entry is skipped, not fatal
    return found


def status(session: Session, person: User, today: date | None = None) -> list[dict[str, Any]]:
    """The person's accreditations as the status endpoint shows them."""
    today = today or clock.today()
    result = []
    for holding in holdings(session, person):
        instance = running_instance(session, person.id, holding.code)
        state = holding.status_on(today)
        result.append(
            {
                **holding.figures(),
                "status": state,
                "instance_id": instance.id if instance else None,
                "stage": stage_of(session, instance),
                "shifts_after_expiry": shifts_after(person, holding.expiry) if state == "expired" else [],
            }
        )
    return result


# --- the daily sweep ---------------------------------------------------------------------------------


@schedules.register("accreditation", hour=6)
def sweep(session: Session, today: date) -> None:
    """Daily: start instances as windows open, remind, and mark and report expired accreditations."""
    codes = accreditation_codes(session)
    holders = select(PersonQualification.user_id).where(
        PersonQualification.code.in_(list(codes)), PersonQualification.valid_until.is_not(None)
    )
    people = session.scalars(select(User).where(User.is_active, User.id.in_(holders)).order_by(User.id))
    for person in people.all():
        try:
            with session.begin_nested():
                _sweep_person(session, person, today, codes)
        except Exception as exc:  # one person's bad data must not stop everyone else's reminders
            log.error("accreditation sweep failed for user #%s (%s)", person.id, describe(exc))


def refresh_person(session: Session, person: User, today: date | None = None) -> None:
    """Set or clear the person's expired mark from their accreditations now (facts just changed)."""
    today = today or clock.today()
    _set_expired(person, sorted(h.code for h in holdings(session, person) if h.status_on(today) == "expired"))


def _sweep_person(session: Session, person: User, today: date, codes: set[str]) -> None:
    found = holdings(session, person, codes)
    expired = []
    for holding in found:
        state = holding.status_on(today)
        if state == "window_open":
            _window_open(session, holding, today)
        elif state == "expired":
            expired.append(holding.code)
            _expired(session, holding)
    _set_expired(person, sorted(expired))


def _key(holding: Holding, what: str) -> str:
    return f"accreditation:{holding.person.id}:{holding.code}:{holding.expiry.isoformat()}:{what}"


def _window_open(session: Session, holding: Holding, today: date) -> None:
    person = holding.person
    instance = running_instance(session, person.id, holding.code)
    if instance is None:
        instance = _start(session, holding)
    params = holding.figures()
    instance_id = instance.id if instance is not None else None
    notifications.notify(
        session,
        person.id,
        "accreditation_window_open",
        params,
        instance_id=instance_id,
        dedupe_key=_key(holding, "window_open"),
    )
    passed = [
        label
        for label, months, days in REMINDERS
        if today >= add_months(holding.expiry, -months) - timedelta(days=days)
    ]
    if passed:
        label = passed[-1]
        notifications.notify(
            session,
            person.id,
            "accreditation_reminder",
            {**params, "before_expiry": label, "days_left": (holding.expiry - today).days},
            instance_id=instance_id,
            dedupe_key=_key(holding, f"reminder:{label}"),
        )


def _start(session: Session, holding: Holding) -> ProcessInstance | None:
    """Start the route for the specialist, as theirs; None (logged) when it cannot start."""
    business_key = f"accreditation-{holding.person.id}-{holding.code}-{holding.expiry.isoformat()}"
    try:
        with session.begin_nested():
            instance, _created = instances.start_instance(
                session,
                key=KEY,
                actor=holding.person,
                data={"specialty": holding.code},
                business_key=business_key,
            )
            return instance
    except EngineError as exc:
        # Not deployed, or the route cannot name someone: the notices still go out.
        log.warning("accreditation route not started for user #%s: %s", holding.person.id, type(exc).__name__)
        return None


def _expired(session: Session, holding: Holding) -> None:
    person = holding.person
    shifts = shifts_after(person, holding.expiry)
    params = {
        **holding.figures(),
        "person_id": person.id,
        "shift_dates": sorted({s["start"][:10] for s in shifts}),
        "shift_ids": [s["id"] for s in shifts],
    }
    instance = running_instance(session, person.id, holding.code)
    instance_id = instance.id if instance is not None else None
    for recipient in [person.id, *_alerted(session, person)]:
        notifications.notify(
            session,
            recipient,
            "accreditation_expired",
            params,
            instance_id=instance_id,
            dedupe_key=_key(holding, f"expired:{recipient}"),
        )


def _alerted(session: Session, person: User) -> list[int]:
    """Who hears of an expiry besides the specialist: their department head and everyone in HR."""
    ids = []
    head = _head_of(session, person)
    if head is not None:
        ids.append(head)
    ids += [
        user_id for user_id in notifications.role_holders(session, "hr") if user_id not in (*ids, person.id)
    ]
    return ids


def _head_of(session: Session, person: User) -> int | None:
    """The head of the person's department (of the one above, if they head it); else their manager."""
    department = (
        session.scalar(select(Department).where(Department.code == person.department))
        if person.department
        else None
    )
    if department is not None:
        for unit in [department, *org.ancestors(session, department)]:
            if unit.head_id is not None and unit.head_id != person.id:
                return unit.head_id
    return person.manager_id


def _set_expired(person: User, codes: list[str]) -> None:
    flags = dict(person.flags or {})
    if codes == (flags.get(EXPIRED_FLAG) or []):
        return
    if codes:
        flags[EXPIRED_FLAG] = codes
    else:
        flags.pop(EXPIRED_FLAG, None)
    person.flags = flags
