"""Service tasks run in the background: a step leaves them started, a job completes them (stub)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.models import ProcessInstance


def schedule_started(session: Session, instance: ProcessInstance, workflow) -> None:
    """Enqueue a job for every service task the step left started."""
