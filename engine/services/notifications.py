"""Telling people: in-app notifications and e-mail (stub)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.models import HumanTask, ProcessInstance


def after_step(session: Session, instance: ProcessInstance, created: list[HumanTask]) -> None:
    """Tell assignees about tasks that arrived, and the initiator when the request was decided."""
