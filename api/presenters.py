"""Turn engine rows into the API's JSON shapes, fetching related names in as few queries as possible.

Request data leaves the API only through here, masked for the caller (``engine.services.masking``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from api.auth import current_user
from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, User
from engine.services import masking
from engine.services.definitions import snapshot


def _loaded(session: Session, model, ids: Iterable) -> tuple[dict, set]:
    """Objects already in the session (no query needed), and the ids still to fetch."""
    found, missing = {}, set()
    for obj_id in ids:
        if obj_id is None:
            continue
        obj = session.identity_map.get(identity_key(model, obj_id))
        if obj is not None:
            found[obj_id] = obj
        else:
            missing.add(obj_id)
    return found, missing


def _emails(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    found, missing = _loaded(session, User, ids)
    emails = {user_id: user.email for user_id, user in found.items()}
    if missing:
        rows = session.execute(select(User.id, User.email).where(User.id.in_(missing)))
        emails.update({user_id: email for user_id, email in rows})
    return emails


def definition(row: ProcessDefinition) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "version": row.version,
        "name": row.name,
        "names": row.names or {},
        "deployed_at": row.deployed_at,
        "start_form": row.start_form,
        "start_form_schema": row.forms.get(row.start_form) if row.start_form else None,
        "warnings": row.warnings,
    }


def tasks(
    session: Session, rows: list[HumanTask], *, with_data: bool = False, viewer: User | None = None
) -> list[dict[str, Any]]:
    """Tasks as JSON; ``with_data`` adds the request's data, masked for ``viewer`` (default: the caller)."""
    people = _emails(
        session,
        [t.assignee_id for t in rows] + [t.completed_by_id for t in rows] + [t.on_behalf_of_id for t in rows],
    )
    result = []
    for row in rows:
        instance = row.instance
        definition_snap = snapshot(session, instance.definition_id)
        item = {
            "id": row.id,
            "instance_id": row.instance_id,
            "process_key": instance.process_key,
            "name": row.name,
            "element_id": row.element_id,
            "lane": row.lane,
            "status": row.status.value,
            "assignee": people.get(row.assignee_id),
            "candidate_users": row.candidate_summary.get("users", []),
            "candidate_roles": row.candidate_summary.get("roles", []),
            "created_at": row.created_at,
            "due_at": row.due_at,
            "completed_at": row.completed_at,
            "completed_by": people.get(row.completed_by_id),
            "on_behalf_of": people.get(row.on_behalf_of_id),
            "form": row.form,
            "form_schema": definition_snap.form_schema(row.form),
        }
        if with_data:
            item["data"] = masking.shown_data(session, viewer or current_user(), instance, task_id=row.id)
        result.append(item)
    return result


def instance_summaries(session: Session, rows: list[ProcessInstance]) -> list[dict[str, Any]]:
    people = _emails(session, [r.initiator_id for r in rows])
    return [
        {
            "id": r.id,
            "key": r.process_key,
            "version": snapshot(session, r.definition_id).version,
            "status": r.status.value,
            "business_key": r.business_key,
            "initiator": people.get(r.initiator_id),
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "completed_at": r.completed_at,
        }
        for r in rows
    ]


def instance(
    session: Session, row: ProcessInstance, open_tasks: list[HumanTask], *, viewer: User | None = None
) -> dict[str, Any]:
    """One instance with its data and error masked for ``viewer`` (default: the caller)."""
    viewer = viewer or current_user()
    (summary,) = instance_summaries(session, [row])
    return {
        **summary,
        "definition_id": row.definition_id,
        "data": masking.shown_data(session, viewer, row),
        "error": masking.view_of(session, viewer, row).text(row.error),
        "open_tasks": tasks(session, open_tasks),
    }


def events(session: Session, rows: list[AuditEvent], *, viewer: User | None = None) -> list[dict[str, Any]]:
    """Audit events; free text in their details is scrubbed of sensitive values the viewer may not see."""
    viewer = viewer or current_user()
    people = _emails(session, [r.actor_id for r in rows])
    views: dict[Any, masking.InstanceView | None] = {}
    result = []
    for r in rows:
        details = r.details
        if r.instance_id is not None and details:
            if r.instance_id not in views:
                owner = session.get(ProcessInstance, r.instance_id)
                views[r.instance_id] = masking.view_of(session, viewer, owner) if owner else None
            view = views[r.instance_id]
            if view is not None:
                # Details hold ids and field names; a step's error message is where a value may slip in.
                details = {k: view.text(v) if isinstance(v, str) else v for k, v in details.items()}
        result.append(
            {
                "id": r.id,
                "at": r.at,
                "actor": people.get(r.actor_id),
                "action": r.action,
                "instance_id": r.instance_id,
                "task_id": r.task_id,
                "details": details,
            }
        )
    return result


def person(user: User | None) -> dict[str, str] | None:
    """A reference to a person: e-mail and name."""
    return {"email": user.email, "name": user.name} if user is not None else None


def away_period(session: Session, row, *, today) -> dict[str, Any]:
    """An out-of-office period (a Substitution row)."""
    return {
        "substitute": person(session.get(User, row.substitute_id)),
        "starts_on": row.starts_on,
        "ends_on": row.ends_on,
        "active": row.starts_on <= today <= row.ends_on,
    }


def route_preview(preview) -> dict[str, Any]:
    """A route preview (engine.services.route_preview.Preview)."""
    steps = []
    for step in preview.steps:
        candidates = None
        if step.assignee is None:
            candidates = {"users": [person(u) for u in step.candidate_users], "roles": step.candidate_roles}
        steps.append(
            {
                "element_id": step.element_id,
                "name": step.name,
                "assignee": person(step.assignee),
                "candidates": candidates,
                "on_behalf_of": person(step.on_behalf_of),
                "reason": step.reason,
            }
        )
    return {"key": preview.key, "version": preview.version, "steps": steps, "stopped": preview.stopped}
