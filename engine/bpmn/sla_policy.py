"""A human task's SLA policy, read at deploy from its extension properties.

A designer sets it on the task itself (Camunda ``camunda:properties`` or SpiffWorkflow
``spiffworkflow:properties``), without drawing boundary events:

- ``dueInWorkingDays`` (N): the task's due time, when ``camunda:dueDate`` is not set;
- ``reminderAfterWorkingDays`` (N): remind the holder;
- ``reminderBeforeDueWorkingDays`` (N): warn the holder N working days before the due time;
- ``escalationAfterWorkingDays`` (N) with ``escalateTo`` (``manager_of_manager``, the default, or
  ``role:<name>``): move the task up, and ``escalationKeepsOriginal`` (true/false) whether the former
  holder still reads it.

Working days are counted by rules.sla on the production calendar.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
MAX_WORKING_DAYS = 250  # about a working year; more is a typo, not a policy

COUNTS = {
    "dueInWorkingDays": "due_wd",
    "reminderAfterWorkingDays": "reminder_wd",
    "reminderBeforeDueWorkingDays": "due_warning_wd",
    "escalationAfterWorkingDays": "escalation_wd",
}
MANAGER_OF_MANAGER = "manager_of_manager"
_ROLE = re.compile(r"^role:([a-z][a-z0-9_\-]{0,63})$")

Report = Callable[[str, int | None], None]


def _properties(task) -> dict[str, tuple[str, int | None]]:
    found: dict[str, tuple[str, int | None]] = {}
    for tag in (f"{{{CAMUNDA_NS}}}property", f"{{{SPIFF_NS}}}property"):
        for prop in task.iter(tag):
            name = prop.get("name")
            if name:
                found.setdefault(name, ((prop.get("value") or "").strip(), prop.sourceline))
    return found


def read_sla(task, report: Report, *, has_due_date: bool) -> dict[str, Any] | None:
    """The task's SLA policy as plain data for task_meta, or None without one.

    ``report(message, line)`` is told about every bad value (the deploy is refused);
    ``has_due_date``: camunda:dueDate is set, so it wins over dueInWorkingDays.
    """
    props = _properties(task)
    policy: dict[str, Any] = {}
    for name, key in COUNTS.items():
        if name not in props:
            continue
        text, line = props[name]
        if not text.isdigit() or not 1 <= int(text) <= MAX_WORKING_DAYS:
            report(f"{name} must be a whole number of working days from 1 to {MAX_WORKING_DAYS}", line)
            continue
        policy[key] = int(text)
    if "due_warning_wd" in policy and "due_wd" not in policy and not has_due_date:
        line = props["reminderBeforeDueWorkingDays"][1]
        report("reminderBeforeDueWorkingDays needs a due time: dueInWorkingDays or camunda:dueDate", line)
    if has_due_date:
        policy.pop("due_wd", None)
    escalation_options = "escalateTo" in props or "escalationKeepsOriginal" in props
    if escalation_options and "escalationAfterWorkingDays" not in props:
        line = (props.get("escalateTo") or props["escalationKeepsOriginal"])[1]
        report("escalateTo and escalationKeepsOriginal need escalationAfterWorkingDays", line)
    target, line = props.get("escalateTo", (MANAGER_OF_MANAGER, None))
    if target != MANAGER_OF_MANAGER and not _ROLE.match(target):
        report(f"escalateTo '{target}' must be manager_of_manager or role:<name> (lower-case)", line)
    keeps, keeps_line = props.get("escalationKeepsOriginal", ("false", None))
    if keeps.lower() not in ("true", "false"):
        report("escalationKeepsOriginal must be true or false", keeps_line)
    if "escalation_wd" in policy:
        policy["escalate_to"] = target
        policy["keeps_original"] = keeps.lower() == "true"
    return policy or None
