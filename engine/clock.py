"""The one clock of approute: real time, which tests (and only tests) may set and move forward.

Timers, SLAs, reminders and every ``created_at`` read it, and SpiffWorkflow's timer events are
pointed at it too, so a test can carry an instance across a weekend without waiting for one.
The company's working days are counted in its own time zone (APPROUTE_TIMEZONE, Europe/Moscow
by default): a reminder "after 2 working days" lands on a local working day.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Europe/Moscow"

_lock = threading.Lock()
_offset = timedelta(0)


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC) + _offset


def company_timezone() -> tzinfo:
    """The time zone working days are counted in."""
    return ZoneInfo(os.environ.get("APPROUTE_TIMEZONE") or DEFAULT_TIMEZONE)


def today() -> date:
    """Today's date where the company is."""
    return now().astimezone(company_timezone()).date()


def local_moment(day: date, hour: int = 9) -> datetime:
    """``hour`` o'clock of ``day`` in the company's time zone, as an aware UTC datetime."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=company_timezone()).astimezone(UTC)


def advance(delta: timedelta) -> None:
    """Move the clock forward (tests). It never moves back, as real time does not."""
    global _offset
    if delta < timedelta(0):
        raise ValueError("the clock only moves forward")
    with _lock:
        _offset += delta


def travel_to(moment: datetime) -> None:
    """Set the clock to ``moment``, past or future (tests: a scenario's day); it runs on from there."""
    global _offset
    with _lock:
        _offset = moment - datetime.now(UTC)


def reset() -> None:
    """Back to real time (tests, between cases)."""
    global _offset
    with _lock:
        _offset = timedelta(0)
