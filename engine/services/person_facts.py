"""Facts about people that rules need: hire date, monthly salary, shift work and qualifications.

Where each fact lives:
- ``User.hire_date`` and ``User.monthly_salary`` are columns;
- the shift-worker mark stays in ``User.flags["shift_worker"]``: the staff import has always written
  it there, next to the other employment flags, and rules read it through ``is_shift_worker``;
- qualifications are ``PersonQualification`` rows, one per code, each with its credential and validity;
- disciplinary sanctions (ст. 192: remark, reprimand, dismissal) are ``User.flags["sanctions"]``,
  ``[{type, date, lifted_on?}]`` with ISO dates, where the bonus route reads them (B-1);
- continuing-education hours (ЗЕТ) gathered toward an accreditation are ``User.flags["zet_hours"]``,
  ``{qualification code: hours}``, where the accreditation route and its sweep read them (§5.1).

Salary and sanctions are sensitive (152-ФЗ): only the person, HR and admins see them
(``visibility.sees_personal_facts``), and neither values nor names go into messages or audit
details; those carry field names and ids only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import InvalidData, NotFound
from engine.models import PersonQualification, User
from engine.models._types import utcnow
from engine.services import audit, visibility
from engine.services.users import normalise_email

SALARY_MAX = Decimal("9999999999.99")  # what Numeric(12, 2) holds
QUALIFICATION_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_.\-]{0,63}$")
CREDENTIAL_MAX = 64
FACTS = ("hire_date", "monthly_salary", "shift_worker", "qualifications", "sanctions", "shifts", "zet_hours")
ZET_HOURS_MAX = 10_000
MAX_SHIFTS = 1000
SANCTION_TYPES = ("remark", "reprimand", "dismissal")  # замечание, выговор, увольнение (ст. 192 ТК РФ)
MAX_SANCTIONS = 100
CHUNK = 500


@dataclass(frozen=True)
class Qualification:
    """A qualification as callers give it and read it back."""

    code: str
    credential_number: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "credential_number": self.credential_number,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }


def is_shift_worker(user: User) -> bool:
    """True if the person works shifts (staff import's «Сменный график», or HR's API)."""
    return bool((user.flags or {}).get("shift_worker"))


def parse_salary(text: str) -> Decimal:
    """A monthly salary in roubles as payroll writes it: ``85000``, ``85 000,50``, ``85000.50``.

    Raises ValueError (whose message never repeats the text) for anything else, a negative or zero
    amount, more than 2 decimal places, or more than ``SALARY_MAX``.
    """
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d{1,2})?", cleaned):
        raise ValueError("not an amount in roubles with at most 2 decimals, e.g. 85000 or 85 000,50")
    return check_salary(Decimal(cleaned))


def check_salary(amount: Decimal) -> Decimal:
    """``amount`` to 2 decimals if it can be a monthly salary; ValueError (without the value) if not."""
    try:
        if not amount.is_finite() or amount <= 0:
            raise ValueError("must be a positive amount in roubles")
        if amount != amount.quantize(Decimal("0.01")):
            raise ValueError("at most 2 decimal places (kopecks)")
    except InvalidOperation:
        raise ValueError("not an amount in roubles") from None
    if amount > SALARY_MAX:
        raise ValueError(f"more than {SALARY_MAX:,.2f}")
    return amount.quantize(Decimal("0.01"))


def sanctions_of(user: User) -> list[dict[str, Any]]:
    """The disciplinary sanctions HR recorded for the person, oldest first: [{type, date, lifted_on}]."""
    items = [item for item in (user.flags or {}).get("sanctions") or [] if isinstance(item, Mapping)]
    shown = [
        {"type": item.get("type"), "date": item.get("date"), "lifted_on": item.get("lifted_on")}
        for item in items
    ]
    return sorted(shown, key=lambda item: str(item["date"]))


def check_qualification_code(code: str) -> str:
    """The code upper-cased; ValueError if it is not letters, digits, ``_ . -`` (up to 64)."""
    code = code.strip().upper()
    if not QUALIFICATION_CODE.fullmatch(code):
        raise ValueError(
            "a code is 1-64 Latin letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    return code


def get_person(session: Session, email: str, *, viewer: User) -> User:
    """The person with this e-mail, if ``viewer`` may see them; NotFound alike when absent or hidden."""
    person = session.scalar(select(User).where(User.email == normalise_email(email)))
    if person is None or not visibility.can_see_person(session, viewer, person):
        raise NotFound(f"no user with e-mail {normalise_email(email)}")
    return person


def qualifications_of(session: Session, user_id: int) -> list[Qualification]:
    """The person's qualifications, by code."""
    rows = session.scalars(
        select(PersonQualification)
        .where(PersonQualification.user_id == user_id)
        .order_by(PersonQualification.code)
    )
    return [Qualification(r.code, r.credential_number, r.valid_from, r.valid_until) for r in rows]


