"""The leave route's hooks: check a request at submission, re-check at approval, keep the ledger.

- before_start: every submission rule (``leave_checks.check_submission``) on the current rule
  tables. Any refused rule answers 422 with all of them, and nothing is stored. What passes adds
  route data: ``days``, ``leave_status``, ``needs_replacement``, ``manager_needed``,
  ``director_needed``, ``director``, ``mandatory_days``, ``agreed_days``, ``flags``.
- after_start: one decision record per rule evaluated; the days are reserved on the leave ledger
  for types that need a balance.
- before_complete: on the manager's or the director's approval, blocked dates and the department
  limit again, the limit under the department's row lock (A13); the last approval marks the leave
  ``approved``, which is when it takes its department slot.
- on_finished: registered → the reservation is booked, and unpaid leave (which reserves nothing)
  is written as used, so that it moves the working year (L-05, A09); rejected or cancelled → released.

"Today" for the notice and past-date checks is ``today()``, read at each call, so tests can set it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from engine import clock
from engine.errors import InvalidData
from engine.models import HumanTask, InstanceStatus, ProcessInstance, User
from engine.services import audit, decision_records, leave_ledger, process_hooks
from engine.services.routes import leave_checks, leave_records
from rules import outcomes

_PENDING_CHECKS = "leave_route.evaluations"  # session.info key: before_start's results for after_start


def today() -> date:
    """The day submissions are checked against (the company's date). Tests replace this function."""
    return clock.today()


def _refuse(what: str, problems: list[dict[str, Any]]) -> InvalidData:
    rules = ", ".join(dict.fromkeys(p["rule"] for p in problems))
    return InvalidData(f"{what}: {rules}", problems)


def _record(session, instance_id, evaluations, *, element_id=None, actor=None) -> None:
    for evaluation in evaluations:
        outcome = evaluation.outcome
        decision_records.record_decision(
            session,
            instance_id,
            evaluation.rule,
            evaluation.inputs,
            outcome.to_dict(),
            outcome.code,
            # The numbers in the sentence: "INSUFFICIENT_BALANCE{available:10, requested:14}: balance 10, ..."
            f"{outcome}: {outcome.message}" if outcome.code != outcomes.OK else outcome.message,
            evaluation.tables,
            element_id,
            actor=actor,
        )
        if outcome.code == outcomes.BLOCK_BYPASS_LEGAL:
            # A15: leave the employer must grant went through blocked dates; say so in the trail.
            audit.record(
                session,
                "leave.block_bypassed",
                actor=actor,
                instance_id=instance_id,
                rule=outcomes.BLOCK_BYPASS_LEGAL,
                date=outcome.params.get("date").isoformat(),
            )


class LeaveHooks(process_hooks.ProcessHooks):
    """The hooks of ``processes/leave_request``."""

    key = leave_records.PROCESS_KEY

    def before_start(self, session: Session, actor: User, data: dict[str, Any]) -> dict[str, Any]:
        result = leave_checks.check_submission(session, actor, data, today=today())
        if result.problems:
            raise _refuse("the leave request was not submitted", result.problems)
        session.info[_PENDING_CHECKS] = result.evaluations
        policy = leave_ledger.leave_policies().get(str(data["leave_type"]))
        needs_balance = any(e.rule == "balance" for e in result.evaluations)
        result.data["reserved_days"] = result.data["days"] if needs_balance and policy is not None else 0
        return result.data

    def after_start(self, session: Session, instance: ProcessInstance) -> None:
        evaluations = session.info.pop(_PENDING_CHECKS, [])
        initiator = session.get(User, instance.initiator_id)
        _record(session, instance.id, evaluations, actor=initiator)
        data = instance.data or {}
        if data.get("reserved_days"):
            leave_ledger.reserve(
                session, initiator, data["leave_type"], data["reserved_days"], instance.id, actor=initiator
            )

    def before_complete(
        self, session: Session, instance: ProcessInstance, task: HumanTask, actor: User, data: dict[str, Any]
    ) -> dict[str, Any]:
        current = {**(instance.data or {}), **data}
        if task.element_id == "manager_approval" and data.get("manager_decision") == "approve":
            return self._approve(session, instance, task, actor, current, director=False)
        if task.element_id == "director_approval" and data.get("director_decision") == "approve":
            return self._approve(session, instance, task, actor, current, director=True)
        if task.element_id == "hr_registration":
            extra: dict[str, Any] = {"leave_status": "approved"}
            if current.get("manager_decision") == "reject":
                # A16 split: the manager refused the days by agreement; only the mandatory ones stand.
                extra["registered_days"] = current.get("mandatory_days", 0)
            return extra
        return {}

    def _approve(self, session, instance, task, actor, current, *, director: bool) -> dict[str, Any]:
        requester = session.get(User, instance.initiator_id)
        result = leave_checks.check_approval(
            session, requester, actor, current, str(instance.id), director=director
        )
        if result.problems:
            raise _refuse("the leave cannot be approved", result.problems)
        _record(session, instance.id, result.evaluations, element_id=task.element_id, actor=actor)
        flags = list(dict.fromkeys([*current.get("flags", []), *result.flags]))
        if not director and (current.get("director_needed") or result.data.get("director_needed")):
            return {"director_needed": True, "flags": flags}
        return {
            "leave_status": "approved",
            "director_needed": bool(current.get("director_needed")),
            "flags": flags,
        }

    def on_finished(self, session: Session, instance: ProcessInstance) -> None:
        status = leave_records.status_of(instance)
        data = instance.data or {}
        policy = leave_ledger.leave_policies().get(str(data.get("leave_type")))
        if status == "approved" and data.get("reserved_days"):
            leave_ledger.book(session, instance.id)
        elif status == "approved" and policy is not None and not policy.counts_as_service:
            # A09: registered unpaid leave goes on the ledger as used, so its days past 14 move the
            # working year. A16 split: only the days HR registered were taken.
            days = data.get("registered_days", data.get("days"))
            if days:
                requester = session.get(User, instance.initiator_id)
                start = date.fromisoformat(data["start"])
                leave_ledger.record_use(session, requester, policy.code, days, instance.id, on=start)
        else:
            leave_ledger.release(session, instance.id)
        if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
            instance.data = {**data, "leave_status": status}


process_hooks.register(LeaveHooks())
