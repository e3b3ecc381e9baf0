"""Starting, reading, listing and cancelling process instances."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.bpmn import runtime
from engine.errors import Conflict, Forbidden, InstanceFailed, InvalidData, NotFound
from engine.models import (
    AuditEvent,
    HumanTask,
    IdempotencyKey,
    Incident,
    IncidentStatus,
    InstanceStatus,
    ProcessInstance,
    TaskStatus,
    User,
)
from engine.models._types import utcnow
from engine.services import (
    audit,
    decision_tables,
    definitions,
    notifications,
    outbox,
    process_hooks,
    timers,
    visibility,
)
from engine.services.steps import persist_step
from engine.services.submissions import check_submission

MAX_BUSINESS_KEY = 200
MAX_IDEMPOTENCY_KEY = 200


def start_instance(
    session: Session,
    *,
    key: str,
    actor: User,
    data: Any,
    business_key: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[ProcessInstance, bool]:
    """Start the latest version of ``key`` and run it until it waits.

    Returns the instance and whether it was created now (False when ``idempotency_key`` was
    seen before). Raises NotFound, InvalidData (form errors), Conflict (business key in use)
    and InstanceFailed (the route failed before its first wait).
    """
    if idempotency_key is not None:
        if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            raise InvalidData(
                "the Idempotency-Key header must be 1 to 200 characters",
                [{"field": "Idempotency-Key", "message": "1 to 200 characters"}],
            )
        earlier = _replayed(session, actor, idempotency_key, key)
        if earlier is not None:
            return earlier, False
    definition = definitions.snapshot(session, definitions.get_latest(session, key).id)
    _check_start_input(definition, data, business_key)
    if business_key and _business_key_taken(session, key, business_key):
        raise Conflict(f"an active {key} instance already has business key '{business_key}'")
    hooks = process_hooks.hooks_for(key)
    data = {**data, **hooks.before_start(session, actor, data)}
    try:
        with decision_tables.in_force(session):  # HR's current DMN versions
            workflow = runtime.start_workflow(definition.spec_json, data)
    except runtime.StepFailed as exc:
        raise InstanceFailed(
            f"the process failed before its first step: {exc}", {"element_id": exc.element_id}
        ) from None
    try:
        with session.begin_nested():
            instance = insert_instance(session, definition, actor, workflow, business_key, data)
            if idempotency_key is not None:
                session.add(IdempotencyKey(user_id=actor.id, key=idempotency_key, instance_id=instance.id))
                session.flush()
            hooks.after_start(session, instance)
            session.flush()
    except IntegrityError:
        # A concurrent request won the race for the idempotency key or the business key.
        if idempotency_key is not None:
            earlier = _replayed(session, actor, idempotency_key, key)
            if earlier is not None:
                return earlier, False
        raise Conflict(f"an active {key} instance already has business key '{business_key}'") from None
    return instance, True


def _replayed(session: Session, actor: User, idempotency_key: str, key: str) -> ProcessInstance | None:
    """The instance this caller already started with this Idempotency-Key, if any.

    Raises Conflict when the key was used to start a different process.
    """
    query = (
        select(ProcessInstance)
        .join(IdempotencyKey, IdempotencyKey.instance_id == ProcessInstance.id)
        .where(IdempotencyKey.user_id == actor.id, IdempotencyKey.key == idempotency_key)
    )
    earlier = session.scalar(query)
    if earlier is not None and earlier.process_key != key:
        raise Conflict(f"this Idempotency-Key already started a {earlier.process_key} request; use a new key")
    return earlier


def _check_start_input(definition, data: Any, business_key: str | None) -> None:
    if business_key is not None and not (0 < len(business_key) <= MAX_BUSINESS_KEY):
        raise InvalidData(
            "business_key must be 1 to 200 characters",
            [{"field": "business_key", "message": "1 to 200 characters"}],
        )
    check_submission(data, definition.form_schema(definition.start_form), what="the start form")


def _business_key_taken(session: Session, key: str, business_key: str) -> bool:
    query = select(ProcessInstance.id).where(
        ProcessInstance.process_key == key, ProcessInstance.active_business_key == business_key
    )
    return session.scalar(query) is not None


def insert_instance(session, definition, actor, workflow, business_key, data) -> ProcessInstance:
    """Store a workflow that has run to its first wait as a new instance of ``definition``.

    Writes the instance, its first step (tasks, timers, notifications) and the start audit event.
    Raises InstanceFailed when the step cannot be stored. Used by start_instance and start timers.
    """
    instance = ProcessInstance(
        id=uuid.uuid4(),
        definition_id=definition.id,
        process_key=definition.key,
        status=InstanceStatus.RUNNING,
        business_key=business_key,
        active_business_key=business_key,
        initiator_id=actor.id,
        state="{}",
        data={},
    )
    session.add(instance)
    session.flush()
    audit.record(
        session,
        "instance.started",
        actor=actor,
        instance_id=instance.id,
        definition_id=definition.id,
        key=definition.key,
        version=definition.version,
        business_key=business_key,
    )
    try:
        persist_step(session, instance=instance, workflow=workflow, definition=definition, actor=actor)
    except runtime.StepFailed as exc:
        raise InstanceFailed(str(exc), {"element_id": exc.element_id}) from None
    session.flush()
    return instance


def get_instance(session: Session, instance_id: uuid.UUID, *, viewer: User) -> ProcessInstance:
    """An instance the viewer may see. Raises NotFound otherwise, so existence is not leaked."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or not visibility.can_see_instance(session, viewer, instance):
        raise NotFound(f"instance {instance_id} not found")
    return instance


