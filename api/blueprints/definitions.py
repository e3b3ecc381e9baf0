"""/api/v1/definitions: deploy bundles and read deployed versions."""

from __future__ import annotations

import json

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from api import presenters
from api.auth import current_user, require_role
from api.db_session import db
from api.schemas import (
    ApiErrorSchema,
    DefinitionDetailSchema,
    DefinitionSchema,
    DeployedSchema,
    InstanceSchema,
    RoutePreviewArgsSchema,
    RoutePreviewSchema,
    StartArgsSchema,
    multipart_body,
)
from engine.errors import InvalidBundle, InvalidData
from engine.services import definitions, instances, route_preview

blp = Blueprint("definitions", __name__, description="Process definitions (BPMN bundles)")

UPLOAD_DOC = multipart_body(
    {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}}, ["files"]
)


@blp.route("")
class Definitions(MethodView):
    @blp.response(200, DefinitionSchema(many=True))
    def get(self):
        """The latest version of every process key."""
        return [presenters.definition(row) for row in definitions.list_latest(db())]

    @blp.doc(**UPLOAD_DOC)
    @blp.response(201, DeployedSchema)
    @blp.alt_response(422, schema=ApiErrorSchema, description="the validation report is in `errors`")
    @require_role("designer", "admin")
    def post(self):
        """Deploy a bundle (one BPMN file plus its DMN and JSON Schema form files) as a new version."""
        uploads = request.files.getlist("files")
        if not uploads:
            raise InvalidBundle(
                "upload the bundle as multipart field 'files'",
                [{"file": None, "element_id": None, "line": None, "message": "no files uploaded"}],
            )
        files: dict[str, bytes] = {}
        for upload in uploads:
            name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
            files[name or "unnamed"] = upload.read()
        row = definitions.deploy_bundle(db(), files, actor=current_user())
        return {
            "id": row.id,
            "key": row.key,
            "version": row.version,
            "name": row.name,
            "names": row.names,
            "warnings": row.warnings,
        }


@blp.route("/<string:key>")
class DefinitionByKey(MethodView):
    @blp.response(200, DefinitionDetailSchema)
    def get(self, key: str):
        """The latest version of a key, with the list of all its versions."""
        rows = definitions.list_versions(db(), key)
        return {
            **presenters.definition(rows[0]),
            "versions": [
                {"id": r.id, "version": r.version, "deployed_at": r.deployed_at, "checksum": r.checksum}
                for r in rows
            ],
        }


@blp.route("/<string:key>/instances")
class DefinitionInstances(MethodView):
    @blp.arguments(StartArgsSchema)
    @blp.response(201, InstanceSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="an active instance has this business key")
    @blp.alt_response(422, schema=ApiErrorSchema, description="start form errors, per field")
    @blp.doc(
        parameters=[
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": False,
                "schema": {"type": "string", "maxLength": 200},
                "description": "a repeated key returns the first result and starts nothing new",
            }
        ]
    )
    def post(self, args, key: str):
        """Start the latest version of a process with the start form data."""
        row, created = instances.start_instance(
            db(),
            key=key,
            actor=current_user(),
            data=args["data"],
            business_key=args["business_key"],
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        body = presenters.instance(db(), row, instances.open_tasks(db(), row.id))
        return body, 201, {"Idempotent-Replayed": "false" if created else "true"}


@blp.route("/<string:key>/route-preview")
class DefinitionRoutePreview(MethodView):
    @blp.arguments(RoutePreviewArgsSchema, location="query")
    @blp.response(200, RoutePreviewSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="no process with this key")
    @blp.alt_response(
        422, schema=ApiErrorSchema, description="`data` is not JSON, fails the start form, or the route fails"
    )
    def get(self, args, key: str):
        """Who would approve a request, in order, if the caller submitted `data` now. Nothing is stored."""
        try:
            data = json.loads(args["data"])
        except json.JSONDecodeError as exc:
            raise InvalidData(
                "the query parameter 'data' is not valid JSON",
                [{"field": "data", "message": f"not valid JSON: {exc.msg} at position {exc.pos}"}],
            ) from None
        preview = route_preview.preview_route(db(), key=key, initiator=current_user(), data=data)
        return presenters.route_preview(preview)
