"""Turn engine rows into the API's JSON shapes, fetching related names in as few queries as possible."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, User
from engine.services.definitions import snapshot


def _emails(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.email).where(User.id.in_(wanted)))
    return {user_id: email for user_id, email in rows}


def definition(row: ProcessDefinition) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "version": row.version,
        "name": row.name,
        "deployed_at": row.deployed_at,
        "start_form": row.start_form,
        "start_form_schema": row.forms.get(row.start_form) if row.start_form else None,
    }


def tasks(session: Session, rows: list[HumanTask], *, with_data: bool = False) -> list[dict[str, Any]]:
    instance_ids = {t.instance_id for t in rows}
    instances = (
        {i.id: i for i in session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(instance_ids)))}
        if instance_ids
        else {}
    )
    people = _emails(
        session,
        [t.assignee_id for t in rows]
        + [t.completed_by_id for t in rows]
        + [c.user_id for t in rows for c in t.candidates],
    )
    result = []
    for row in rows:
        instance = instances[row.instance_id]
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
            "candidate_users": [people[c.user_id] for c in row.candidates if c.user_id],
            "candidate_roles": [c.role for c in row.candidates if c.role],
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
