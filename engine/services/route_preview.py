"""Route preview: who would approve a request, in order, before it is submitted.

The workflow runs in memory only: it starts with the would-be start data, and each ready user task
is completed with its form's defaults (a field's ``default``, else its first ``enum`` value), so the
happy path is followed. Assignment is worked out exactly as a real step would, with separation of
duties and today's substitutes, but nothing is added to the session, so no row is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn import runtime
from engine.errors import InstanceFailed
from engine.models import User
from engine.services import assignment, decision_tables, definitions, process_hooks
from engine.services.submissions import check_submission

MAX_PREVIEW_TASKS = 50


@dataclass
class PreviewStep:
    """One user task on the route and who would act on it."""

    element_id: str
    name: str
    assignee: User | None
    candidate_users: list[User]
    candidate_roles: list[str]
    on_behalf_of: User | None
    reason: str | None


@dataclass
class Preview:
    """The steps in order, and why the preview stopped: end, loop, limit or waiting (a timer, a message)."""

    key: str
    version: int
    steps: list[PreviewStep] = field(default_factory=list)
    stopped: str = "end"


def preview_route(session: Session, *, key: str, initiator: User, data: Any) -> Preview:
    """Walk the latest version of ``key`` as ``initiator`` would start it with ``data``.

    Raises NotFound (unknown key), InvalidData (start form errors) and InstanceFailed (the route
    fails, or names someone who does not exist; ``details`` name the element).
    """
    definition = definitions.snapshot(session, definitions.get_latest(session, key).id)
    check_submission(data, definition.form_schema(definition.start_form), what="the start form")
    # A shipped route's checks add the data its gateways read (and refuse what it would refuse).
    data = {**data, **process_hooks.hooks_for(definition.key).before_start(session, initiator, data)}
    preview = Preview(key=definition.key, version=definition.version)
    with session.no_autoflush, decision_tables.in_force(session):
        try:
            workflow = runtime.start_workflow(definition.spec_json, data)
            _walk(session, workflow, definition, initiator, preview)
        except runtime.StepFailed as exc:
            raise InstanceFailed(f"the route fails: {exc}", {"element_id": exc.element_id}) from None
    return preview


def _walk(session, workflow, definition, initiator: User, preview: Preview) -> None:
    seen: set[str] = set()
    approvers: set[int] = set()
    while True:
        ready = runtime.ready_user_tasks(workflow)
        if not ready:
            preview.stopped = "end" if runtime.is_completed(workflow) else "waiting"
            return
        for task in ready:
            if task.element_id in seen:
                preview.stopped = "loop"
                return
            if len(preview.steps) >= MAX_PREVIEW_TASKS:
                preview.stopped = "limit"
                return
            seen.add(task.element_id)
            meta = definition.task_meta.get(task.element_id, {})
            who = assignment.resolve(
                session,
                element_id=task.element_id,
                lane=task.lane,
                meta=meta,
                initiator_id=initiator.id,
                task_data=task.data,
                process_key=definition.key,
                earlier_approver_ids=frozenset(approvers),
            )
            preview.steps.append(
                PreviewStep(
                    element_id=task.element_id,
                    name=task.name,
                    assignee=who.assignee,
                    candidate_users=who.candidate_users,
                    candidate_roles=who.candidate_roles,
                    on_behalf_of=who.on_behalf_of,
                    reason="; ".join(who.reasons) or None,
                )
            )
            if who.excluded_user_ids:  # an approval: whoever does it counts for distinctApprover
                approvers.update(p.id for p in (who.assignee, who.on_behalf_of) if p is not None)
            runtime.complete_user_task(
                workflow, task.id, form_defaults(definition.form_schema(meta.get("form")))
            )


def form_defaults(schema: dict[str, Any] | None) -> dict[str, Any]:
    """What a form offers before anyone types: each field's ``default``, else its first ``enum`` value."""
    values: dict[str, Any] = {}
    for name, spec in ((schema or {}).get("properties") or {}).items():
        if not isinstance(spec, dict):
            continue
        if "default" in spec:
            values[name] = spec["default"]
        elif isinstance(spec.get("enum"), list) and spec["enum"]:
            values[name] = spec["enum"][0]
    return values
