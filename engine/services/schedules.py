"""Recurring sweeps (daily reminder checks for accreditation and training), run by the timer scheduler.

A sweep registers here with the local hour it runs at. The scheduler keeps one SCHEDULE timer
row per sweep; when it is due it calls the sweep with the company's date and writes the next
day's due time, so a sweep missed while every worker was down runs once when one comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

Sweep = Callable[[Session, date], None]


@dataclass(frozen=True)
class Schedule:
    """A registered sweep."""

    name: str
    fn: Sweep
    hour: int  # local hour of the day it runs at


_SCHEDULES: dict[str, Schedule] = {}


def register(name: str, *, hour: int = 6) -> Callable[[Sweep], Sweep]:
    """Decorator: run ``fn(session, today)`` once a day at ``hour`` local time."""

    def decorate(fn: Sweep) -> Sweep:
        _SCHEDULES[name] = Schedule(name, fn, hour)
        return fn

    return decorate


def all_schedules() -> dict[str, Schedule]:
    """The registered sweeps by name."""
    return dict(_SCHEDULES)
