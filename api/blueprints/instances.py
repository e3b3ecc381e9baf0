"""/api/v1/instances and starting instances under /api/v1/definitions/{key}/instances."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from api import presenters
from api.auth import current_user, require_role
from api.blueprints.retention import LegalHoldArgsSchema, LegalHoldSchema, legal_hold
from api.db_session import db
from api.schemas import (
    ApiErrorSchema,
    AuditEventSchema,
    InstanceQueryArgsSchema,
    InstanceSchema,
    InstanceSummarySchema,
)
from engine.models import InstanceStatus
from engine.services import decision_records, instances, purge

blp = Blueprint("instances", __name__, description="Process instances (requests)")


@blp.route("")
class Instances(MethodView):
    @blp.arguments(InstanceQueryArgsSchema, location="query")
    @blp.response(200, InstanceSummarySchema(many=True))
    def get(self, args):
        """The caller's own instances and their reports'; every instance for HR and admin."""
        status = InstanceStatus(args["status"]) if args["status"] else None
        rows = instances.list_instances(
            db(),
            viewer=current_user(),
            key=args["key"],
            status=status,
            limit=args["limit"],
            offset=args["offset"],
        )
        return presenters.instance_summaries(db(), rows)


@blp.route("/<uuid:instance_id>")
class InstanceById(MethodView):
    @blp.response(200, InstanceSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, instance_id: uuid.UUID):
        """Status, data and open tasks of one instance."""
        row = instances.get_instance(db(), instance_id, viewer=current_user())
        return presenters.instance(db(), row, instances.open_tasks(db(), row.id))


@blp.route("/<uuid:instance_id>/history")
class InstanceHistory(MethodView):
    @blp.response(200, AuditEventSchema(many=True))
    def get(self, instance_id: uuid.UUID):
        """The audit events of one instance, oldest first."""
        return presenters.events(db(), instances.history(db(), instance_id, viewer=current_user()))


class DecisionRecordSchema(Schema):
    id = fields.Integer()
    instance_id = fields.UUID()
    element_id = fields.String(allow_none=True)
    rule = fields.String(metadata={"description": "e.g. leave.balance, or a DMN decision id"})
    tables = fields.Dict(metadata={"description": "{rule table: version} the rule read"})
    inputs = fields.Dict()
    output = fields.Raw(allow_none=True)
    outcome = fields.String(metadata={"description": "stable code, e.g. OK, INSUFFICIENT_BALANCE"})
    message = fields.String()
    sensitive_fields = fields.List(fields.String())
    masked = fields.Boolean(metadata={"description": "the sensitive fields are hidden from the caller"})
    at = fields.DateTime()


@blp.route("/<uuid:instance_id>/decisions")
class InstanceDecisions(MethodView):
    @blp.response(200, DecisionRecordSchema(many=True))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, instance_id: uuid.UUID):
        """The rule decisions of one instance, oldest first: inputs, output and table versions.

        Visible to whoever sees the instance; sensitive inputs (a salary) are masked unless the
        caller may see the instance's sensitive data.
        """
        return decision_records.decisions_for_viewer(db(), instance_id, viewer=current_user())


@blp.route("/<uuid:instance_id>/cancel")
class InstanceCancel(MethodView):
    @blp.response(200, InstanceSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def post(self, instance_id: uuid.UUID):
        """Cancel a running instance (its initiator or an admin)."""
        row = instances.cancel_instance(db(), instance_id, actor=current_user())
        return presenters.instance(db(), row, [])


@blp.route("/<uuid:instance_id>/legal-hold")
class InstanceLegalHold(MethodView):
    @require_role("hr", "admin")
    @blp.arguments(LegalHoldArgsSchema)
    @blp.response(200, LegalHoldSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def post(self, args, instance_id: uuid.UUID):
        """Put an instance under a legal hold: purge skips it until the hold is cleared (HR, admin)."""
        instances.get_instance(db(), instance_id, viewer=current_user())
        row = instances.lock_instance(db(), instance_id)
        purge.set_legal_hold(db(), row, args["reason"], actor=current_user())
        return legal_hold(row)

    @require_role("hr", "admin")
    @blp.response(200, LegalHoldSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def delete(self, instance_id: uuid.UUID):
        """Clear the legal hold of an instance (HR, admin)."""
        instances.get_instance(db(), instance_id, viewer=current_user())
        row = instances.lock_instance(db(), instance_id)
        purge.clear_legal_hold(db(), row, actor=current_user())
        return legal_hold(row)


# The documents of an instance live in their own module and add their routes to this blueprint.
from api.blueprints import instance_documents  # noqa: E402, F401
