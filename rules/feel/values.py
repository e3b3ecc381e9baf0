"""FEEL values beyond plain Python ones.

number → Decimal, string → str, boolean → bool, null → None, date → datetime.date,
time → datetime.time, date and time → datetime.datetime, days and time duration →
datetime.timedelta, years and months duration → YearsMonths, list → list, context → dict,
range → Range, function → FeelFunction / Builtin.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, order=True)
class YearsMonths:
    """A years-and-months duration, held as a signed count of months."""

    months: int

    def __str__(self) -> str:
        sign = "-" if self.months < 0 else ""
        years, months = divmod(abs(self.months), 12)
        if not years and not months:
            return "P0M"
        return sign + "P" + (f"{years}Y" if years else "") + (f"{months}M" if months else "")


@dataclass(frozen=True)
class Range:
    start_included: bool
    low: Any
    high: Any
    end_included: bool


@dataclass(frozen=True)
class Builtin:
    """A built-in function; ``params`` names its parameters for named invocation."""

    name: str
    call: Callable[..., Any]
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeelFunction:
    """A user-defined function (``function(a, b) a + b``) or a business knowledge model."""

    params: tuple[str, ...]
    body: Any  # a Node, or a Python callable taking a dict of arguments (decision tables as BKMs)
    closure: Any = None
    name: str = "function"


_DURATION = re.compile(
    r"^(-)?P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> YearsMonths | dt.timedelta:
    """ISO 8601 duration text to a FEEL duration. Raises ValueError when it is not one."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"not a duration: {text!r}")
    sign, years, months, days, hours, minutes, seconds = match.groups()
    factor = -1 if sign else 1
    if (years or months) and not (days or hours or minutes or seconds):
        return YearsMonths(factor * (int(years or 0) * 12 + int(months or 0)))
    if years or months:
        raise ValueError(f"a duration mixes years/months with days/time: {text!r}")
    delta = dt.timedelta(
        days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0), seconds=float(seconds or 0)
    )
    return -delta if sign else delta


def format_timedelta(delta: dt.timedelta) -> str:
    """A days-and-time duration as FEEL writes it (P1DT2H)."""
    total = delta.total_seconds()
    sign = "-" if total < 0 else ""
    total = abs(Decimal(str(total)))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = sign + "P" + (f"{int(days)}D" if days else "")
    clock = (f"{int(hours)}H" if hours else "") + (f"{int(minutes)}M" if minutes else "")
    if seconds:
        clock += f"{seconds.normalize():f}S"
    if clock:
        text += "T" + clock
    return text if text not in ("P", "-P") else "PT0S"


def type_name(value: Any) -> str:
    """The FEEL type name of a value, as used in messages and ``instance of``."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (Decimal, int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dt.datetime):
        return "date and time"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, dt.timedelta):
        return "days and time duration"
    if isinstance(value, YearsMonths):
        return "years and months duration"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "context"
    if isinstance(value, Range):
        return "range"
    if isinstance(value, (Builtin, FeelFunction)):
        return "function"
    return type(value).__name__
