"""Deploying bundles as immutable versions, and reading them back."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.bpmn.bundle import BundleRefused, build_bundle, bundle_checksum
from engine.errors import Conflict, InvalidBundle, NotFound
from engine.models import DefinitionFile, ProcessDefinition, User
from engine.services import audit, start_timers


@dataclass(frozen=True)
class DefinitionSnapshot:
    """The immutable parts of a definition version, cached in memory."""

    id: uuid.UUID
    key: str
    version: int
    name: str
    spec_json: str
    task_meta: dict[str, dict[str, Any]]
    forms: dict[str, Any]
    start_form: str | None
    names: dict[str, str] = field(default_factory=dict)  # the name per language

    @cached_property
    def may_have_timers(self) -> bool:
        """Whether instances of this version can have timer rows: timer events, or SLA task policies."""
        # SpiffWorkflow's timer classes: Duration/CycleTimerEventDefinition and TimeDateEventDefinition.
        return (
            "TimerEventDefinition" in self.spec_json
            or "TimeDateEventDefinition" in self.spec_json
            or any(meta.get("sla") for meta in self.task_meta.values())
        )

    def form_schema(self, form: str | None) -> dict[str, Any] | None:
        """The JSON Schema of a form file of this bundle, or None."""
        return self.forms.get(form) if form else None


_cache: dict[uuid.UUID, DefinitionSnapshot] = {}
_cache_lock = threading.Lock()


def snapshot(session: Session, definition_id: uuid.UUID) -> DefinitionSnapshot:
    """The cached snapshot of a definition version (versions never change)."""
    cached = _cache.get(definition_id)
    if cached is not None:
        return cached
    row = session.get(ProcessDefinition, definition_id)
    if row is None:
        raise NotFound(f"definition {definition_id} does not exist")
    snap = _snapshot_of(row)
    with _cache_lock:
        if len(_cache) > 1024:
            _cache.clear()
        _cache[definition_id] = snap
    return snap


def _snapshot_of(row: ProcessDefinition) -> DefinitionSnapshot:
    return DefinitionSnapshot(
        id=row.id,
        key=row.key,
        version=row.version,
        name=row.name,
        names=row.names or {},
        spec_json=row.spec_json,
        task_meta=row.task_meta,
        forms=row.forms,
        start_form=row.start_form,
    )


def deploy_bundle(session: Session, files: dict[str, bytes], *, actor: User | None) -> ProcessDefinition:
    """Validate a bundle and store it as version N+1 of its process key.

    Raises InvalidBundle with the report (nothing is stored), or Conflict if another
    version of the same key was deployed concurrently.
    """
    try:
        bundle = build_bundle(files)
    except BundleRefused as refused:
        raise InvalidBundle("the bundle was refused", [entry.as_dict() for entry in refused.report]) from None
    latest = session.scalar(
        select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == bundle.key)
    )
    definition = ProcessDefinition(
        key=bundle.key,
        version=(latest or 0) + 1,
        name=bundle.name,
        names=bundle.names,
        checksum=bundle.checksum,
        spec_json=bundle.spec_json,
        task_meta=bundle.task_meta,
        forms=bundle.forms,
        start_form=bundle.start_form,
        warnings=[entry.as_dict() for entry in bundle.warnings],
        deployed_by_id=actor.id if actor else None,
        files=[DefinitionFile(filename=n, content=c) for n, c in sorted(bundle.files.items())],
    )
    try:
        with session.begin_nested():
            session.add(definition)
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"another version of {bundle.key} was deployed at the same time; deploy again"
        ) from None
    try:
        start_timers.schedule_for(session, definition)
    except ValueError as exc:
        raise InvalidBundle(
            "the bundle was refused",
            [{"file": None, "element_id": None, "line": None, "message": str(exc)}],
        ) from None
    audit.record(
        session,
        "definition.deployed",
        actor=actor,
        definition_id=definition.id,
        key=definition.key,
        version=definition.version,
        files=sorted(bundle.files),
    )
    return definition


def deploy_if_changed(
    session: Session, files: dict[str, bytes], *, actor: User | None
) -> tuple[ProcessDefinition, bool]:
    """Deploy unless the bundle equals the latest version of its key; says which happened.

    Raises what ``deploy_bundle`` raises.
    """
    checksum = bundle_checksum(files)
    same = session.scalar(
        select(ProcessDefinition)
        .where(ProcessDefinition.checksum == checksum)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )
    if same is not None and get_latest(session, same.key).id == same.id:
        return same, False
    return deploy_bundle(session, files, actor=actor), True


def get_latest(session: Session, key: str) -> ProcessDefinition:
    """The newest version of a key. Raises NotFound."""
    row = session.scalar(
        select(ProcessDefinition)
        .where(ProcessDefinition.key == key)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )
    if row is None:
        raise NotFound(f"no process definition with key '{key}'")
    return row


def list_versions(session: Session, key: str) -> list[ProcessDefinition]:
    """Every version of a key, newest first. Raises NotFound for an unknown key."""
    rows = list(
        session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.key == key)
            .order_by(ProcessDefinition.version.desc())
        )
    )
    if not rows:
        raise NotFound(f"no process definition with key '{key}'")
    return rows


def list_latest(session: Session) -> list[ProcessDefinition]:
    """The newest version of every key, ordered by key."""
    newest = (
        select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    query = (
        select(ProcessDefinition)
        .join(
            newest,
            (ProcessDefinition.key == newest.c.key) & (ProcessDefinition.version == newest.c.version),
        )
        .order_by(ProcessDefinition.key)
    )
    return list(session.scalars(query))
