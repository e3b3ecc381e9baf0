"""/api/v1/incidents: Background work that failed for good; HR retries it, skips it or cancels the request."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from api.auth import current_user, require_role
from api.db_session import db
from api.schemas import ApiErrorSchema
from engine.models import Incident, IncidentStatus, ProcessInstance, User
from engine.services import incidents

blp = Blueprint("incidents", __name__, description="Failed background work and HR's answers to it")


class IncidentArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in IncidentStatus]))
    instance_id = fields.UUID(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(1, incidents.MAX_LIST))
    offset = fields.Integer(load_default=0, validate=validate.Range(0))


class SkipSchema(Schema):
    data = fields.Dict(
        required=True, metadata={"description": "the service task's output, stored as its result"}
    )


class IncidentSchema(Schema):
    id = fields.Integer()
    instance_id = fields.UUID(allow_none=True)
    instance_status = fields.String(allow_none=True)
    process_key = fields.String(allow_none=True)
    task_id = fields.UUID(allow_none=True)
    element_id = fields.String(allow_none=True)
    kind = fields.String()
    operator = fields.String(allow_none=True)
    job_id = fields.Integer(allow_none=True)
    timer_id = fields.Integer(allow_none=True)
    error = fields.String()
    attempts = fields.Integer()
    status = fields.String()
    resolution = fields.String(allow_none=True)
    resolution_data = fields.Dict(allow_none=True)
    resolved_by = fields.String(allow_none=True, metadata={"description": "e-mail of who resolved it"})
    resolved_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class IncidentDetailSchema(IncidentSchema):
    traceback = fields.String(allow_none=True)


def _shown(incident: Incident) -> dict:
    session = db()
    instance = session.get(ProcessInstance, incident.instance_id) if incident.instance_id else None
    resolver = session.get(User, incident.resolved_by_id) if incident.resolved_by_id else None
    return {
        **{
            column: getattr(incident, column)
            for column in IncidentDetailSchema().fields
            if hasattr(incident, column)
        },
        "status": incident.status.value,
        "instance_status": instance.status.value if instance is not None else None,
        "process_key": instance.process_key if instance is not None else None,
        "resolved_by": resolver.email if resolver is not None else None,
    }


@blp.route("")
class Incidents(MethodView):
    @require_role(*incidents.ROLES)
    @blp.arguments(IncidentArgsSchema, location="query")
    @blp.response(200, IncidentSchema(many=True))
    @blp.alt_response(403, schema=ApiErrorSchema)
    def get(self, args):
        """Incidents, newest first; ?status=open|resolved, ?instance_id= (HR and admin)."""
        status = IncidentStatus(args["status"]) if args["status"] else None
        rows = incidents.list_incidents(
            db(),
            actor=current_user(),
            status=status,
            instance_id=args["instance_id"],
            limit=args["limit"],
            offset=args["offset"],
        )
        return [_shown(row) for row in rows]


@blp.route("/<int:incident_id>")
class IncidentById(MethodView):
    @require_role(*incidents.ROLES)
    @blp.response(200, IncidentDetailSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, incident_id: int):
        """One incident with the error's traceback (HR and admin)."""
        return _shown(incidents.get_incident(db(), incident_id, actor=current_user()))


@blp.route("/<int:incident_id>/retry")
class Retry(MethodView):
    @require_role(*incidents.ROLES)
    @blp.response(200, IncidentSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="already resolved, or the request moved on")
    def post(self, incident_id: int):
        """Run the failed service task again, with all its attempts (HR and admin)."""
        return _shown(incidents.retry(db(), incident_id, actor=current_user()))


@blp.route("/<int:incident_id>/skip")
class Skip(MethodView):
    @require_role(*incidents.ROLES)
    @blp.arguments(SkipSchema)
    @blp.response(200, IncidentSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="already resolved, or the request moved on")
    @blp.alt_response(422, schema=ApiErrorSchema, description="data is not an object, or the route failed")
    def post(self, args, incident_id: int):
        """Complete the failed service task with the given output and run the request on (HR and admin)."""
        return _shown(incidents.skip(db(), incident_id, actor=current_user(), output=args["data"]))


@blp.route("/<int:incident_id>/cancel")
class Cancel(MethodView):
    @require_role(*incidents.ROLES)
    @blp.response(200, IncidentSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(
        409, schema=ApiErrorSchema, description="already resolved, or the request is not running"
    )
    def post(self, incident_id: int):
        """Cancel the request the incident stopped (HR and admin)."""
        return _shown(incidents.cancel(db(), incident_id, actor=current_user()))
