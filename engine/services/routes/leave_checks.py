"""The leave route's rule checks, run on the current rule-table rows (hr-domain §1-§2).

``check_submission`` evaluates a start form: the period, the day count (L-02/L-03), overlap, the
leave type's max continuous days (A22), balance, the 14-day split (L-07), notice (L-10), the
first-year right (L-06), mandatory unpaid caps (L-16), blocked dates (D-05), the department limit
(D-01..D-04) and the shift replacement (S-01..S-05).
``check_approval`` re-checks what can change while a request waits: blocked dates against the
approver's allow-list and the department limit, under the department's lock (D-07).

Each check becomes an ``Evaluation`` (rule, outcome, inputs, table versions) that the route stores as
a decision record. Inputs hold ids, dates and numbers, never names or e-mails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Department, User
from engine.services import leave_ledger, leave_schedule, org, person_facts
from engine.services.routes import leave_records
from engine.services.rule_tables import table_rows
from rules import leave_days, outcomes
from rules.blocked_dates import BlockPeriod, check_blocked_on_apply, check_blocked_on_approve
from rules.calendar import ProductionCalendar, federal_calendar
from rules.dates import add_months
from rules.department_limits import Absence, LimitRule, absent_per_day, check_department_limit
from rules.leave_days import BookedLeave
from rules.outcomes import Effect, Outcome, problem
from rules.shift_replacement import Credential, Replacement, check_replacement, check_replacement_named

MAX_PERIOD_DAYS = 366


@dataclass
class Evaluation:
    """One rule evaluated for a request: what a decision record stores."""

    rule: str
    outcome: Outcome
    inputs: dict[str, Any]
    tables: dict[str, int]
    field: str = "start"

    def problem(self) -> dict[str, Any]:
        """The 422 error entry for a refused rule."""
        return {
            "field": self.field,
            "rule": self.outcome.code,
            "params": outcomes.plain(dict(self.outcome.params)),
            "message": self.outcome.message,
        }


@dataclass
class Result:
    """All evaluations of one check run, and what the route keeps in the instance data."""

    evaluations: list[Evaluation] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    def add(self, evaluation: Evaluation) -> Outcome:
        self.evaluations.append(evaluation)
        outcome = evaluation.outcome
        if outcome.effect is Effect.REJECT and not outcome.ok:
            self.problems.append(evaluation.problem())
        elif outcome.effect is Effect.WARN and outcome.code not in self.flags:
            self.flags.append(outcome.code)
        return outcome


@dataclass(frozen=True)
class Tables:
    """The rule-table rows a check run reads, with their versions."""

    versions: dict[str, int]
    rows: dict[str, list[dict[str, Any]]]

    @classmethod
    def load(cls, session: Session, *names: str) -> Tables:
        versions, rows = {}, {}
        for name in names:
            versions[name], rows[name] = table_rows(session, name)
        return cls(versions, rows)

    def only(self, *names: str) -> dict[str, int]:
        return {name: self.versions[name] for name in names}


def _period(data: Mapping[str, Any], today: date) -> tuple[date, date] | list[dict[str, Any]]:
    try:
        start, end = date.fromisoformat(data["start"]), date.fromisoformat(data["end"])
    except (KeyError, TypeError, ValueError):
        return [problem("start", outcomes.INVALID_PERIOD, "start and end must be ISO dates")]
    if end < start:
        outcome = outcomes.failed(outcomes.INVALID_PERIOD, start=start, end=end)
        return [problem("end", outcome.code, outcome.message, start=start, end=end)]
    if start < today:
        return [
            problem(
                "start",
                "START_IN_PAST",
                f"the leave starts on {start.isoformat()}, before today ({today.isoformat()})",
                start=start,
                today=today,
            )
        ]
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        return [
            problem(
                "end",
                "PERIOD_TOO_LONG",
                f"a request covers at most {MAX_PERIOD_DAYS} calendar days",
                max=MAX_PERIOD_DAYS,
            )
        ]
    return start, end


def _calendar_covers(calendar: ProductionCalendar | None, start: date, end: date) -> list[dict[str, Any]]:
    if calendar is not None and calendar.first_year <= start.year and end.year <= calendar.last_year:
        return []
    missing = sorted({start.year, end.year})
    return [
        problem(
            "start",
            "CALENDAR_MISSING",
            f"the production calendar has no rows for {', '.join(map(str, missing))}; HR must add the year",
            years=missing,
        )
    ]


def _leave_type_row(tables: Tables, code: str) -> dict[str, Any] | None:
    return next((row for row in tables.rows["leave_types"] if row.get("code") == code), None)


def _booked(leaves: list[leave_records.Leave]) -> list[BookedLeave]:
    return [
        BookedLeave(leave.instance_id, leave.start, leave.end, leave.leave_type, leave.status)
        for leave in leaves
    ]


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def check_submission(session: Session, actor: User, data: Mapping[str, Any], *, today: date) -> Result:
    """Every submission rule for ``actor``'s start form ``data``; the caller refuses if ``problems``."""
    result = Result()
    period = _period(data, today)
    if isinstance(period, list):
        result.problems += period
        return result
    start, end = period
    tables = Tables.load(
        session,
        "leave_types",
        "production_calendar",
        "unpaid_leave_grounds",
        "blocked_dates",
        "department_limits",
        "qualifications",
    )
    leave_type = str(data["leave_type"])
    policy = _leave_type_row(tables, leave_type)
    if policy is None:
        result.problems.append(
            problem(
                "leave_type", "UNKNOWN_LEAVE_TYPE", f"leave type {leave_type} is not in the leave_types table"
            )
        )
        return result
    calendar = federal_calendar(tables.rows["production_calendar"])
    result.problems += _calendar_covers(calendar, start, end)
    if result.problems:
        return result

    days = _day_count(result, tables, calendar, policy, start, end)
    if days is None:
        return result
    mine = leave_records.leaves_of(session, [actor.id])
    result.add(
        Evaluation(
            "overlap",
            leave_days.check_overlap(start, end, _booked(mine)),
            {"start": start, "end": end, "active_leaves": len(mine)},
            {},
        )
    )
    _max_continuous(result, tables, policy, mine, start, end)
    if policy.get("needs_balance"):
        _balance(session, result, tables, actor, leave_type, days, today)
    if leave_type == "annual":
        _split(session, result, tables, actor, policy, mine, start, days)
        if actor.hire_date is not None:
            result.add(
                Evaluation(
                    "L-06 first-year right",
                    leave_days.check_first_year_right(actor.hire_date, start),
                    {"hire_date": actor.hire_date, "start": start},
                    {},
                )
            )
    notice = policy.get("needs_notice_days") or 0
    result.add(
        Evaluation(
            "L-10 notice",
            leave_days.check_notice(today, start, notice),
            {"filed_on": today, "start": start, "notice_days": notice},
            tables.only("leave_types"),
        )
    )
    legal = False
    result.data.update(manager_needed=True, mandatory_days=0, agreed_days=0)
    if leave_type == "unpaid_mandatory":
        legal = _mandatory_unpaid(result, tables, actor, data, mine, start, days)
    _scheduled_move(session, result, actor, data)
    department = session.scalar(select(Department).where(Department.code == actor.department))
    _blocked_on_apply(session, result, tables, actor, department, leave_type, start, end, legal)
    _department_limit(session, result, tables, actor, start, end, legal, exclude=None)
    _replacement(session, result, tables, actor, data, start, end)
    result.data.update(
        days=days,
        leave_status="pending",
        director_needed=result.data.get("director_needed", False),
        director=_director_of(session, department),
        flags=result.flags,
    )
    return result


