"""The leave schedule's notices (ст. 123 ч.3, ст. 124 ч.2; scenario A23).

HR keeps the schedule in the rule table ``leave_schedule``. The employee must be told each start,
under signature, no later than two weeks before it: the notice is due on start − 14 calendar days.
A daily sweep sends each notice a week before that due day (``LEAD_DAYS``), so the employee has
a week to sign, and records it. A notice still unsigned once its due day has passed gives the
employee the right to have the leave moved (ст. 124 ч.2): ``may_move`` turns true and they are told.
The due day itself still counts as in time: "no later than two weeks before" includes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import NotFound
from engine.models import LeaveScheduleNotice, User
from engine.services import notifications, rule_tables, schedules

log = logging.getLogger(__name__)

TABLE = "leave_schedule"
NOTICE_DAYS = 14  # ст. 123 ч.3: «не позднее чем за две недели до его начала»
LEAD_DAYS = 7  # the notice goes out this many days before it is due
NOTICES_PATH = "/api/v1/leave/schedule/notices"


def notice_due(start: date) -> date:
    """The last day the employee may be told of a leave starting on ``start``."""
    return start - timedelta(days=NOTICE_DAYS)


@dataclass
class SweepResult:
    """What one run of the sweep did (for tests and the log; counts only, no names)."""

    sent: list[int] = field(default_factory=list)  # notice ids
    may_move: list[int] = field(default_factory=list)
    unknown_people: int = 0


@schedules.register("leave_schedule_notices", hour=7)
def send_notices(session: Session, today: date) -> SweepResult:
    """Send the notices that are due within LEAD_DAYS, and open the right to move the late ones."""
    result = SweepResult()
    _, rows = rule_tables.table_rows(session, TABLE)
    for row in rows:
        start = date.fromisoformat(row["start"])
        due = notice_due(start)
        if today >= start or today < due - timedelta(days=LEAD_DAYS):
            continue  # already begun (nothing left to tell), or too early
        user_id = session.scalar(
            select(User.id).where(func.lower(User.email) == str(row["email"]).strip().lower(), User.is_active)
        )
        if user_id is None:
            result.unknown_people += 1
            continue
        notice = session.scalar(
            select(LeaveScheduleNotice).where(
                LeaveScheduleNotice.user_id == user_id, LeaveScheduleNotice.start == start
            )
        )
        if notice is None:
            notice = _send(session, user_id, row, start, due)
            result.sent.append(notice.id)
    result.may_move = _open_the_right_to_move(session, today)
    log.info(
        "leave schedule notices: %s sent, %s may move, %s rows name nobody",
        len(result.sent),
        len(result.may_move),
        result.unknown_people,
    )
    return result


def _send(session: Session, user_id: int, row: dict, start: date, due: date) -> LeaveScheduleNotice:
    notice = LeaveScheduleNotice(
        user_id=user_id,
        start=start,
        days=row.get("days"),
        leave_type=row.get("leave_type") or "annual",
        notice_due=due,
        sent_at=clock.now(),
        may_move=False,
    )
    session.add(notice)
    session.flush()
    notifications.notify(
        session,
        user_id,
        "leave_schedule_notice",
        _params(notice),
        dedupe_key=f"leave_schedule_notice:{notice.id}",
    )
    return notice


def _open_the_right_to_move(session: Session, today: date) -> list[int]:
    late = session.scalars(
        select(LeaveScheduleNotice).where(
            LeaveScheduleNotice.notice_due < today,
            LeaveScheduleNotice.start > today,
            LeaveScheduleNotice.acknowledged_at.is_(None),
            LeaveScheduleNotice.may_move.is_(False),
        )
    )
    opened = []
    for notice in late:
        notice.may_move = True
        notifications.notify(
            session,
            notice.user_id,
            "leave_schedule_may_move",
            _params(notice),
            dedupe_key=f"leave_schedule_may_move:{notice.id}",
        )
        opened.append(notice.id)
    return opened


def _params(notice: LeaveScheduleNotice) -> dict:
    return {
        "start": notice.start.isoformat(),
        "days": notice.days,
        "leave_type": notice.leave_type,
        "notice_due": notice.notice_due.isoformat(),
        "path": NOTICES_PATH,
    }


# --- reading and signing --------------------------------------------------------------------------


def notices_for(session: Session, viewer: User, *, email: str | None = None) -> list[LeaveScheduleNotice]:
    """The notices ``viewer`` may see: their own; HR and admins everyone's, or ``email``'s.

    Anyone else asking about another person gets NotFound, as for a person who does not exist.
    """
    query = select(LeaveScheduleNotice).order_by(LeaveScheduleNotice.start, LeaveScheduleNotice.id)
    staff = viewer.has_role("hr", "admin")
    if email is not None:
        person = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        if person is None or (person.id != viewer.id and not staff):
            raise NotFound(f"no person '{email}'")
        query = query.where(LeaveScheduleNotice.user_id == person.id)
    elif not staff:
        query = query.where(LeaveScheduleNotice.user_id == viewer.id)
    return list(session.scalars(query))


def acknowledge(session: Session, viewer: User, notice_id: int) -> LeaveScheduleNotice:
    """The employee signs their notice (once; signing again changes nothing). Others: NotFound."""
    notice = session.get(LeaveScheduleNotice, notice_id, with_for_update=True)
    if notice is None or notice.user_id != viewer.id:
        raise NotFound(f"no leave schedule notice {notice_id}")
    if notice.acknowledged_at is None:
        notice.acknowledged_at = clock.now()
    return notice


def may_move(session: Session, user_id: int, start: date) -> bool:
    """True if the scheduled leave of ``user_id`` starting ``start`` may be moved on demand (ст. 124)."""
    return bool(
        session.scalar(
            select(LeaveScheduleNotice.may_move).where(
                LeaveScheduleNotice.user_id == user_id, LeaveScheduleNotice.start == start
            )
        )
    )
