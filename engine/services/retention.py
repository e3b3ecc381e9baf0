"""Retention classes (hr-domain §6.1) and which one each process key has.

The classes are data: a name, a number of years and the norm it comes from. HR assigns a class to
each process key. Counting starts on 1 January of the year after the request closed, so a request
closed in 2025 under a 5-year class is kept to 31 December 2030 and may be purged from 2031.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidData, NotFound
from engine.models import ProcessDefinition, RetentionPolicy, User
from engine.models._types import utcnow
from engine.services import audit


@dataclass(frozen=True)
class RetentionClass:
    name: str
    years: int
    basis: str


CLASSES: dict[str, RetentionClass] = {
    c.name: c
    for c in (
        RetentionClass(
            "personnel-50y",
            50,
            "Перечень 236, ст. 434: documents to personnel orders on pay, bonuses, unpaid and parental "
            "leave, changes of personal data (50 years)",
        ),
        RetentionClass("leave-5y", 5, "Перечень 236, ст. 434: annual paid leave, study leave (5 years)"),
        RetentionClass("schedule-3y", 3, "Перечень 236, ст. 453: leave schedules (3 years)"),
        RetentionClass("certificates-5y", 5, "issued certificates: no verified norm, 5 years proposed"),
        RetentionClass("it-3y", 3, "IT requests: corporate policy (3 years)"),
        RetentionClass("social-1y", 1, "social initiatives: corporate policy (1 year)"),
    )
}

# A key nobody classified keeps its data as long as any class would: never purge too early.
FALLBACK = max(CLASSES.values(), key=lambda c: c.years).name

# Shipped defaults. leave_request carries unpaid leave (unpaid_agreed, unpaid_mandatory) as well as
# annual leave in one process; ст. 434 keeps unpaid-leave documents 50 years, and one class per key
# must cover the longest of its request kinds. Split the process to keep annual leave 5 years.
DEFAULTS: dict[str, str] = {"leave_request": "personnel-50y", "certificate": "certificates-5y"}

# Requests close in company time, which in Russia runs up to UTC+12. Reading the closing year that
# far east means a request closed late on 31 December is never counted a year early.
_EASTERNMOST_OFFSET = timedelta(hours=12)


def closing_year(closed_at: datetime) -> int:
    """The calendar year a request closed in, read so that retention never starts early."""
    return (closed_at + _EASTERNMOST_OFFSET).year


def retain_until(closed_at: datetime, retention_class: str) -> date:
    """The last day the data of a request closed at ``closed_at`` must be kept."""
    return date(closing_year(closed_at) + CLASSES[retention_class].years, 12, 31)


def closed_before_for_purge(as_of: date, retention_class: str) -> datetime:
    """Requests closed before this instant are past retention on ``as_of`` (SQL-friendly cut-off)."""
    first_purgeable_year = as_of.year - CLASSES[retention_class].years
    start = datetime(first_purgeable_year, 1, 1, tzinfo=UTC)
    return start - _EASTERNMOST_OFFSET


def class_for(session: Session, key: str) -> tuple[str, str]:
    """The retention class of ``key`` and where it comes from: "set", "default" or "fallback"."""
    row = session.get(RetentionPolicy, key)
    if row is not None:
        return row.retention_class, "set"
    if key in DEFAULTS:
        return DEFAULTS[key], "default"
    return FALLBACK, "fallback"


def list_policies(session: Session) -> list[dict]:
    """Every process key known here (deployed, set or shipped) with its class and its source."""
    keys = set(session.scalars(select(ProcessDefinition.key).distinct()))
    keys |= set(session.scalars(select(RetentionPolicy.process_key))) | set(DEFAULTS)
    result = []
    for key in sorted(keys):
        name, source = class_for(session, key)
        result.append({"process_key": key, "retention_class": name, "source": source})
    return result


def set_policy(session: Session, key: str, retention_class: str, *, actor: User | None) -> RetentionPolicy:
    """Give process key ``key`` a retention class. Raises InvalidData (unknown class), NotFound (key)."""
    if retention_class not in CLASSES:
        raise InvalidData(
            f"unknown retention class '{retention_class}'",
            [{"field": "retention_class", "message": f"one of: {', '.join(CLASSES)}"}],
        )
    known = session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.key == key).limit(1))
    if known is None and key not in DEFAULTS:
        raise NotFound(f"no process key '{key}' is deployed")
    previous, _source = class_for(session, key)
    row = session.get(RetentionPolicy, key)
    if row is None:
        row = RetentionPolicy(process_key=key)
        session.add(row)
    row.retention_class = retention_class
    row.updated_by_id = actor.id if actor is not None else None
    row.updated_at = utcnow()
    audit.record(
        session, "retention.set", actor=actor, key=key, retention_class=retention_class, previous=previous
    )
    session.flush()
    return row