def _scheduled_move(session: Session, result: Result, actor: User, data: Mapping[str, Any]) -> None:
    """A23: moving a scheduled leave whose notice came late is the employee's right (ст. 124 ч.2).

    Such a request needs no manager's consent, so the manager's step (where a refusal happens) is
    skipped; any other move of a scheduled leave is agreed with the manager as usual.
    """
    moved = data.get("moves_scheduled_start")
    if not moved:
        return
    try:
        start = date.fromisoformat(str(moved))
    except ValueError:
        return  # the form's date format already refused it
    if leave_schedule.may_move(session, actor.id, start):
        result.data.update(manager_needed=False, scheduled_move_by_right=True)


def _day_count(result, tables, calendar, policy, start, end) -> int | None:
    if policy.get("counts_holidays", True):
        outcome = outcomes.passed(days=(end - start).days + 1, calendar_days=(end - start).days + 1)
    else:
        outcome = leave_days.check_day_count(calendar, start, end)
    result.add(
        Evaluation(
            "L-02 day count",
            outcome,
            {"start": start, "end": end, "counts_holidays": bool(policy.get("counts_holidays", True))},
            tables.only("leave_types", "production_calendar"),
            field="end",
        )
    )
    return outcome.params.get("days") if outcome.ok else None


def _max_continuous(result, tables, policy, mine, start, end) -> None:
    """A22: a run of one leave type, the person's touching pending and approved requests chained in."""
    limit = policy.get("max_continuous")
    if not limit:
        return  # the type sets no limit: nothing to evaluate or record
    same_type = [leave for leave in mine if leave.leave_type == policy["code"]]
    result.add(
        Evaluation(
            "max continuous days",
            leave_days.check_max_continuous(start, end, _booked(same_type), limit),
            {
                "leave_type": policy["code"],
                "start": start,
                "end": end,
                "max_continuous": limit,
                "same_type_leaves": [leave.instance_id for leave in same_type],
            },
            tables.only("leave_types"),
            field="end",
        )
    )


