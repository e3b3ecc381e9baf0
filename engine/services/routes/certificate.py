"""The certificate route's hooks (processes/certificate, hr-domain §4): checks, SLA, register number.

At submission the hooks check what the form's JSON Schema cannot (a trip that ends before it starts,
a 2-НДФЛ year before the hire or with no closed month yet), and put into the instance data:

- ``sla_due`` (ISO date) and ``sla_due_at`` (18:00 of that day, company time): the ст. 62 deadline
  from the ``certificate_slas`` row of the type, counted in working days of the production calendar
  (C-01), the filing day being day 1 unless the row's ``count_filing_day`` is off (A33);
- ``auto_issue``: whether the PDF can be made from the data on record without HR (see ``_auto``);
- ``register_number``: the next outgoing number of the certificate register (C-02), taken in the
  submission's transaction, so a refused or failed submission takes no number;
- ``hr_handler``: who does the HR task if there is one: the coordinator HR named for
  ``certificate``, else every holder of the role ``hr``.

The salary never enters the instance data (C-04): the document reads it when it is rendered.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from engine import clock
from engine.errors import InvalidData
from engine.models import HumanTask, ProcessInstance, User
from engine.services import documents, process_hooks
from engine.services.coordinators import coordinator_for
from engine.services.routes import leave_records
from engine.services.rule_tables import table_rows
from rules.calendar import ProductionCalendar, federal_calendar
from rules.outcomes import problem

KEY = "certificate"
TYPES = ("employment", "used_leave", "visa", "ndfl")
DUE_HOUR = 18  # a deadline day ends with the working day, in the company's time zone

# Rule codes of the 422 problems.
INVALID_PERIOD = "CERT_INVALID_PERIOD"
INVALID_YEAR = "CERT_INVALID_YEAR"
LEAVE_UNKNOWN = "CERT_LEAVE_UNKNOWN"
NO_SLA = "CERT_TYPE_NOT_OFFERED"


HR_TASK = "hr_preparation"
MISSING_FACT = "CERT_FACT_MISSING"


def _problem(field_name: str, rule: str, message: str) -> dict[str, Any]:
    # Named as the form's own errors name them: data.<field>.
    return problem(f"data.{field_name}", rule, message)


def _calendar(session: Session, around: date) -> ProductionCalendar:
    """The federal production calendar; years without rows count Monday to Friday as working days.

    A certificate is never refused for a missing calendar year: the deadline is then at worst a
    holiday early, which errs on the employee's side.
    """
    _version, rows = table_rows(session, "production_calendar")
    return federal_calendar(rows, also_years=(around.year, around.year + 1))


def sla_row(session: Session, certificate_type: str) -> dict[str, Any] | None:
    """The ``certificate_slas`` row of a certificate type, or None when HR does not offer it."""
    _version, rows = table_rows(session, "certificate_slas")
    return next((row for row in rows if row["certificate_type"] == certificate_type), None)


def deadline(session: Session, row: dict[str, Any], filed_on: date) -> date:
    """The day the certificate is due (C-01, A33)."""
    count_filing_day = row.get("count_filing_day")
    return _calendar(session, filed_on).deadline(
        filed_on,
        int(row["working_days"]),
        count_filing_day=True if count_filing_day is None else count_filing_day,
    )


def _as_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def closed_months(year: int, today: date) -> list[int]:
    """C-05: the months of ``year`` whose payroll is closed, i.e. before the current month."""
    if year < today.year:
        return list(range(1, 13))
    if year == today.year:
        return list(range(1, today.month))
    return []


def _check(actor: User, data: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """What the schema cannot say, per type."""
    kind = data.get("certificate_type")
    problems = []
    if kind == "visa":
        start, end = _as_date(data.get("trip_from")), _as_date(data.get("trip_to"))
        if start and end and end < start:
            problems.append(_problem("trip_to", INVALID_PERIOD, "the trip ends before it starts"))
    elif kind == "ndfl":
        year = data.get("year")
        if isinstance(year, int) and year > today.year:
            problems.append(_problem("year", INVALID_YEAR, f"{year} has not begun"))
        elif isinstance(year, int) and not closed_months(year, today):
            problems.append(_problem("year", INVALID_YEAR, f"no month of {year} is closed yet (C-05)"))
        elif isinstance(year, int) and actor.hire_date and year < actor.hire_date.year:
            problems.append(_problem("year", INVALID_YEAR, f"you were not employed in {year}"))
    elif kind == "used_leave":
        as_of = _as_date(data.get("as_of"))
        if as_of and as_of > today:
            problems.append(_problem("as_of", INVALID_PERIOD, "the date is in the future"))
    return problems


def covering_leave(
    session: Session, person: User, start: date, end: date, instance_id: str | None = None
) -> leave_records.Leave | None:
    """An approved leave of ``person`` covering ``start..end`` (only ``instance_id``, when given)."""
    for leave in leave_records.leaves_of(session, [person.id]):
        if instance_id is not None and leave.instance_id != instance_id:
            continue
        if leave.status == "approved" and leave.start <= start and end <= leave.end:
            return leave
    return None


def _auto(session: Session, person: User, data: dict[str, Any], row: dict[str, Any]) -> tuple[bool, str]:
    """Whether the document can be made without HR, and if not, what HR must do.

    A visa certificate is generated when an approved leave covers the trip (hr-domain §4), whatever
    the row's ``auto`` says; the other types when the row says so and the facts they print exist.
    """
    kind = data["certificate_type"]
    if kind == "visa":
        start, end = date.fromisoformat(data["trip_from"]), date.fromisoformat(data["trip_to"])
        leave = covering_leave(session, person, start, end, data.get("leave_instance_id"))
        if leave is None:
            return False, "confirm the trip dates: no approved leave covers them"
        return True, ""
    if not row.get("auto"):
        return False, "prepare the certificate: HR issues this type by hand"
    if person.hire_date is None:
        return False, "enter the hire date: it is not on record"
    needs_salary = kind == "ndfl" or (kind == "employment" and data.get("include_salary"))
    if needs_salary and not person.monthly_salary:
        return False, "enter the salary: it is not on record"
    return True, ""


def _handler(session: Session) -> str:
    coordinator = coordinator_for(session, KEY)
    if coordinator is not None and coordinator.is_active:
        return coordinator.email
    return "role:hr"


class CertificateHooks(process_hooks.ProcessHooks):
    """Submission checks, the deadline, the auto-issue decision and the register number."""

    key = KEY

    def before_start(self, session: Session, actor: User, data: dict[str, Any]) -> dict[str, Any]:
        """Refuse what the schema cannot (422); otherwise add sla_due, auto_issue and the number."""
        today = clock.today()
        kind = data.get("certificate_type")
        row = sla_row(session, kind) if isinstance(kind, str) else None
        if row is None:
            raise InvalidData(
                "this certificate is not offered",
                [_problem("certificate_type", NO_SLA, "HR lists the certificates in certificate_slas")],
            )
        problems = _check(actor, data, today)
        leave_id = data.get("leave_instance_id")
        if kind == "visa" and leave_id is not None:
            mine = {leave.instance_id for leave in leave_records.leaves_of(session, [actor.id])}
            if str(leave_id) not in mine:
                problems.append(
                    _problem("leave_instance_id", LEAVE_UNKNOWN, "not one of your leave requests")
                )
        if problems:
            raise InvalidData(
                "the certificate request was not submitted: " + ", ".join(p["rule"] for p in problems),
                problems,
            )
        due = deadline(session, row, today)
        auto, hr_action = _auto(session, actor, data, row)
        return {
            "certificate_title": row.get("title") or kind,
            "filed_on": today.isoformat(),
            "sla_due": due.isoformat(),
            "sla_due_at": clock.local_moment(due, DUE_HOUR).isoformat(),
            "sla_working_days": int(row["working_days"]),
            "auto_issue": auto,
            "hr_action": hr_action,
            "hr_handler": _handler(session),
            "register_number": documents.next_register_number(session, documents.CERTIFICATES, today.year),
        }

    def after_start(self, session: Session, instance: ProcessInstance) -> None:
        """Nothing to book: the number was taken at submission, in the same transaction."""

    def before_complete(
        self, session: Session, instance: ProcessInstance, task: HumanTask, actor: User, data: dict[str, Any]
    ) -> dict[str, Any]:
        """HR's step: the facts the certificate prints must be on record by now, or it would print blanks."""
        if task.element_id != HR_TASK or instance.data.get("certificate_type") == "visa":
            return {}
        person = session.get(User, instance.initiator_id)
        needs_salary = instance.data.get("certificate_type") == "ndfl" or instance.data.get("include_salary")
        missing = [
            _problem(
                name,
                MISSING_FACT,
                f"{what} is not on record: HR records it with PATCH /api/v1/users/{{email}}",
            )
            for name, what, absent in (
                ("hire_date", "the hire date", person is None or person.hire_date is None),
                ("monthly_salary", "the monthly salary", bool(needs_salary) and not person.monthly_salary),
            )
            if absent
        ]
        if missing:
            raise InvalidData("the certificate cannot be issued yet", missing)
        return {}


process_hooks.register(CertificateHooks())
