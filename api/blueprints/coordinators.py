"""/api/v1/coordinators: Who receives each kind of request."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from api import presenters
from api.auth import current_user, require_role
from api.db_session import db
from api.schemas import ApiErrorSchema, CoordinatorArgsSchema, CoordinatorSchema
from engine.services import coordinators

blp = Blueprint("coordinators", __name__, description="Who receives each kind of request")


def _shown(row, user) -> dict:
    return {
        "request_type": row.request_type,
        "coordinator": presenters.person(user),
        "updated_at": row.updated_at,
    }


@blp.route("")
class Coordinators(MethodView):
    @blp.response(200, CoordinatorSchema(many=True))
    def get(self):
        """The coordinator named for each request type (a process key)."""
        return [_shown(row, user) for row, user in coordinators.list_coordinators(db())]


@blp.route("/<string:request_type>")
class CoordinatorByType(MethodView):
    @blp.arguments(CoordinatorArgsSchema)
    @blp.response(200, CoordinatorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema, description="unknown e-mail or malformed request type")
    @require_role("hr", "admin")
    def put(self, args, request_type: str):
        """Name the coordinator of a request type; `coordinator()` in a route resolves to them."""
        row, user = coordinators.set_coordinator(
            db(), request_type=request_type, email=args["email"], actor=current_user()
        )
        return _shown(row, user)

    @blp.response(204)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @require_role("hr", "admin")
    def delete(self, request_type: str):
        """Stop naming a coordinator for a request type."""
        coordinators.remove_coordinator(db(), request_type=request_type, actor=current_user())
