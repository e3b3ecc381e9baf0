"""The registry of service-task operators: what a BPMN service task may call by name.

An operator is a function ``fn(call) -> result``. It runs in a background job, inside the
transaction that completes its service task, so what it writes to the database commits together
with the step. ``result`` must be JSON (a dict, list, text, number or None); it is stored in the
task data under the task's result variable. An operator that raises is retried with exponential
backoff, up to ``retries`` times after the first attempt, and then opens an incident.

Operators that need no framework register in engine (``record_leave``, ``notify``); those that
render templates or documents register from worker/ (``render_document``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from engine.config import Settings
from engine.models import ProcessInstance


@dataclass
class OperatorCall:
    """What an operator is given: the open session, the instance (locked), and its parameters."""

    session: Session
    instance: ProcessInstance
    task_id: uuid.UUID
    element_id: str
    params: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)  # the task's data, a copy: read, do not write
    settings: Settings | None = None
    delivery_id: str = ""  # stable across retries of this task's job: receivers dedupe by it


Operator = Callable[[OperatorCall], Any]


@dataclass(frozen=True)
class OperatorSpec:
    """A registered operator and its retry policy."""

    name: str
    fn: Operator
    retries: int
    backoff_base: float
    description: str


_OPERATORS: dict[str, OperatorSpec] = {}


def register(
    name: str, *, retries: int = 3, backoff_base: float = 2.0, description: str = ""
) -> Callable[[Operator], Operator]:
    """Decorator: make ``fn`` callable from service tasks as ``name``."""

    def decorate(fn: Operator) -> Operator:
        _OPERATORS[name] = OperatorSpec(name, fn, retries, backoff_base, description or (fn.__doc__ or ""))
        return fn

    return decorate


def get(name: str) -> OperatorSpec | None:
    """The operator registered as ``name``, if any."""
    return _OPERATORS.get(name)


def names() -> list[str]:
    """Registered operator names, sorted."""
    return sorted(_OPERATORS)