def _balance(session, result, tables, actor, leave_type, days, today) -> None:
    figures = leave_ledger.balance(session, actor, today).balances.get(leave_type)
    available = figures.available if figures is not None else Decimal(0)
    if available >= days:
        outcome = outcomes.passed(available=_number(available), requested=days)
    else:
        outcome = outcomes.failed(outcomes.INSUFFICIENT_BALANCE, available=_number(available), requested=days)
    result.add(
        Evaluation(
            "balance",
            outcome,
            {"leave_type": leave_type, "as_of": today, "available": _number(available), "requested": days},
            tables.only("leave_types"),
        )
    )


def _split(session, result, tables, actor, policy, mine, start, days) -> None:
    entitlement = policy.get("days_per_year") or 0
    year_start = leave_ledger.working_year_start(session, actor, start)
    year_end = add_months(year_start, 12) - timedelta(days=1)
    parts = [
        leave.days for leave in mine if leave.leave_type == "annual" and year_start <= leave.start <= year_end
    ]
    result.add(
        Evaluation(
            "L-07 split",
            leave_days.check_split_rule(entitlement, parts, days),
            {"entitlement": entitlement, "taken_parts": parts, "requested": days, "working_year": year_start},
            tables.only("leave_types"),
        )
    )


def _mandatory_unpaid(result, tables, actor, data, mine, start, days) -> bool:
    """L-16; True when the employer must grant (some of) the leave."""
    ground = str(data.get("reason") or "")
    caps = {row["code"]: int(row["cap_days"]) for row in tables.rows["unpaid_leave_grounds"]}
    policies = {row["code"]: row.get("cap_policy") or "split" for row in tables.rows["unpaid_leave_grounds"]}
    policy = policies.get(ground, "split")
    used = sum(
        int(leave.data.get("mandatory_days") or 0)
        for leave in mine
        if leave.leave_type == "unpaid_mandatory"
        and leave.data.get("reason") == ground
        and leave.start.year == start.year
    )
    split = leave_days.check_mandatory_unpaid(ground, used, days, policy=policy, caps=caps)
    result.add(
        Evaluation(
            "L-16 mandatory unpaid cap",
            split.outcome,
            {"ground": ground, "used": used, "requested": days, "policy": policy},
            tables.only("unpaid_leave_grounds"),
            field="reason",
        )
    )
    result.data.update(
        mandatory_days=split.mandatory_days,
        agreed_days=split.agreed_days,
        # A17: within the cap the manager cannot refuse; only the days over it need agreement.
        manager_needed=split.agreed_days > 0,
    )
    return split.mandatory_days > 0


def _blocks(tables: Tables) -> list[BlockPeriod]:
    return [BlockPeriod.from_dict(row) for row in tables.rows["blocked_dates"]]


def department_codes(session: Session, department: Department | None) -> set[str]:
    """The department's code and its parents', which blocks on a parent also cover."""
    if department is None:
        return set()
    return {department.code, *(d.code for d in org.ancestors(session, department))}


def _blocked_on_apply(session, result, tables, actor, department, leave_type, start, end, legal) -> None:
    outcome = check_blocked_on_apply(
        _blocks(tables),
        start,
        end,
        department_codes=department_codes(session, department),
        leave_type=leave_type,
        person=actor.email,
        position=actor.position,
        legal_bypass=legal,
    )
    result.add(
        Evaluation(
            "D-05 blocked dates",
            outcome,
            {"start": start, "end": end, "department": actor.department, "legal_bypass": legal},
            tables.only("blocked_dates"),
        )
    )


def _limit_rule(tables: Tables, code: str | None) -> dict[str, Any] | None:
    rows = tables.rows["department_limits"]
    own = next((row for row in rows if row.get("department") == code), None)
    return own or next((row for row in rows if row.get("department") == "*"), None)


def _department_limit(session, result, tables, actor, start, end, legal, *, exclude) -> Outcome | None:
    """D-01..D-04 over approved leave of the department (a slot is taken when a leave is approved)."""
    row = _limit_rule(tables, actor.department)
    if actor.department is None or row is None:
        return None
    rule = LimitRule.from_dict({**row, "count_pending": False})
    members = leave_records.department_members(session, actor.department)
    leaves = leave_records.leaves_of(session, [m.id for m in members], exclude=exclude)
    absences = [
        _absence(leave) for leave in leaves if leave.status == "approved" and leave.user_id != actor.id
    ]
    absent = absent_per_day(absences, start, end, rule)
    check = check_department_limit(start, end, len(members), absent, rule)
    outcome = check.outcome
    if legal and not outcome.ok:
        # D-05: leave the employer must grant is not blocked by a company limit; it is only flagged.
        outcome = outcomes.failed(outcomes.DEPT_LIMIT, Effect.WARN, **outcome.params)
    result.add(
        Evaluation(
            "D-01 department limit",
            outcome,
            {
                "department": actor.department,
                "headcount": len(members),
                "start": start,
                "end": end,
                "mode": rule.mode,
                "legal": legal,
            },
            tables.only("department_limits"),
        )
    )
    if outcome.effect is Effect.ESCALATE:
        result.data["director_needed"] = True
    return outcome


