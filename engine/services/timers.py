"""Timers as due rows: BPMN timer events, start timers, and human-task SLA policies (stub, filled in #6)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.models import HumanTask, ProcessInstance


def sync_instance(
    session: Session, instance: ProcessInstance, workflow, definition, created: list[HumanTask]
) -> None:
    """Bring the instance's timer rows in line with what its workflow now waits for."""


def on_instance_closed(session: Session, instance: ProcessInstance) -> None:
    """Cancel the pending timers of an instance that was cancelled or finished."""


def fire_due(factory, *, limit: int = 100) -> int:
    """Claim due timer rows (FOR UPDATE SKIP LOCKED) and fire each; returns how many fired."""
    return 0
