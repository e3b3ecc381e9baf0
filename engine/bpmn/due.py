"""Due times of user tasks, from camunda:dueDate: an ISO 8601 duration or date-time, or ${expr}."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.bpmn.assignment import AssignmentError, parse_assignment

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


class DueDateError(ValueError):
    """The due date is neither a duration nor a date-time."""


def parse_due(value: str, now: datetime) -> datetime:
    """Turn ``P3D``, ``PT48H`` or ``2026-12-01T09:00:00Z`` into an aware UTC datetime."""
    text = value.strip()
    match = _DURATION.match(text)
    if match and text not in ("P", "PT") and any(match.groupdict().values()):
        parts = {k: float(v) for k, v in match.groupdict().items() if v}
        return now + timedelta(**parts)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DueDateError(
            f"due date '{value}' is neither an ISO 8601 duration (P3D, PT48H) nor a date-time"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def check_due(value: str) -> None:
    """Deploy-time check of a due-date attribute. Raises DueDateError or AssignmentError."""
    kind, text = parse_assignment(value)
    if kind == "literal":
        parse_due(text, datetime.now(UTC))


def resolve_due(value: str, evaluate, now: datetime) -> datetime:
    """The due time of a task now becoming ready; ``evaluate`` runs ${...} in the sandbox."""
    kind, text = parse_assignment(value)
    result: Any = evaluate(text) if kind == "expression" else text
    if isinstance(result, datetime):
        return result if result.tzinfo else result.replace(tzinfo=UTC)
    if not isinstance(result, str):
        raise DueDateError(f"due date '{value}' gave {type(result).__name__}, not text")
    return parse_due(result, now)


__all__ = ["AssignmentError", "DueDateError", "check_due", "parse_due", "resolve_due"]
