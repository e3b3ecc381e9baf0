"""Out of office: who stands in for whom, and on which days.

No background job moves tasks when a period starts. Instead:
- a task created during X's period goes to X's substitute at once (``final_substitute``), and
- a task X already held stays X's row, but while X is away their substitute sees it in the inbox and
  may act on it (``acting_for``); the claim or completion then records that it was done for X.
So a period that starts tomorrow takes effect tomorrow, and one that ends stops counting the day after,
with nothing to schedule or undo.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import InvalidData, NotFound
from engine.models import Substitution, User
from engine.models._types import utcnow
from engine.services import audit
from engine.services.users import normalise_email


def today() -> date:
    """The calendar day periods are compared with (the company's date)."""
    return clock.today()


def _open_periods():
    """Periods nobody ended early."""
    return select(Substitution).where(Substitution.ended_at.is_(None))


def away_on(session: Session, on: date | None = None) -> dict[int, int]:
    """Who is away on ``on`` (default today): absent user id → substitute id."""
    on = on or today()
    rows = session.scalars(
        _open_periods()
        .where(Substitution.starts_on <= on, Substitution.ends_on >= on)
        .order_by(Substitution.id)
    )
    return {row.user_id: row.substitute_id for row in rows}


def final_substitute(away: dict[int, int], user_id: int) -> int:
    """Whom ``user_id``'s work goes to: their substitute, or that person's substitute if they are away too.

    Stops before a loop, so a chain A → B → A ends at B.
    """
    seen = {user_id}
    current = user_id
    while current in away and away[current] not in seen:
        current = away[current]
        seen.add(current)
    return current


def acting_for(session: Session, user: User, on: date | None = None) -> frozenset[int]:
    """The ids of the people whose work ``user`` does today because they are away."""
    away = away_on(session, on)
    if not away:
        return frozenset()
    return frozenset(x for x in away if x != user.id and final_substitute(away, x) == user.id)


def current_period(session: Session, user: User, on: date | None = None) -> Substitution | None:
    """The user's period that is running or still to come, or None."""
    on = on or today()
    query = (
        _open_periods()
        .where(Substitution.user_id == user.id, Substitution.ends_on >= on)
        .order_by(Substitution.starts_on, Substitution.id)
        .limit(1)
    )
    return session.scalar(query)


def set_away(
    session: Session,
    *,
    user: User,
    substitute_email: str,
    starts_on: date,
    ends_on: date,
    on: date | None = None,
) -> Substitution:
    """Name a substitute for ``user`` from ``starts_on`` to ``ends_on`` (both inclusive).

    Replaces the user's running or future period. Raises InvalidData when the dates are out of order
    or in the past, the substitute is not another active user, or the substitute's own periods lead
    back to ``user`` on some day of this one.
    """
    on = on or today()
    problems = []
    if ends_on < starts_on:
        problems.append({"field": "to", "message": "must be on or after 'from'"})
    elif ends_on < on:
        problems.append({"field": "to", "message": "the period is already over"})
    substitute = session.scalar(select(User).where(User.email == normalise_email(substitute_email)))
    if substitute is None or not substitute.is_active:
        problems.append({"field": "substitute_email", "message": "no active user has this e-mail"})
    elif substitute.id == user.id:
        problems.append({"field": "substitute_email", "message": "you cannot stand in for yourself"})
    elif not problems and _leads_back(session, substitute.id, user.id, starts_on, ends_on):
        problems.append(
            {
                "field": "substitute_email",
                "message": "the substitute is away then and their substitutes lead back to you",
            }
        )
    if problems:
        raise InvalidData("the out-of-office period is not valid", problems)
    replaced = _end_open_periods(session, user, on)
    period = Substitution(user_id=user.id, substitute_id=substitute.id, starts_on=starts_on, ends_on=ends_on)
    session.add(period)
    session.flush()
    audit.record(
        session,
        "away.set",
        actor=user,
        subject_id=user.id,
        period_id=period.id,
        substitute_id=substitute.id,
        starts_on=starts_on.isoformat(),
        ends_on=ends_on.isoformat(),
        replaced=replaced,
    )
    return period


def end_away(session: Session, *, user: User, on: date | None = None) -> None:
    """End the user's running or future period. Raises NotFound when there is none."""
    ended = _end_open_periods(session, user, on or today())
    if not ended:
        raise NotFound("you have no out-of-office period")
    audit.record(session, "away.ended", actor=user, subject_id=user.id, period_ids=ended)


def _end_open_periods(session: Session, user: User, on: date) -> list[int]:
    rows = session.scalars(_open_periods().where(Substitution.user_id == user.id, Substitution.ends_on >= on))
    now = utcnow()
    ended = []
    for row in rows:
        row.ended_at = now
        ended.append(row.id)
    session.flush()
    return ended


def _leads_back(session: Session, start_id: int, user_id: int, starts_on: date, ends_on: date) -> bool:
    """True if on some day of [starts_on, ends_on] the substitutes from ``start_id`` lead to ``user_id``."""
    periods: dict[int, list[Substitution]] = {}
    for row in session.scalars(
        _open_periods().where(Substitution.ends_on >= starts_on, Substitution.starts_on <= ends_on)
    ):
        periods.setdefault(row.user_id, []).append(row)
    # Walk the chain carrying the window of days on which every hop so far holds.
    frontier = [(start_id, starts_on, ends_on)]
    seen: set[tuple[int, date, date]] = set()
    while frontier:
        person, first, last = frontier.pop()
        if person == user_id:
            return True
        if (person, first, last) in seen:
            continue
        seen.add((person, first, last))
        for row in periods.get(person, []):
            window = (max(first, row.starts_on), min(last, row.ends_on))
            if window[0] <= window[1] and row.user_id != user_id:
                frontier.append((row.substitute_id, *window))
    return False
