"""The accreditation route's hooks (processes/accreditation, hr-domain §5.1).

At the start they name the specialist (the filer, or the one HR names by e-mail), find the
accreditation to renew and put its expiry and the ЗЕТ hours into the data. The portfolio step is
refused while the hours are short of 144 or a checklist document is missing; the result step moves
the qualification's expiry to the decision date + 5 years. The request is the specialist's own:
when HR files it for them, the specialist becomes its initiator and takes the first task.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Conflict, InvalidData
from engine.models import Document, HumanTask, PersonQualification, ProcessInstance, TaskStatus, User
from engine.models._types import utcnow
from engine.services import accreditation, audit, person_facts, process_hooks
from engine.services.users import normalise_email
from rules.dates import add_years
from rules.outcomes import problem

KEY = accreditation.KEY
SPECIALIST_TASKS = frozenset({"draft_report", "record_submission"})
VALIDITY_YEARS = 5  # 323-ФЗ ст. 69: at least once every 5 years
_STASH = "approute.accreditation.specialist"

HOURS_SHORT = "ZET_HOURS_SHORT"
DOCUMENTS_MISSING = "DOCUMENTS_MISSING"


def _day(data: dict[str, Any], name: str) -> date:
    """A date field of a form (the schema checked its shape)."""
    try:
        return date.fromisoformat(str(data.get(name)))
    except ValueError:
        raise InvalidData(
            f"{name} is not a date", [problem(f"data.{name}", "INVALID_DATE", "must be YYYY-MM-DD")]
        ) from None


def _not_in_future(data: dict[str, Any], name: str, today: date) -> date:
    day = _day(data, name)
    if day > today:
        raise InvalidData(
            f"{name} is in the future",
            [problem(f"data.{name}", "DATE_IN_FUTURE", "cannot be after today", today=today.isoformat())],
        )
    return day


def missing_documents(session: Session, instance: ProcessInstance) -> list[str]:
    """Checklist codes with no document uploaded to the instance yet, in checklist order."""
    kinds = set(session.scalars(select(Document.kind).where(Document.instance_id == instance.id)))
    return [code for code, _title in accreditation.CHECKLIST if code not in kinds]


class AccreditationHooks(process_hooks.ProcessHooks):
    """The specialist and their accreditation at the start; the portfolio check; the new expiry."""

    key = KEY

    def before_start(self, session: Session, actor: User, data: dict[str, Any]) -> dict[str, Any]:
        """Name the specialist and the accreditation; refuse a second running one (409)."""
        specialist = _specialist(session, actor, data.get("email"))
        holding = accreditation.holding_of(session, specialist, data.get("specialty"))
        if accreditation.running_instance(session, specialist.id, holding.code) is not None:
            raise Conflict(f"an accreditation of {holding.code} is already under way for this specialist")
        session.info[_STASH] = specialist.id
        return {
            "specialist_id": specialist.id,
            "filed_by_id": actor.id,
            "specialty": holding.code,
            "expiry_date": holding.expiry.isoformat(),
            "window_opens": holding.window_opens.isoformat(),
            "zet_hours": holding.zet_hours,
            "zet_required": accreditation.ZET_REQUIRED,
            "hours_to_go": holding.hours_to_go,
            "checklist": [code for code, _title in accreditation.CHECKLIST],
        }

    def after_start(self, session: Session, instance: ProcessInstance) -> None:
        """Filed by HR for a specialist: the request becomes the specialist's, with its first task."""
        specialist_id = session.info.pop(_STASH, None)
        if specialist_id is None or specialist_id == instance.initiator_id:
            return
        filed_by = instance.initiator_id
        instance.initiator_id = specialist_id
        for task in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.OPEN)
        ):
            if task.element_id in SPECIALIST_TASKS and task.assignee_id == filed_by:
                task.assignee_id = specialist_id
        audit.record(
            session,
            "instance.filed_for",
            actor=session.get(User, filed_by),
            instance_id=instance.id,
            subject_id=specialist_id,
        )
        session.flush()

    def before_complete(
        self, session: Session, instance: ProcessInstance, task: HumanTask, actor: User, data: dict[str, Any]
    ) -> dict[str, Any]:
        """The portfolio check; the dates of the submission and the result; the new expiry."""
        today = clock.today()
        stored = instance.data or {}
        if task.element_id == "draft_report":
            return _portfolio_ready(session, instance, stored, data)
        if task.element_id == "record_submission":
            _not_in_future(data, "submitted_on", today)
            return {}
        if task.element_id == "record_result":
            decided = _not_in_future(data, "decision_date", today)
            submitted = stored.get("submitted_on")
            if submitted and decided < date.fromisoformat(submitted):
                raise InvalidData(
                    "the decision is dated before the submission",
                    [
                        problem(
                            "data.decision_date",
                            "BEFORE_SUBMISSION",
                            "before submitted_on",
                            submitted_on=submitted,
                        )
                    ],
                )
            if data.get("result") == "accredited":
                return _accredited(session, instance, stored, decided, data, actor)
        return {}

    def subject_id(self, instance: ProcessInstance) -> int | None:
        """The specialist."""
        specialist = (instance.data or {}).get("specialist_id")
        return specialist if isinstance(specialist, int) else instance.initiator_id