def update_facts(
    session: Session, person: User, changes: Mapping[str, Any], *, actor: User | None
) -> list[str]:
    """Set the facts named in ``changes`` (keys of ``FACTS``); keys left out keep their value.

    ``monthly_salary`` and ``hire_date`` may be None (unknown); ``qualifications`` and
    ``sanctions`` replace the whole list. Everything is checked before anything changes:
    InvalidData lists each problem per field. Returns the names of the facts that changed, and
    records ``person.facts_changed`` with those names (never the values) when there are any.
    """
    unknown = sorted(set(changes) - set(FACTS))
    if unknown:
        raise InvalidData(
            "unknown facts",
            [{"field": name, "message": f"not a fact; use {', '.join(FACTS)}"} for name in unknown],
        )
    problems: list[dict[str, str]] = []
    salary = changes.get("monthly_salary")
    if salary is not None:
        try:
            if isinstance(salary, bool) or not isinstance(salary, (int, str, Decimal, float)):
                raise ValueError("must be an amount in roubles")
            salary = check_salary(Decimal(str(salary)))
        except InvalidOperation:
            problems.append({"field": "monthly_salary", "message": "not an amount in roubles"})
        except ValueError as exc:
            problems.append({"field": "monthly_salary", "message": str(exc)})
    hire_date = changes.get("hire_date")
    if hire_date is not None and (not isinstance(hire_date, date) or isinstance(hire_date, datetime)):
        problems.append({"field": "hire_date", "message": "must be a date, YYYY-MM-DD"})
    if "shift_worker" in changes and not isinstance(changes["shift_worker"], bool):
        problems.append({"field": "shift_worker", "message": "must be true or false"})
    wanted = None
    if "qualifications" in changes:
        wanted = _checked_qualifications(changes["qualifications"], problems)
    sanctions = None
    if "sanctions" in changes:
        sanctions = _checked_sanctions(changes["sanctions"], problems)
    shifts = None
    if "shifts" in changes:
        shifts = _checked_shifts(changes["shifts"], problems)
    zet_hours = None
    if "zet_hours" in changes:
        zet_hours = _checked_zet_hours(changes["zet_hours"], problems)
    if problems:
        raise InvalidData("the facts were not changed", problems)

    changed = []
    if "hire_date" in changes and person.hire_date != changes["hire_date"]:
        person.hire_date = changes["hire_date"]
        changed.append("hire_date")
    if "monthly_salary" in changes and person.monthly_salary != salary:
        person.monthly_salary = salary
        changed.append("monthly_salary")
    if "shift_worker" in changes and is_shift_worker(person) != changes["shift_worker"]:
        person.flags = {**(person.flags or {}), "shift_worker": changes["shift_worker"]}
        changed.append("shift_worker")
    if wanted is not None and _replace_qualifications(session, person.id, wanted):
        changed.append("qualifications")
        # A training or accreditation date recorded now updates the person's admission and
        # expired marks at once, not at the next daily sweep (§5). Imported here: they import us.
        from engine.services import accreditation, trainings

        trainings.refresh_person(session, person)
        accreditation.refresh_person(session, person)
    if sanctions is not None and sanctions != (person.flags or {}).get("sanctions", []):
        person.flags = {**(person.flags or {}), "sanctions": sanctions}
        changed.append("sanctions")
    if shifts is not None and shifts != (person.flags or {}).get("shifts"):
        person.flags = {**(person.flags or {}), "shifts": shifts}
        changed.append("shifts")
    if zet_hours is not None and zet_hours != zet_hours_of(person):
        person.flags = {**(person.flags or {}), "zet_hours": zet_hours}
        changed.append("zet_hours")
    if changed:
        audit.record(session, "person.facts_changed", actor=actor, subject_id=person.id, fields=changed)
        session.flush()
    return changed


