"""/api/v1/audit: The audit trail: verification and export."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError
from sqlalchemy import select

from api.auth import current_user, require_role
from api.db_session import db
from api.schemas import ApiErrorSchema
from engine.models import AuditEvent, HumanTask, ProcessInstance, User
from engine.services import audit
from engine.services.users import get_user_by_email

blp = Blueprint("audit", __name__, description="The audit trail: verification and export")

CSV_COLUMNS = (
    "seq",
    "at",
    "action",
    "actor",
    "on_behalf_of",
    "instance_id",
    "process_key",
    "task_element",
    "details",
    "hash",
)


class ExportArgsSchema(Schema):
    email = fields.String(load_default=None, validate=validate.Length(3, 254))
    instance_id = fields.UUID(load_default=None)

    @validates_schema
    def _exactly_one(self, data, **_kwargs):
        if (data.get("email") is None) == (data.get("instance_id") is None):
            raise SchemaError("give exactly one of email and instance_id", "_schema")


class VerificationSchema(Schema):
    intact = fields.Boolean()
    events = fields.Integer()
    seq = fields.Integer(allow_none=True)
    event_id = fields.Integer(allow_none=True)
    problem = fields.String(allow_none=True)
    message = fields.String()


@blp.route("/verify")
class Verify(MethodView):
    @require_role("admin")
    @blp.response(200, VerificationSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    def get(self):
        """Walk the hash chain and report whether it is intact, or its first broken link (admin)."""
        return audit.verify(db()).as_dict()


@blp.route("/export.csv")
class Export(MethodView):
    @require_role("hr", "admin")
    @blp.arguments(ExportArgsSchema, location="query")
    @blp.response(200, content_type="text/csv")
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, args):
        """One person's or one request's audit trail as CSV (UTF-8 with BOM, for Excel). HR and admin."""
        session = db()
        actor = current_user()
        if args["email"] is not None:
            person = get_user_by_email(session, args["email"])
            rows = audit.trail_of_person(session, person.id)
            audit.record(session, "audit.exported", actor=actor, subject_id=person.id, scope="person")
            name = f"audit-person-{person.id}.csv"
        else:
            instance_id = args["instance_id"]
            if session.get(ProcessInstance, instance_id) is None:
                abort(404, message=f"instance {instance_id} not found")
            rows = audit.events_for_instance(session, instance_id)
            audit.record(session, "audit.exported", actor=actor, instance_id=instance_id, scope="instance")
            name = f"audit-instance-{instance_id}.csv"
        return Response(
            _csv(session, rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def _csv(session, rows: list[AuditEvent]) -> bytes:
    people = _emails(session, {r.actor_id for r in rows} | {_behalf(r) for r in rows})
    keys = _process_keys(session, {r.instance_id for r in rows})
    elements = _task_elements(session, {r.task_id for r in rows})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            (
                r.chain_seq,
                r.at.astimezone(UTC).isoformat(),
                r.action,
                people.get(r.actor_id, ""),
                people.get(_behalf(r), ""),
                r.instance_id or "",
                keys.get(r.instance_id) or r.details.get("key", ""),
                elements.get(r.task_id) or r.details.get("element_id", ""),
                json.dumps(r.details, ensure_ascii=False, sort_keys=True),
                r.hash,
            )
        )
    # The BOM makes Excel read the file as UTF-8, so Cyrillic names stay readable.
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _behalf(row: AuditEvent) -> int | None:
    value = row.details.get("on_behalf_of")
    return value if isinstance(value, int) else None


def _emails(session, ids: set) -> dict[int, str]:
    ids.discard(None)
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())


def _process_keys(session, ids: set) -> dict[uuid.UUID, str]:
    ids.discard(None)
    if not ids:
        return {}
    query = select(ProcessInstance.id, ProcessInstance.process_key).where(ProcessInstance.id.in_(ids))
    return dict(session.execute(query).all())


def _task_elements(session, ids: set) -> dict[uuid.UUID, str]:
    ids.discard(None)
    if not ids:
        return {}
    return dict(
        session.execute(select(HumanTask.id, HumanTask.element_id).where(HumanTask.id.in_(ids))).all()
    )
