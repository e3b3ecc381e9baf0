"""Arming a new human task's SLA policy: its due time and its reminder, warning and escalation rows.

The policy comes from the task's extension properties (engine.bpmn.sla_policy, kept in task_meta
at deploy); the moments are counted in working days on the production calendar HR keeps
(rules.sla says how), at 09:00 company-local.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine import clock
from engine.models import HumanTask, ProcessInstance, Timer, TimerKind
from engine.services.rule_tables import table_rows
from rules import sla
from rules.calendar import ProductionCalendar, federal_calendar


def production_calendar(session: Session) -> ProductionCalendar | None:
    """The federal production calendar as HR keeps it (the rule table), or None without rows."""
    return federal_calendar(table_rows(session, "production_calendar")[1])


def at_day_start(day) -> datetime:
    """The moment a policy falling due on local ``day`` fires."""
    return clock.local_moment(day, sla.DAY_START_HOUR)


def arm(session: Session, instance: ProcessInstance, definition, created: list[HumanTask]) -> None:
    """Set the due time and write the policy rows of the tasks ``created`` by a step."""
    policies = [
        (task, policy)
        for task in created
        if (policy := (definition.task_meta.get(task.element_id) or {}).get("sla"))
    ]
    if not policies:
        return
    calendar = production_calendar(session)
    for task, policy in policies:
        _arm_task(session, instance, task, policy, calendar)


def _arm_task(session, instance, task: HumanTask, policy: dict[str, Any], calendar) -> None:
    created_on = task.created_at.astimezone(clock.company_timezone()).date()

    def after(working_days: int) -> datetime:
        return at_day_start(sla.policy_day(calendar, created_on, working_days))

    def add(kind: TimerKind, due_at: datetime, **payload: Any) -> None:
        session.add(
            Timer(
                kind=kind,
                instance_id=instance.id,
                task_id=task.id,
                name=task.element_id,
                due_at=due_at,
                payload=payload,
            )
        )

    if policy.get("due_wd") and task.due_at is None:
        task.due_at = after(policy["due_wd"])
    if policy.get("reminder_wd"):
        add(TimerKind.TASK_REMINDER, after(policy["reminder_wd"]), working_days=policy["reminder_wd"])
    if policy.get("due_warning_wd") and task.due_at is not None:
        due_on = task.due_at.astimezone(clock.company_timezone()).date()
        warn_at = max(
            at_day_start(sla.warning_day(calendar, due_on, policy["due_warning_wd"])), task.created_at
        )
        if warn_at < task.due_at:
            add(TimerKind.TASK_DUE_WARNING, warn_at, working_days=policy["due_warning_wd"])
    if policy.get("escalation_wd"):
        add(
            TimerKind.TASK_ESCALATION,
            after(policy["escalation_wd"]),
            working_days=policy["escalation_wd"],
            escalate_to=policy.get("escalate_to") or "manager_of_manager",
            keeps_original=bool(policy.get("keeps_original")),
        )
