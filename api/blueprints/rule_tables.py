"""/api/v1/rule-tables: The rule tables HR edits, versioned, as JSON or CSV."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields

from api import etags
from api.auth import current_user, require_role
from api.db_session import db
from api.schemas import ApiErrorSchema
from engine.errors import InvalidData
from engine.services import rule_tables
from engine.services.rule_tables import StaleVersion, TableState

blp = Blueprint("rule-tables", __name__, description="Rule tables HR edits, versioned (JSON or CSV)")

CSV_TYPES = ("text/csv", "application/csv")
MAX_COMMENT = 2000


class RuleTableSummarySchema(Schema):
    name = fields.String()
    title = fields.String()
    description = fields.String()
    version = fields.Integer(metadata={"description": "0 = the catalog's default rows, never edited"})
    updated_at = fields.DateTime(allow_none=True)
    updated_by = fields.String(allow_none=True, metadata={"description": "e-mail; null for the command line"})
    writable = fields.Boolean(metadata={"description": "whether the caller may change it"})


class RuleTableSchema(RuleTableSummarySchema):
    key = fields.List(fields.String(), metadata={"description": "the columns that name a row"})
    columns = fields.List(fields.String())
    schema = fields.Dict(metadata={"description": "the JSON Schema of one row"})
    rows = fields.List(fields.Dict())
    comment = fields.String()
    changed = fields.Boolean(metadata={"description": "PUT only: false when the rows were already these"})
    diff = fields.Dict(metadata={"description": "PUT only: {added, removed, changed} of the new version"})


class RuleTableVersionSummarySchema(Schema):
    version = fields.Integer()
    created_at = fields.DateTime(allow_none=True)
    created_by = fields.String(allow_none=True)
    comment = fields.String()
    added = fields.Integer()
    removed = fields.Integer()
    changed = fields.Integer()


class RuleTableVersionSchema(RuleTableVersionSummarySchema):
    rows = fields.List(fields.Dict())
    diff = fields.Dict(
        metadata={"description": "{added: [rows], removed: [rows], changed: [{key, changes}]}"}
    )


class CsvQueryArgsSchema(Schema):
    format = fields.String(load_default=None, metadata={"description": "csv: answer with CSV"})


def _table(state: TableState, **extra: Any) -> dict[str, Any]:
    spec = state.spec
    return {
        "name": spec.name,
        "title": spec.title,
        "description": spec.description,
        "version": state.version,
        "updated_at": state.updated_at,
        "updated_by": state.updated_by,
        "writable": spec.may_write(current_user().roles),
        "key": list(spec.key),
        "columns": list(spec.columns),
        "schema": spec.row_schema,
        "rows": state.rows,
        "comment": state.comment,
        **extra,
    }


def _wants_csv(args: dict) -> bool:
    if (args.get("format") or "").lower() == "csv":
        return True
    return request.accept_mimetypes.best_match(["application/json", *CSV_TYPES]) in CSV_TYPES


def _csv_response(state: TableState) -> Response:
    return Response(
        rule_tables.to_csv(state.spec, state.rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{state.name}-v{state.version}.csv"',
            **etags.etag_header(state.etag),
        },
    )


def _readable(name: str):
    spec = rule_tables.get_spec(name)
    rule_tables.check_may_read(spec, current_user())
    return spec


@blp.route("")
class RuleTables(MethodView):
    @blp.response(200, RuleTableSummarySchema(many=True))
    def get(self):
        """The rule tables the caller may read, with their current version and who changed them last.

        HR, admins, designers and managers read every table; employees read leave_types,
        unpaid_leave_grounds, production_calendar and certificate_slas.
        """
        user = current_user()
        states = rule_tables.list_current(db(), rule_tables.readable_tables(user))
        return [
            {
                "name": s.spec.name,
                "title": s.spec.title,
                "description": s.spec.description,
                "version": s.version,
                "updated_at": s.updated_at,
                "updated_by": s.updated_by,
                "writable": s.spec.may_write(user.roles),
            }
            for s in states
        ]


@blp.route("/<string:name>")
class RuleTableByName(MethodView):
    @blp.arguments(CsvQueryArgsSchema, location="query")
    @blp.response(200, RuleTableSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, args, name: str):
        """The current rows of a table with its row schema; `ETag: "<name>-v<version>"`.

        With `Accept: text/csv` or `?format=csv`: the rows as CSV (UTF-8 with BOM, `;` between
        cells, the header names the columns; booleans true/false, lists joined with `,`).
        """
        _readable(name)
        state = rule_tables.current(db(), name)
        if _wants_csv(args):
            return _csv_response(state)
        return _table(state), etags.etag_header(state.etag)

    @require_role("hr", "admin")
    @blp.response(200, RuleTableSchema)
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["rows"],
                        "properties": {
                            "rows": {"type": "array", "items": {"type": "object"}},
                            "comment": {"type": "string", "maxLength": MAX_COMMENT},
                        },
                    }
                },
                "text/csv": {"schema": {"type": "string", "description": "as GET ?format=csv; ?comment=..."}},
            },
        },
        parameters=[
            {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}},
            {"in": "query", "name": "comment", "required": False, "schema": {"type": "string"}},
        ],
    )
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(412, schema=ApiErrorSchema, description="the table changed since the ETag was read")
    @blp.alt_response(422, schema=ApiErrorSchema, description="bad rows: errors lists {row, field, message}")
    @blp.alt_response(428, schema=ApiErrorSchema, description="If-Match missing")
    def put(self, name: str):
        """Replace every row of a table, making a new version (HR, admin). All or nothing.

        Send `If-Match` with the ETag of the version you read. Body: JSON `{rows, comment}`, or a
        CSV file (`Content-Type: text/csv`, comment in `?comment=`). Every bad row is listed in
        `errors` as `{row, field, message}` (row: 1-based position, or the CSV line with the header
        as line 1) and nothing is saved. Rows equal to the current ones make no new version.
        """
        rule_tables.get_spec(name)
        expected = etags.expected_version(name, f"/api/v1/rule-tables/{name}")
        actor = current_user()
        try:
            if request.mimetype in CSV_TYPES:
                comment = _comment(request.args.get("comment", ""))
                state, changed = rule_tables.import_csv(
                    db(), name, request.get_data(), actor=actor, comment=comment, expected_version=expected
                )
            else:
                rows, comment = _json_body()
                state, changed = rule_tables.replace_rows(
                    db(), name, rows, actor=actor, comment=comment, expected_version=expected
                )
        except StaleVersion as exc:
            abort(412, message=exc.message)
        diff = state.diff if changed else {"added": [], "removed": [], "changed": []}
        return _table(state, changed=changed, diff=diff), etags.etag_header(state.etag)


def _comment(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_COMMENT:
        raise InvalidData(
            "the comment is not valid",
            [{"field": "comment", "message": f"text up to {MAX_COMMENT} characters"}],
        )
    return value


def _json_body() -> tuple[Any, str]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "rows" not in body:
        raise InvalidData(
            'send JSON {"rows": [...], "comment": "..."} or a CSV file with Content-Type text/csv',
            [{"field": "rows", "message": "required"}],
        )
    unknown = sorted(set(body) - {"rows", "comment"})
    if unknown:
        raise InvalidData(
            "the request body is not valid", [{"field": f, "message": "unknown field"} for f in unknown]
        )
    return body["rows"], _comment(body.get("comment", ""))


@blp.route("/<string:name>/versions")
class RuleTableVersions(MethodView):
    @blp.response(200, RuleTableVersionSummarySchema(many=True))
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, name: str):
        """Every version of a table, newest first, down to version 0 (the catalog's defaults)."""
        _readable(name)
        return [
            {
                "version": s.version,
                "created_at": s.updated_at,
                "created_by": s.updated_by,
                "comment": s.comment,
                **rule_tables.diff_counts(s.diff),
            }
            for s in rule_tables.list_versions(db(), name)
        ]


@blp.route("/<string:name>/versions/<int:version>")
class RuleTableVersionByNumber(MethodView):
    @blp.arguments(CsvQueryArgsSchema, location="query")
    @blp.response(200, RuleTableVersionSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, args, name: str, version: int):
        """One version of a table: its rows and its diff against the version before (CSV as GET)."""
        _readable(name)
        state = rule_tables.get_version(db(), name, version)
        if _wants_csv(args):
            return _csv_response(state)
        return {
            "version": state.version,
            "created_at": state.updated_at,
            "created_by": state.updated_by,
            "comment": state.comment,
            **rule_tables.diff_counts(state.diff),
            "rows": state.rows,
            "diff": state.diff,
        }, etags.etag_header(state.etag)
