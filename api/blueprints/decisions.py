"""/api/v1/decisions: the DMN decisions HR edits (versioned), and a preview that decides nothing."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from api import etags
from api.auth import current_user, require_role
from api.db_session import db
from api.schemas import ApiErrorSchema
from engine.errors import InvalidData
from engine.services import decision_tables
from engine.services.decision_tables import DecisionState
from engine.services.rule_tables import StaleVersion

blp = Blueprint("decisions", __name__, description="DMN decisions HR edits, versioned, and their preview")

XML_TYPES = ("application/xml", "text/xml")
READERS = ("hr", "admin", "designer")  # designers build the routes that call these decisions
WRITERS = ("hr", "admin")


class BundleSourceSchema(Schema):
    key = fields.String(metadata={"description": "the process key of the bundle"})
    version = fields.Integer(metadata={"description": "the newest deployed version holding the decision"})
    filename = fields.String()


class DecisionSummarySchema(Schema):
    decision_id = fields.String()
    name = fields.String(metadata={"description": "the decision's name: task data gets the result under it"})
    version = fields.Integer(metadata={"description": "0 = as deployed with the bundle; 1, 2, ... HR's"})
    source = fields.Nested(BundleSourceSchema, allow_none=True, metadata={"description": "null: HR's own"})
    created_at = fields.DateTime(allow_none=True)
    created_by = fields.String(allow_none=True, metadata={"description": "e-mail; null for the bundle copy"})
    comment = fields.String()
    lines_added = fields.Integer(allow_none=True)
    lines_removed = fields.Integer(allow_none=True)


class DecisionChangeSchema(DecisionSummarySchema):
    changed = fields.Boolean(metadata={"description": "false when the text was already this version's"})


class EvaluateArgsSchema(Schema):
    inputs = fields.Raw(required=True, metadata={"description": "an object of input name: value"})
    version = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=0),
        metadata={"description": "the version to evaluate; default: the one in force"},
    )


class EvaluationSchema(Schema):
    decision_id = fields.String()
    version = fields.Integer()
    output = fields.Raw(allow_none=True)
    matched_rules = fields.List(fields.String(), metadata={"description": "ids of the rules that matched"})
    errors = fields.List(fields.String(), metadata={"description": "e.g. a UNIQUE table with two matches"})


def _summary(state: DecisionState, **extra: Any) -> dict[str, Any]:
    source = state.source
    diff = state.diff or {}
    return {
        "decision_id": state.decision_id,
        "name": state.name,
        "version": state.version,
        "source": {"key": source.key, "version": source.version, "filename": source.filename}
        if source
        else None,
        "created_at": state.created_at,
        "created_by": state.created_by,
        "comment": state.comment,
        "lines_added": diff.get("lines_added"),
        "lines_removed": diff.get("lines_removed"),
        **extra,
    }


def _xml_response(state: DecisionState) -> Response:
    return Response(
        state.content.encode("utf-8"),
        mimetype="application/xml",
        headers={
            **etags.etag_header(state.etag),
            "Content-Disposition": f'inline; filename="{state.decision_id}-v{state.version}.dmn"',
        },
    )


_XML_ANSWER = {
    "200": {
        "description": 'the DMN XML; `ETag: "<id>-v<version>"`',
        "content": {"application/xml": {"schema": {"type": "string"}}},
    }
}


@blp.route("")
class Decisions(MethodView):
    @require_role(*READERS)
    @blp.response(200, DecisionSummarySchema(many=True))
    @blp.alt_response(403, schema=ApiErrorSchema)
    def get(self):
        """Every decision HR may edit: those in deployed bundles' DMN files and HR's own, by id.

        `version` is the one in force: 0 is the copy deployed with the bundle named in `source`.
        """
        return [_summary(state) for state in decision_tables.list_decisions(db())]


@blp.route("/<string:decision_id>")
class DecisionById(MethodView):
    @require_role(*READERS)
    @blp.doc(responses=_XML_ANSWER)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, decision_id: str):
        """The DMN XML in force for a decision: HR's latest version, else the bundle's copy."""
        return _xml_response(decision_tables.current(db(), decision_id))

    @require_role(*WRITERS)
    @blp.response(200, DecisionChangeSchema)
    @blp.doc(
        requestBody={
            "required": True,
            "content": {t: {"schema": {"type": "string", "description": "a DMN file"}} for t in XML_TYPES},
        },
        parameters=[
            {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}},
            {"in": "query", "name": "comment", "required": False, "schema": {"type": "string"}},
        ],
    )
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(412, schema=ApiErrorSchema, description="the decision changed since the ETag was read")
    @blp.alt_response(415, schema=ApiErrorSchema, description="the body is not application/xml or text/xml")
    @blp.alt_response(
        422, schema=ApiErrorSchema, description="bad DMN: errors lists {field, line, element_id, message}"
    )
    @blp.alt_response(428, schema=ApiErrorSchema, description="If-Match missing")
    def put(self, decision_id: str):
        """Store a new version of a decision's DMN (HR, admin); it is used from the next evaluation on.

        Send the DMN file as the body (`Content-Type: application/xml`) with `If-Match` holding the
        ETag you read (`"<id>-v0"` or `*` to start a decision no bundle holds). The file is read
        first: a FEEL cell that does not parse, a missing decision `<id>`, or a renamed decision or
        output column a route reads are refused with the line and element, and nothing is saved.
        Past decisions keep the version they were made with.
        """
        expected = etags.expected_version(decision_id, f"/api/v1/decisions/{decision_id}")
        if request.mimetype not in XML_TYPES:
            abort(415, message=f"send the DMN file with Content-Type {' or '.join(XML_TYPES)}")
        comment = request.args.get("comment", "")
        if len(comment) > decision_tables.MAX_COMMENT:
            raise InvalidData(
                "the comment is too long",
                [{"field": "comment", "message": f"at most {decision_tables.MAX_COMMENT} characters"}],
            )
        try:
            state, changed = decision_tables.replace_dmn(
                db(),
                decision_id,
                request.get_data(),
                actor=current_user(),
                comment=comment,
                expected_version=expected,
            )
        except StaleVersion as exc:
            abort(412, message=exc.message)
        return _summary(state, changed=changed), etags.etag_header(state.etag)


@blp.route("/<string:decision_id>/versions")
class DecisionVersions(MethodView):
    @require_role(*READERS)
    @blp.response(200, DecisionSummarySchema(many=True))
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, decision_id: str):
        """Every version of a decision, newest first, down to version 0 (the bundle's copy) if any."""
        return [_summary(state) for state in decision_tables.list_versions(db(), decision_id)]


@blp.route("/<string:decision_id>/evaluate")
class DecisionEvaluation(MethodView):
    @require_role(*READERS)
    @blp.arguments(EvaluateArgsSchema)
    @blp.response(200, EvaluationSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema, description="inputs is not an object")
    def post(self, args, decision_id: str):
        """Try a decision on inputs, without touching any request: the output and the rules matched.

        Evaluates the version in force, or `version` (0: the bundle's copy). Nothing is written.
        """
        return decision_tables.evaluate(db(), decision_id, args["inputs"], version=args["version"])
