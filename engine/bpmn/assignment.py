"""Assignment attributes (camunda:assignee, candidateUsers, candidateGroups) as data or code.

A plain value is a literal: an e-mail, a role name, or a comma-separated list of them.
``${expr}`` and ``#{expr}`` hold an expression over the task data, run in the sandbox.
"""

from __future__ import annotations

import re
from typing import Any

from engine.bpmn.juel import JuelError, to_python
from engine.bpmn.sandbox import SandboxViolation, compile_expression

_EXPRESSION = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.DOTALL)


class AssignmentError(ValueError):
    """An assignment attribute cannot be understood or evaluated."""


def parse_assignment(value: str) -> tuple[str, str]:
    """Classify an attribute as ``("literal", text)`` or ``("expression", source)``.

    Raises AssignmentError when the expression would be refused by the sandbox.
    """
    match = _EXPRESSION.match(value)
    if not match:
        if "${" in value or "#{" in value:
            raise AssignmentError(f"assignment '{value}' mixes text and an expression")
        return "literal", value
    try:
        body = to_python(match.group("body"))
    except JuelError as exc:
        raise AssignmentError(f"assignment '{value}': {exc}") from None
    try:
        compile_expression(body)
    except SandboxViolation as exc:
        raise AssignmentError(f"assignment expression '{value}' is refused: {exc}") from None
    except SyntaxError as exc:
        raise AssignmentError(f"assignment expression '{value}' is not valid: {exc.msg}") from None
    return "expression", body


def evaluate_assignment(value: str, evaluate) -> list[str]:
    """Resolve an attribute to a list of strings; ``evaluate`` runs an expression in the sandbox."""
    kind, text = parse_assignment(value)
    if kind == "literal":
        return [part.strip() for part in text.split(",") if part.strip()]
    result: Any = evaluate(text)
    if result is None:
        return []
    if isinstance(result, str):
        return [part.strip() for part in result.split(",") if part.strip()]
    if isinstance(result, list | tuple | set):
        return [str(item) for item in result]
    raise AssignmentError(f"assignment '{value}' gave {type(result).__name__}, not a name")
