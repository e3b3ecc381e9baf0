"""The names BPMN scripts and conditions may call, and nothing else."""

from __future__ import annotations

from datetime import date
from typing import Any


def days_between(start: str, end: str) -> int:
    """Calendar days from ``start`` to ``end`` inclusive, both ISO dates."""
    return (date.fromisoformat(end) - date.fromisoformat(start)).days + 1


REGISTRY: dict[str, Any] = {
    "days_between": days_between,
}