def _absence(leave: leave_records.Leave) -> Absence:
    """A leave as the department-limit calculator counts it."""
    return Absence(str(leave.user_id), leave.start, leave.end, leave.status)


def _director_of(session: Session, department: Department | None) -> str | None:
    """The head of the top department above the requester's: who decides over the limit."""
    if department is None:
        return None
    chain = [department, *org.ancestors(session, department)]
    head_id = chain[-1].head_id
    head = session.get(User, head_id) if head_id is not None else None
    return head.email if head is not None else None


def _replacement(session, result, tables, actor, data, start, end) -> None:
    """S-01..S-05 for a shift worker; others need no replacement."""
    result.data["needs_replacement"] = False
    if not person_facts.is_shift_worker(actor):
        return
    try:
        needed = tuple(q.code for q in person_facts.qualifications_of(session, actor.id))
        shifts = leave_records.shifts_during(actor, start, end, needed)
    except ValueError as exc:
        result.problems.append(problem("replacement", "ROSTER_INVALID", f"the requester's roster: {exc}"))
        return
    email = (data.get("replacement") or "").strip().lower()
    named = result.add(
        Evaluation(
            "S-01 replacement named",
            check_replacement_named(shifts, email or None),
            {"shifts": [s.id for s in shifts]},
            {},
            field="replacement",
        )
    )
    if not named.ok or not shifts:
        return
    colleague = session.scalar(select(User).where(User.email == email))
    if colleague is None or not colleague.is_active:
        result.problems.append(
            problem("replacement", "REPLACEMENT_UNKNOWN", "no active colleague has this e-mail")
        )
        return
    try:
        own = leave_records.roster(colleague) or []
    except ValueError as exc:
        result.problems.append(problem("replacement", "ROSTER_INVALID", f"the replacement's roster: {exc}"))
        return
    candidate = Replacement(
        person_id=str(colleague.id),
        away=leave_records.away_periods(
            session, colleague, start - timedelta(days=1), end + timedelta(days=1)
        ),
        own_shifts=own,
        credentials=[
            Credential(q.code, q.code.lower(), q.valid_from, q.valid_until)
            for q in person_facts.qualifications_of(session, colleague.id)
        ],
    )
    result.add(
        Evaluation(
            "S-02..S-05 replacement",
            check_replacement(str(actor.id), candidate, shifts),
            {
                "requester_id": actor.id,
                "replacement_id": colleague.id,
                "shifts": [s.id for s in shifts],
                "qualifications": list(needed),
            },
            tables.only("qualifications"),
            field="replacement",
        )
    )
    result.data.update(needs_replacement=True, replacement=email, replacement_id=colleague.id)


def check_approval(
    session: Session,
    requester: User,
    approver: User,
    data: Mapping[str, Any],
    instance_id: str,
    *,
    director: bool,
) -> Result:
    """Approval-time checks: blocked dates against the approver's allow-list, then the department
    limit under the department's lock. The director's own approval overrides the limit (D-04)."""
    result = Result()
    start, end = date.fromisoformat(data["start"]), date.fromisoformat(data["end"])
    tables = Tables.load(session, "blocked_dates", "department_limits")
    legal = data.get("leave_type") == "unpaid_mandatory" and int(data.get("mandatory_days") or 0) > 0
    department = session.scalar(select(Department).where(Department.code == requester.department))
    outcome = check_blocked_on_approve(
        _blocks(tables),
        start,
        end,
        department_codes=department_codes(session, department),
        leave_type=str(data.get("leave_type")),
        approver=approver.email,
        approver_position=approver.position,
        legal_bypass=legal,
    )
    result.add(
        Evaluation(
            "D-05 blocked dates at approval",
            outcome,
            {"start": start, "end": end, "approver_id": approver.id, "legal_bypass": legal},
            tables.only("blocked_dates"),
        )
    )
    if requester.department is not None:
        leave_records.lock_department(session, requester.department)
    limit = _department_limit(session, result, tables, requester, start, end, legal, exclude=instance_id)
    if director and limit is not None and not limit.ok:
        # The director decides over the limit: the breach is recorded, not refused.
        result.problems = [p for p in result.problems if p["rule"] != outcomes.DEPT_LIMIT]
    return result
