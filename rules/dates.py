"""Small date helpers the calculators share: month and year arithmetic, ISO parsing."""

from __future__ import annotations

from datetime import date


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months``; a day missing in the target month becomes that month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def add_years(day: date, years: int) -> date:
    """``day`` moved by ``years``; 29 February becomes 1 March in a year without it."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def to_date(value: date | str, field: str = "date") -> date:
    """An ISO date string (or a date) as a date.

    Raises:
        ValueError: the value is not an ISO date; the message names ``field``.
    """
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{field}: {value!r} is not an ISO date (YYYY-MM-DD)") from None