def lock_instance(session: Session, instance_id: uuid.UUID) -> ProcessInstance | None:
    """Load an instance with its row locked for the rest of the transaction."""
    query = (
        select(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalar(query)


def list_instances(
    session: Session,
    *,
    viewer: User,
    key: str | None = None,
    status: InstanceStatus | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[ProcessInstance]:
    """Instances the viewer may see, newest first: their own and their reports', or all for HR."""
    query = select(ProcessInstance).where(visibility.visible_instances_clause(session, viewer))
    if key:
        query = query.where(ProcessInstance.process_key == key)
    if status:
        query = query.where(ProcessInstance.status == status)
    query = query.order_by(ProcessInstance.created_at.desc(), ProcessInstance.id).limit(limit).offset(offset)
    return list(session.scalars(query))


def open_tasks(session: Session, instance_id: uuid.UUID) -> list[HumanTask]:
    """The open human tasks of an instance, oldest first."""
    query = (
        select(HumanTask)
        .where(HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.OPEN)
        .order_by(HumanTask.created_at, HumanTask.id)
    )
    return list(session.scalars(query))


def history(session: Session, instance_id: uuid.UUID, *, viewer: User) -> list[AuditEvent]:
    """The audit trail of an instance the viewer may see."""
    get_instance(session, instance_id, viewer=viewer)
    return audit.events_for_instance(session, instance_id)


def cancel_instance(session: Session, instance_id: uuid.UUID, *, actor: User) -> ProcessInstance:
    """Cancel a running instance. Only its initiator or an admin may.

    Raises NotFound, Forbidden, Conflict (not running).
    """
    instance = get_instance(session, instance_id, viewer=actor)
    if instance.initiator_id != actor.id and not actor.has_role("admin"):
        raise Forbidden("only the initiator or an admin may cancel an instance")
    return cancel_locked(session, lock_instance(session, instance_id), actor=actor)


def cancel_locked(session: Session, instance: ProcessInstance, *, actor: User | None) -> ProcessInstance:
    """Cancel ``instance``, already locked by the caller, whoever asks (callers check who may).

    Used by ``cancel_instance`` and by HR resolving an incident. Raises Conflict (not running).
    """
    if instance.status != InstanceStatus.RUNNING:
        raise Conflict(f"instance is {instance.status.value}, not running")
    definition = definitions.snapshot(session, instance.definition_id)
    workflow = runtime.restore_workflow(instance.state, definition.spec_json)
    runtime.cancel_workflow(workflow)
    now = utcnow()
    for task in open_tasks(session, instance.id):
        task.status = TaskStatus.CANCELLED
        task.completed_at = now
        audit.record(session, "task.cancelled", actor=actor, instance_id=instance.id, task_id=task.id)
    instance.status = InstanceStatus.CANCELLED
    instance.active_business_key = None
    instance.completed_at = now
    instance.updated_at = now
    instance.state = runtime.save_workflow(workflow)
    audit.record(session, "instance.cancelled", actor=actor, instance_id=instance.id)
    timers.on_instance_closed(session, instance)
    outbox.cancel_for_instance(session, instance.id)
    # Failed background work of a cancelled request has nothing left to wait for.
    session.execute(
        update(Incident)
        .where(Incident.instance_id == instance.id, Incident.status == IncidentStatus.OPEN)
        .values(
            status=IncidentStatus.RESOLVED,
            resolution="cancelled",
            resolved_by_id=actor.id if actor is not None else None,
            resolved_at=now,
        )
        .execution_options(synchronize_session="fetch")
    )
    process_hooks.hooks_for(instance.process_key).on_finished(session, instance)
    if actor is None or actor.id != instance.initiator_id:
        notifications.after_step(session, instance, [])  # someone else stopped the request: say so
    session.flush()
    return instance


def record_step_failure(session: Session, failure: InstanceFailed, *, actor: User | None) -> None:
    """Note on a running instance that a step failed, after that step was rolled back.

    The instance keeps its state and its open task, so the step can be tried again; the error
    shows on the instance and in its history.
    """
    if failure.instance_id is None:
        return
    instance = lock_instance(session, failure.instance_id)
    if instance is None:
        return
    instance.error = failure.message
    instance.updated_at = utcnow()
    audit.record(
        session,
        "step.failed",
        actor=actor,
        instance_id=instance.id,
        task_id=failure.task_id,
        element_id=(failure.details or {}).get("element_id"),
        message=failure.message,
    )
    session.flush()
