"""The names BPMN scripts and conditions may call, and nothing else.

Every function here takes and returns JSON-friendly values (ISO date strings, numbers, lists and
dicts), because that is what task data holds. Checks return an outcome as a dict:
``{ok, code, params, message, message_ru, effect, text}`` where ``text`` is ``CODE{k:v, ...}``.

Calendar functions take an optional ``calendar``: the production-calendar rows (``{date, kind,
region, name}``) the caller evaluated against. Without it they use the federal RF calendar seeded
from ``rules.calendar.default_rows`` (2025-2027); a service that evaluates against HR's versioned
table passes its rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from rules import blocked_dates, bonus, department_limits, leave_days, shift_replacement
from rules.calendar import ProductionCalendar, default_calendar
from rules.dates import to_date

Rows = Sequence[Mapping[str, Any]]


def days_between(start: str, end: str) -> int:
    """Calendar days from ``start`` to ``end`` inclusive, both ISO dates."""
    return (date.fromisoformat(end) - date.fromisoformat(start)).days + 1


@lru_cache(maxsize=1)
def _default_calendar() -> ProductionCalendar:
    return default_calendar()


def _calendar(rows: Rows | None, region: str | None = None) -> ProductionCalendar:
    if rows is None:
        return _default_calendar()
    years = [to_date(row.get("date"), "calendar.date").year for row in rows]
    if not years:
        raise ValueError("calendar: no rows")
    return ProductionCalendar(rows, first_year=min(years), last_year=max(years), region=region)


def _booked(items: Sequence[Mapping[str, Any]]) -> list[leave_days.BookedLeave]:
    return [
        leave_days.BookedLeave(
            id=str(item.get("id", "")),
            start=to_date(item["start"], "leaves.start"),
            end=to_date(item["end"], "leaves.end"),
            leave_type=item.get("leave_type", ""),
            status=item.get("status", "approved"),
        )
        for item in items
    ]


# Calendar and day count (L-02, L-03, L-19, C-01)


def leave_days_count(start: str, end: str, calendar: Rows | None = None, region: str | None = None) -> dict:
    """L-02: days a leave charges, ``{days, calendar_days, holidays_excluded, start, end}``."""
    cal = _calendar(calendar, region)
    return leave_days.count_leave_days(cal, to_date(start, "start"), to_date(end, "end")).to_dict()


def leave_end(start: str, days: int, calendar: Rows | None = None, region: str | None = None) -> str:
    """The last day of a leave from ``start`` charging ``days`` days (A03)."""
    return leave_days.leave_end_for(
        _calendar(calendar, region), to_date(start, "start"), int(days)
    ).isoformat()


def is_working_day(day: str, calendar: Rows | None = None, region: str | None = None) -> bool:
    """True on a working day of the production calendar."""
    return _calendar(calendar, region).is_working_day(to_date(day, "day"))


def working_days_between(
    start: str, end: str, calendar: Rows | None = None, region: str | None = None
) -> int:
    """Working days in ``start..end`` inclusive."""
    return _calendar(calendar, region).working_days_between(to_date(start, "start"), to_date(end, "end"))


def add_working_days(start: str, n: int, calendar: Rows | None = None, region: str | None = None) -> str:
    """The ``n``-th working day after ``start`` (``start`` not counted)."""
    return _calendar(calendar, region).add_working_days(to_date(start, "start"), int(n)).isoformat()


def next_working_day(day: str, calendar: Rows | None = None, region: str | None = None) -> str:
    """The first working day after ``day``."""
    return _calendar(calendar, region).next_working_day(to_date(day, "day")).isoformat()


def sla_due(
    filed_on: str,
    working_days: int,
    count_filing_day: bool = True,
    calendar: Rows | None = None,
    region: str | None = None,
) -> str:
    """C-01: due date of an SLA in working days; the filing day is day 1 unless told otherwise (A33)."""
    cal = _calendar(calendar, region)
    return cal.deadline(
        to_date(filed_on, "filed_on"), int(working_days), count_filing_day=count_filing_day
    ).isoformat()


# Leave checks (L-06, L-07, L-10, L-16, L-17, overlap, max continuous)


def check_overlap(
    start: str, end: str, leaves: Sequence[Mapping[str, Any]], ignore_id: str | None = None
) -> dict:
    """``OVERLAP`` with one of the person's leaves ``[{id, start, end, status}]``, or OK."""
    return leave_days.check_overlap(
        to_date(start, "start"), to_date(end, "end"), _booked(leaves), ignore_id=ignore_id
    ).to_dict()


