"""FEEL errors: what a modeler sees when an expression cannot be read or run."""

from __future__ import annotations


class FeelError(Exception):
    """Base of every FEEL problem."""


class FeelSyntaxError(FeelError):
    """The text is not a FEEL expression we can read; ``position`` is a 0-based character offset."""

    def __init__(self, message: str, position: int | None = None):
        where = f" (at character {position + 1})" if position is not None else ""
        super().__init__(f"{message}{where}")
        self.position = position


class FeelEvaluationError(FeelError):
    """Evaluation failed in a way FEEL does not turn into null (used internally, then nulled)."""
