"""Python hooks a shipped route may add around its BPMN: checks at submission and approval, and
bookkeeping when a request ends.

A route's diagram says who decides what, in which order. Some of what a shipped HR route must do
needs the database in ways a sandboxed script cannot: read the leave ledger, lock a department's
day slots, reserve days. A module registers one ``ProcessHooks`` per process key; the services call
the hooks at fixed points, inside the same transaction as the step, so a refused check or a failed
booking leaves nothing half-written. A process without hooks behaves exactly as before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.models import HumanTask, ProcessInstance, User


class ProcessHooks:
    """No-op base; a route overrides what it needs. Raise InvalidData to refuse with a 422."""

    key: str = ""

    def before_start(self, session: Session, actor: User, data: dict[str, Any]) -> dict[str, Any]:
        """Check a submission before anything is written; return fields to add to the instance data."""
        return {}

    def after_start(self, session: Session, instance: ProcessInstance) -> None:
        """The instance exists and ran to its first wait: record decisions, reserve what it holds."""

    def before_complete(
        self, session: Session, instance: ProcessInstance, task: HumanTask, actor: User, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Re-check under the instance lock before a task completes; return fields to add to its data."""
        return {}

    def on_finished(self, session: Session, instance: ProcessInstance) -> None:
        """The instance has just completed or been cancelled (``instance.status`` says which)."""

    def subject_id(self, instance: ProcessInstance) -> int | None:
        """The id of the person the request is about, who may see its sensitive fields.

        Usually whoever filed it; a route filed on someone else's behalf (a manager's bonus for an
        employee) names that person instead. None: nobody but HR and admins.
        """
        return instance.initiator_id


_NO_HOOKS = ProcessHooks()
_HOOKS: dict[str, ProcessHooks] = {}


def register(hooks: ProcessHooks) -> ProcessHooks:
    """Install ``hooks`` for ``hooks.key``; a later registration for the same key replaces it."""
    _HOOKS[hooks.key] = hooks
    return hooks


def unregister(process_key: str) -> None:
    """Remove the hooks of ``process_key`` (tests install their own)."""
    _HOOKS.pop(process_key, None)


def hooks_for(process_key: str) -> ProcessHooks:
    """The hooks of a process key, or ones that do nothing."""
    _load_shipped_routes()
    return _HOOKS.get(process_key, _NO_HOOKS)


def _load_shipped_routes() -> None:
    # Imported on first use, not at module load, so the route modules may import the services.
    import engine.services.routes  # noqa: F401