def check_split_rule(
    entitlement: float, taken_parts: Sequence[float], requested: float, min_part: int = 14
) -> dict:
    """L-07: ``SPLIT_14_RULE`` if no part of ``min_part`` days is left possible, or OK."""
    return leave_days.check_split_rule(entitlement, list(taken_parts), requested, min_part=min_part).to_dict()


def check_notice(filed_on: str, start: str, notice_days: int | None) -> dict:
    """L-10: ``NOTICE_TOO_SHORT`` if the leave starts sooner than ``notice_days`` after filing."""
    return leave_days.check_notice(
        to_date(filed_on, "filed_on"), to_date(start, "start"), notice_days
    ).to_dict()


def check_mandatory_unpaid(
    ground: str, used: int, requested: int, policy: str = "strict", caps: Mapping[str, int] | None = None
) -> dict:
    """L-16: the cap of a ст. 128 ч.2 ground, with ``mandatory_days`` and ``agreed_days`` (A16)."""
    return leave_days.check_mandatory_unpaid(
        ground, int(used), int(requested), policy=policy, caps=caps
    ).to_dict()


def check_max_continuous(
    start: str, end: str, leaves: Sequence[Mapping[str, Any]], max_days: int | None
) -> dict:
    """``MAX_CONTINUOUS`` when the request chained with adjacent leaves of its type is too long (A22)."""
    return leave_days.check_max_continuous(
        to_date(start, "start"), to_date(end, "end"), _booked(leaves), max_days
    ).to_dict()


def check_first_year_right(hire_date: str, start: str, must_grant: bool = False) -> dict:
    """L-06: ``EARLY_LEAVE_BY_AGREEMENT`` (a warning) for annual leave before 6 months of work (A10)."""
    return leave_days.check_first_year_right(
        to_date(hire_date, "hire_date"), to_date(start, "start"), must_grant=must_grant
    ).to_dict()


def working_years(
    hire_date: str, unpaid_days: Sequence[int], excluded_days: Sequence[int] = ()
) -> list[dict]:
    """L-05, L-17: the working years ``[{start, end}]``, each moved by unpaid days over 14 (A09)."""
    years = leave_days.working_years(to_date(hire_date, "hire_date"), list(unpaid_days), list(excluded_days))
    return [{"start": start.isoformat(), "end": end.isoformat()} for start, end in years]


# Department limit and blocked dates (D-01..D-06)


def check_department_limit(
    start: str,
    end: str,
    headcount: int,
    absent: Mapping[str, Any],
    rule: Mapping[str, Any],
    in_schedule: bool = False,
) -> dict:
    """D-01..D-04: ``DEPT_LIMIT{date, on_leave, limit}`` on the first day over the limit, and every day.

    ``absent`` maps ISO dates to a count or a list of person ids already away that day.
    """
    per_day = {to_date(day, "absent"): value for day, value in absent.items()}
    result = department_limits.check_department_limit(
        to_date(start, "start"),
        to_date(end, "end"),
        int(headcount),
        per_day,
        department_limits.LimitRule.from_dict(rule),
        in_schedule=in_schedule,
    )
    return result.to_dict()


def check_blocked_on_apply(
    start: str,
    end: str,
    blocks: Sequence[Mapping[str, Any]],
    department_codes: Sequence[str],
    leave_type: str,
    person: str | None = None,
    position: str | None = None,
    legal_bypass: bool = False,
) -> dict:
    """D-05 at submission: ``BLOCKED_DATE`` (warn or reject), ``BLOCK_BYPASS_LEGAL`` or OK."""
    return blocked_dates.check_blocked_on_apply(
        [blocked_dates.BlockPeriod.from_dict(b) for b in blocks],
        to_date(start, "start"),
        to_date(end, "end"),
        department_codes=list(department_codes),
        leave_type=leave_type,
        person=person,
        position=position,
        legal_bypass=legal_bypass,
    ).to_dict()


def check_blocked_on_approve(
    start: str,
    end: str,
    blocks: Sequence[Mapping[str, Any]],
    department_codes: Sequence[str],
    leave_type: str,
    approver: str | None,
    approver_position: str | None = None,
    legal_bypass: bool = False,
) -> dict:
    """D-05 at approval: ``BLOCKED_DATE_NOT_AUTHORIZED`` unless the approver is allow-listed (A14)."""
    return blocked_dates.check_blocked_on_approve(
        [blocked_dates.BlockPeriod.from_dict(b) for b in blocks],
        to_date(start, "start"),
        to_date(end, "end"),
        department_codes=list(department_codes),
        leave_type=leave_type,
        approver=approver,
        approver_position=approver_position,
        legal_bypass=legal_bypass,
    ).to_dict()


