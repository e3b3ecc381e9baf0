"""The engine's error hierarchy. The web layer maps each class to an HTTP status once."""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    """Base class for every error the engine reports to a caller.

    ``details`` carries machine-readable specifics (field errors, a validation report).
    """

    def __init__(self, message: str, details: Any = None):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(EngineError):
    """The object does not exist, or the caller may not know that it exists."""


class Forbidden(EngineError):
    """The caller may see the object but not do this to it."""


class Conflict(EngineError):
    """The object is not in a state that allows the action (already done, duplicate key)."""


class InvalidData(EngineError):
    """Input failed validation; ``details`` lists the problems per field."""


class InvalidBundle(EngineError):
    """A deployed bundle was refused; ``details`` is a list of report entries."""


class InstanceFailed(EngineError):
    """The workflow raised an error while running; the step was rolled back.

    ``instance_id`` and ``task_id`` are set when a running instance failed, so the caller can
    record the failure on it once the step is rolled back (``instances.record_step_failure``).
    """

    instance_id = None
    task_id = None
