"""Turn engine rows into the API's JSON shapes, fetching related names in as few queries as possible."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, User
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
        "deployed_at": row.deployed_at,
        "start_form": row.start_form,
        "start_form_schema": row.forms.get(row.start_form) if row.start_form else None,
        "warnings": row.warnings,
    }


def tasks(session: Session, rows: list[HumanTask], *, with_data: bool = False) -> list[dict[str, Any]]:
    people = _emails(session, [t.assignee_id for t in rows] + [t.completed_by_id for t in rows])
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
            "form": row.form,
            "form_schema": definition_snap.form_schema(row.form),
        }
        if with_data:
            item["data"] = instance.data
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


def instance(session: Session, row: ProcessInstance, open_tasks: list[HumanTask]) -> dict[str, Any]:
    (summary,) = instance_summaries(session, [row])
    return {
        **summary,
        "definition_id": row.definition_id,
        "data": row.data,
        "error": row.error,
        "open_tasks": tasks(session, open_tasks),
    }


def events(session: Session, rows: list[AuditEvent]) -> list[dict[str, Any]]:
    people = _emails(session, [r.actor_id for r in rows])
    return [
        {
            "id": r.id,
            "at": r.at,
            "actor": people.get(r.actor_id),
            "action": r.action,
            "instance_id": r.instance_id,
            "task_id": r.task_id,
            "details": r.details,
        }
        for r in rows
    ]