# Shift replacement (S-02..S-05)


def _shift(item: Mapping[str, Any]) -> shift_replacement.Shift:
    return shift_replacement.Shift(
        id=str(item["id"]),
        start=datetime.fromisoformat(item["start"]),
        end=datetime.fromisoformat(item["end"]),
        qualifications=tuple(item.get("qualifications") or ()),
    )


def check_replacement(
    requester: str,
    replacement: Mapping[str, Any],
    shifts: Sequence[Mapping[str, Any]],
    min_rest_hours: float = 0,
) -> dict:
    """S-02..S-05 for ``replacement`` ``{person_id, away, own_shifts, credentials, replaced_days}``.

    Shifts are ``{id, start, end, qualifications}`` with ISO date-times; credentials are
    ``{qualification, kind, valid_from, valid_until}``; ``away`` items are ``{start, end, kind}``.
    """
    person = shift_replacement.Replacement(
        person_id=str(replacement["person_id"]),
        away=[
            shift_replacement.Away(
                to_date(a["start"], "away.start"), to_date(a["end"], "away.end"), a.get("kind", "")
            )
            for a in replacement.get("away") or ()
        ],
        own_shifts=[_shift(s) for s in replacement.get("own_shifts") or ()],
        credentials=[
            shift_replacement.Credential(
                qualification=c["qualification"],
                kind=c.get("kind") or "credential",
                valid_from=to_date(c["valid_from"], "valid_from") if c.get("valid_from") else None,
                valid_until=to_date(c["valid_until"], "valid_until") if c.get("valid_until") else None,
            )
            for c in replacement.get("credentials") or ()
        ],
        replaced_days=frozenset(to_date(d, "replaced_days") for d in replacement.get("replaced_days") or ()),
    )
    return shift_replacement.check_replacement(
        str(requester), person, [_shift(s) for s in shifts], min_rest_hours=min_rest_hours
    ).to_dict()


# Bonuses (B-1, B-2)


def check_bonus_eligibility(employee: Mapping[str, Any], bonus_type: str, on: str) -> dict:
    """B-1: ``BONUS_NOT_ELIGIBLE`` with the reason, or OK; ``employee`` has status, hire_date, sanctions."""
    person = bonus.BonusEmployee(
        status=employee.get("status") or "active",
        hire_date=to_date(employee["hire_date"], "hire_date") if employee.get("hire_date") else None,
        sanctions=[
            bonus.Sanction(
                issued_on=to_date(s["issued_on"], "sanctions.issued_on"),
                lifted_on=to_date(s["lifted_on"], "sanctions.lifted_on") if s.get("lifted_on") else None,
            )
            for s in employee.get("sanctions") or ()
        ],
    )
    return bonus.check_bonus_eligibility(person, bonus_type, to_date(on, "on")).to_dict()


def check_bonus_limit(
    bonus_type: str, amount: float, monthly_salary: float, limits: Sequence[Mapping[str, Any]] | None = None
) -> dict:
    """B-2 rows 1-3: ``BONUS_LIMIT_EXCEEDED`` over the type's cap (A29), or OK."""
    rows = bonus.DEFAULT_LIMITS if limits is None else [bonus.BonusLimit.from_dict(row) for row in limits]
    return bonus.check_bonus_limit(bonus_type, str(amount), str(monthly_salary), rows).to_dict()


def check_bonus_fund(amount: float, fund: float, approved: float = 0, pending: float = 0) -> dict:
    """B-2 row 4: ``OVER_FUND{available}`` (escalate to the CFO) when the amount exceeds the rest (A30)."""
    left = bonus.fund_left(str(fund), str(approved), str(pending))
    return bonus.check_bonus_fund(str(amount), left).to_dict()


REGISTRY: dict[str, Any] = {
    function.__name__: function
    for function in (
        days_between,
        leave_days_count,
        leave_end,
        is_working_day,
        working_days_between,
        add_working_days,
        next_working_day,
        sla_due,
        check_overlap,
        check_split_rule,
        check_notice,
        check_mandatory_unpaid,
        check_max_continuous,
        check_first_year_right,
        working_years,
        check_department_limit,
        check_blocked_on_apply,
        check_blocked_on_approve,
        check_replacement,
        check_bonus_eligibility,
        check_bonus_limit,
        check_bonus_fund,
    )
}