def _checked_qualifications(items: Any, problems: list[dict[str, str]]) -> list[Qualification]:
    """The list as Qualifications; problems are appended per item field (``qualifications[1].code``)."""
    if not isinstance(items, list):
        problems.append({"field": "qualifications", "message": "must be a list"})
        return []
    result: list[Qualification] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        where = f"qualifications[{index}]"
        if isinstance(item, Qualification):
            item = item.as_dict()
        if not isinstance(item, Mapping):
            problems.append({"field": where, "message": "must be an object with a code"})
            continue
        try:
            code = check_qualification_code(str(item.get("code") or ""))
        except ValueError as exc:
            problems.append({"field": f"{where}.code", "message": str(exc)})
            continue
        if code in seen:
            problems.append({"field": f"{where}.code", "message": f"repeats qualifications[{seen[code]}]"})
            continue
        seen[code] = index
        number = (item.get("credential_number") or "").strip() or None
        if number is not None and len(number) > CREDENTIAL_MAX:
            problems.append(
                {"field": f"{where}.credential_number", "message": f"longer than {CREDENTIAL_MAX} characters"}
            )
        valid_from, valid_until = item.get("valid_from"), item.get("valid_until")
        if valid_from and valid_until and valid_until < valid_from:
            problems.append({"field": f"{where}.valid_until", "message": "is before valid_from"})
        result.append(Qualification(code, number, valid_from, valid_until))
    return result


def _checked_sanctions(items: Any, problems: list[dict[str, str]]) -> list[dict[str, str]]:
    """The list as stored in ``flags["sanctions"]``, oldest first.

    Problems are appended per item field (``sanctions[0].date``).
    """
    if not isinstance(items, list):
        problems.append({"field": "sanctions", "message": "must be a list"})
        return []
    if len(items) > MAX_SANCTIONS:
        problems.append({"field": "sanctions", "message": f"at most {MAX_SANCTIONS} sanctions"})
        return []
    result = []
    for index, item in enumerate(items):
        where = f"sanctions[{index}]"
        if not isinstance(item, Mapping):
            problems.append({"field": where, "message": "must be an object with a type and a date"})
            continue
        found = len(problems)
        if item.get("type") not in SANCTION_TYPES:
            problems.append(
                {"field": f"{where}.type", "message": f"must be one of {', '.join(SANCTION_TYPES)}"}
            )
        issued, lifted = _as_date(item.get("date")), _as_date(item.get("lifted_on"))
        if issued is None:
            problems.append(
                {"field": f"{where}.date", "message": "is required: the day of the order, YYYY-MM-DD"}
            )
        elif issued > clock.today():
            # A sanction is recorded once it is given (ст. 193: by an order), not ahead of it.
            problems.append({"field": f"{where}.date", "message": "is in the future"})
        if item.get("lifted_on") is not None and lifted is None:
            problems.append({"field": f"{where}.lifted_on", "message": "must be a date, YYYY-MM-DD"})
        elif lifted is not None and issued is not None and lifted < issued:
            problems.append({"field": f"{where}.lifted_on", "message": "is before date"})
        if len(problems) == found:
            entry = {"type": item["type"], "date": issued.isoformat()}
            if lifted is not None:
                entry["lifted_on"] = lifted.isoformat()
            result.append(entry)
    return sorted(result, key=lambda entry: (entry["date"], entry["type"]))


def zet_hours_of(user: User) -> dict[str, int]:
    """Continuing-education hours (ЗЕТ) recorded per accreditation code: {code: hours}."""
    raw = (user.flags or {}).get("zet_hours")
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool)}


def _checked_zet_hours(items: Any, problems: list[dict[str, str]]) -> dict[str, int]:
    """{code: hours} as stored in ``flags["zet_hours"]``; problems per code (``zet_hours.CODE``)."""
    if not isinstance(items, Mapping):
        problems.append({"field": "zet_hours", "message": "must be an object of qualification code: hours"})
        return {}
    result = {}
    for raw_code, hours in items.items():
        try:
            code = check_qualification_code(str(raw_code))
        except ValueError as exc:
            problems.append({"field": f"zet_hours.{raw_code}", "message": str(exc)})
            continue
        if isinstance(hours, bool) or not isinstance(hours, int) or not 0 <= hours <= ZET_HOURS_MAX:
            problems.append(
                {"field": f"zet_hours.{code}", "message": f"must be whole hours from 0 to {ZET_HOURS_MAX}"}
            )
            continue
        result[code] = hours
    return dict(sorted(result.items()))


