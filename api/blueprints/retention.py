"""/api/v1/retention: Retention classes, purge and legal hold."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from api.auth import current_user, require_role
from api.db_session import db
from api.schemas import ApiErrorSchema
from engine.models import User
from engine.services import retention

blp = Blueprint("retention", __name__, description="Retention classes, purge and legal hold")


class RetentionClassSchema(Schema):
    name = fields.String()
    years = fields.Integer()
    basis = fields.String()


class RetentionPolicySchema(Schema):
    process_key = fields.String()
    retention_class = fields.String()
    source = fields.String(metadata={"description": "set (by HR), default (shipped) or fallback (longest)"})


class RetentionOverviewSchema(Schema):
    classes = fields.List(fields.Nested(RetentionClassSchema))
    policies = fields.List(fields.Nested(RetentionPolicySchema))


class RetentionSetArgsSchema(Schema):
    retention_class = fields.String(required=True)


@blp.route("")
class Retention(MethodView):
    @require_role("hr", "admin")
    @blp.response(200, RetentionOverviewSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    def get(self):
        """The retention classes and each process key's class (HR and admin)."""
        classes = [{"name": c.name, "years": c.years, "basis": c.basis} for c in retention.CLASSES.values()]
        return {"classes": classes, "policies": retention.list_policies(db())}


@blp.route("/<string:key>")
class RetentionByKey(MethodView):
    @require_role("hr", "admin")
    @blp.arguments(RetentionSetArgsSchema)
    @blp.response(200, RetentionPolicySchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    def put(self, args, key: str):
        """Give a process key a retention class (HR and admin); audited."""
        row = retention.set_policy(db(), key, args["retention_class"], actor=current_user())
        return {"process_key": row.process_key, "retention_class": row.retention_class, "source": "set"}


# --- legal hold: the views live on /api/v1/instances/{id}/legal-hold (api/blueprints/instances.py) ---


class LegalHoldArgsSchema(Schema):
    reason = fields.String(required=True, metadata={"description": "why the data must be kept"})


class LegalHoldSchema(Schema):
    instance_id = fields.UUID()
    held = fields.Boolean()
    reason = fields.String(allow_none=True)
    held_at = fields.DateTime(allow_none=True)
    held_by = fields.String(allow_none=True)


def legal_hold(instance) -> dict:
    """The hold state of an instance as the API shows it."""
    held_by = db().get(User, instance.legal_hold_by_id) if instance.legal_hold_by_id else None
    return {
        "instance_id": instance.id,
        "held": instance.legal_hold_at is not None,
        "reason": instance.legal_hold_reason,
        "held_at": instance.legal_hold_at,
        "held_by": held_by.email if held_by else None,
    }