def _specialist(session: Session, actor: User, email: Any) -> User:
    """The filer, or the person HR names; only HR and admins file for someone else."""
    if not email or normalise_email(str(email)) == actor.email:
        return actor
    if not actor.has_role("hr", "admin"):
        raise InvalidData(
            "only HR starts an accreditation for someone else",
            [problem("data.email", "ACCREDITATION_FOR_OTHERS", "leave it empty to start your own")],
        )
    person = session.scalar(select(User).where(User.email == normalise_email(str(email))))
    if person is None or not person.is_active:
        raise InvalidData(
            "the specialist is not known", [problem("data.email", "PERSON_UNKNOWN", "no active user has it")]
        )
    return person


def _portfolio_ready(
    session: Session, instance: ProcessInstance, stored: dict[str, Any], data: dict[str, Any]
) -> dict[str, Any]:
    """Refuse (422, every problem at once) while hours are short or documents missing."""
    hours = data.get("zet_hours")
    hours = hours if isinstance(hours, int) and not isinstance(hours, bool) else 0
    problems = []
    required = accreditation.ZET_REQUIRED
    if hours < required:
        problems.append(
            problem(
                "data.zet_hours",
                HOURS_SHORT,
                accreditation.hours_summary(hours),
                hours=hours,
                required=required,
                to_go=required - hours,
            )
        )
    missing = missing_documents(session, instance)
    if missing:
        problems.append(
            problem(
                "documents",
                DOCUMENTS_MISSING,
                "upload to the request: " + ", ".join(missing),
                missing=missing,
            )
        )
    if problems:
        raise InvalidData("the portfolio is not complete", problems)
    _record_hours(session, stored, hours)
    return {"zet_hours": hours, "hours_to_go": 0, "report_drafted_on": clock.today().isoformat()}


def _record_hours(session: Session, stored: dict[str, Any], hours: int) -> None:
    """The hours the specialist reported become their ``zet_hours`` fact, which the sweep reads."""
    person = session.get(User, stored.get("specialist_id"))
    code = stored.get("specialty")
    if person is None or not code:
        return
    current = person_facts.zet_hours_of(person)
    if current.get(code) != hours:
        person.flags = {**(person.flags or {}), "zet_hours": {**current, code: hours}}


def _accredited(
    session: Session,
    instance: ProcessInstance,
    stored: dict[str, Any],
    decided: date,
    data: dict[str, Any],
    actor: User,
) -> dict[str, Any]:
    """Valid until the decision date + 5 years; the hours start again from 0; the expired mark goes."""
    person = session.get(User, stored.get("specialist_id"))
    code = stored.get("specialty")
    row = session.scalar(
        select(PersonQualification).where(
            PersonQualification.user_id == stored.get("specialist_id"), PersonQualification.code == code
        )
    )
    new_expiry = add_years(decided, VALIDITY_YEARS)
    if row is None:
        row = PersonQualification(user_id=person.id, code=code)
        session.add(row)
    row.valid_from, row.valid_until, row.updated_at = decided, new_expiry, utcnow()
    if data.get("credential_number"):
        row.credential_number = str(data["credential_number"]).strip()[: person_facts.CREDENTIAL_MAX]
    hours = person_facts.zet_hours_of(person)
    if code in hours:
        person.flags = {**(person.flags or {}), "zet_hours": {**hours, code: 0}}
    session.flush()
    accreditation.refresh_person(session, person)
    audit.record(
        session,
        "person.facts_changed",
        actor=actor,
        subject_id=person.id,
        instance_id=instance.id,
        fields=["qualifications"],
    )
    return {"new_expiry": new_expiry.isoformat()}


process_hooks.register(AccreditationHooks())