def shifts_of(user: User) -> list[dict[str, str]] | None:
    """The shift roster HR recorded ([{id, start, end}], ISO date-times), or None when there is none."""
    raw = (user.flags or {}).get("shifts")
    return list(raw) if isinstance(raw, list) else None


def _checked_shifts(items: Any, problems: list[dict[str, str]]) -> list[dict[str, str]] | None:
    """The roster as stored in ``flags["shifts"]`` (what the leave route's replacement check reads).

    None clears it (no roster: every leave day counts as a shift). Problems are appended per item field.
    """
    if items is None:
        return None
    if not isinstance(items, list):
        problems.append({"field": "shifts", "message": "must be a list of {id, start, end}"})
        return []
    if len(items) > MAX_SHIFTS:
        problems.append({"field": "shifts", "message": f"at most {MAX_SHIFTS} shifts"})
        return []
    result = []
    for index, item in enumerate(items):
        where = f"shifts[{index}]"
        if not isinstance(item, Mapping):
            problems.append({"field": where, "message": "must be an object with start and end"})
            continue
        times = {}
        for key in ("start", "end"):
            try:
                times[key] = datetime.fromisoformat(str(item.get(key)))
            except ValueError:
                problems.append(
                    {"field": f"{where}.{key}", "message": "must be a date-time, YYYY-MM-DDTHH:MM"}
                )
        if len(times) == 2 and times["end"] <= times["start"]:
            problems.append({"field": f"{where}.end", "message": "is not after start"})
        elif len(times) == 2:
            shift_id = str(item.get("id") or index + 1)[:64]
            result.append(
                {"id": shift_id, "start": times["start"].isoformat(), "end": times["end"].isoformat()}
            )
    return sorted(result, key=lambda shift: shift["start"])


def _as_date(value: Any) -> date | None:
    """A date given as a date or ISO text; None for anything else."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _replace_qualifications(session: Session, user_id: int, wanted: list[Qualification]) -> bool:
    """Make the person's qualifications exactly ``wanted``; True if anything changed."""
    current = {q.code: q for q in qualifications_of(session, user_id)}
    target = {q.code: q for q in wanted}
    if current == target:
        return False
    session.execute(delete(PersonQualification).where(PersonQualification.user_id == user_id))
    now = utcnow()
    for q in wanted:
        session.add(PersonQualification(user_id=user_id, updated_at=now, **q.as_dict()))
    session.flush()
    return True


def sync_imported_qualifications(
    session: Session, wanted: Mapping[int, Iterable[tuple[str, date | None]]]
) -> set[int]:
    """The staff import's qualifications: per person, the codes and their ``valid_until``.

    A code with the same expiry keeps its row (and the credential number HR entered); a new expiry
    updates the row; codes absent from the file go, new ones come. Returns the ids of people whose
    qualifications changed. Works in chunks, so a 10,000-row file stays a few queries per chunk.
    """
    changed: set[int] = set()
    ids = list(wanted)
    now = utcnow()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        stored: dict[int, dict[str, tuple[int, date | None]]] = {i: {} for i in chunk}
        for row_id, user_id, code, until in session.execute(
            select(
                PersonQualification.id,
                PersonQualification.user_id,
                PersonQualification.code,
                PersonQualification.valid_until,
            ).where(PersonQualification.user_id.in_(chunk))
        ):
            stored[user_id][code] = (row_id, until)
        to_delete, to_update, to_insert = [], [], []
        for user_id in chunk:
            target = dict(wanted[user_id])
            mine = stored[user_id]
            gone = [row_id for code, (row_id, _until) in mine.items() if code not in target]
            moved = [
                {"id": row_id, "valid_until": target[code], "updated_at": now}
                for code, (row_id, until) in mine.items()
                if code in target and target[code] != until
            ]
            new = [
                {"user_id": user_id, "code": code, "valid_until": until, "updated_at": now}
                for code, until in target.items()
                if code not in mine
            ]
            if gone or moved or new:
                changed.add(user_id)
                to_delete += gone
                to_update += moved
                to_insert += new
        if to_delete:
            session.execute(
                delete(PersonQualification)
                .where(PersonQualification.id.in_(to_delete))
                .execution_options(synchronize_session=False)
            )
        if to_update:
            session.execute(update(PersonQualification), to_update)
        if to_insert:
            session.execute(insert(PersonQualification), to_insert)
    return changed
