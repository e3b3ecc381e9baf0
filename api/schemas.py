"""Request and response schemas of the v1 API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.models import InstanceStatus


def multipart_body(properties: dict, required: list[str]) -> dict:
    """The OpenAPI ``requestBody`` of a multipart upload, for ``@blp.doc(**multipart_body(...))``."""
    schema = {"type": "object", "properties": properties, "required": required}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


class ApiErrorSchema(Schema):
    code = fields.Integer()
    status = fields.String()
    message = fields.String()
    errors = fields.Raw()


class ReportEntrySchema(Schema):
    file = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)
    line = fields.Integer(allow_none=True)
    message = fields.String()


class DeployedSchema(Schema):
    id = fields.UUID()
    key = fields.String()
    version = fields.Integer()
    name = fields.String()
    warnings = fields.List(fields.Nested(ReportEntrySchema))


class VersionSchema(Schema):
    id = fields.UUID()
    version = fields.Integer()
    deployed_at = fields.DateTime()
    checksum = fields.String()


class DefinitionSchema(Schema):
    id = fields.UUID()
    key = fields.String()
    version = fields.Integer()
    name = fields.String()
    names = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": "name per language"}
    )
    deployed_at = fields.DateTime()
    start_form = fields.String(allow_none=True, metadata={"description": "form file name"})
    start_form_schema = fields.Dict(allow_none=True)
    warnings = fields.List(fields.Nested(ReportEntrySchema))


class DefinitionDetailSchema(DefinitionSchema):
    versions = fields.List(fields.Nested(VersionSchema))


class TaskSchema(Schema):
    id = fields.UUID()
    instance_id = fields.UUID()
    process_key = fields.String()
    name = fields.String()
    element_id = fields.String()
    lane = fields.String(allow_none=True)
    status = fields.String()
    assignee = fields.String(allow_none=True, metadata={"description": "e-mail of the assignee"})
    candidate_users = fields.List(fields.String())
    candidate_roles = fields.List(fields.String())
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)
    on_behalf_of = fields.String(
        allow_none=True, metadata={"description": "e-mail of the person the assignee stands in for (away)"}
    )
    form = fields.String(allow_none=True)
    form_schema = fields.Dict(allow_none=True)


class TaskDetailSchema(TaskSchema):
    data = fields.Dict(metadata={"description": "the request's data, for the approver to decide"})


class InstanceSchema(Schema):
    id = fields.UUID()
    key = fields.String()
    version = fields.Integer()
    definition_id = fields.UUID()
    status = fields.String()
    business_key = fields.String(allow_none=True)
    initiator = fields.String()
    data = fields.Dict()
    error = fields.String(allow_none=True, metadata={"description": "why the last step failed, if it did"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    open_tasks = fields.List(fields.Nested(TaskSchema))


class InstanceSummarySchema(Schema):
    id = fields.UUID()
    key = fields.String()
    version = fields.Integer()
    status = fields.String()
    business_key = fields.String(allow_none=True)
    initiator = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


class AuditEventSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String(allow_none=True)
    action = fields.String()
    instance_id = fields.UUID(allow_none=True)
    task_id = fields.UUID(allow_none=True)
    details = fields.Dict()


class StartArgsSchema(Schema):
    business_key = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 200))
    data = fields.Raw(load_default=dict, metadata={"description": "start form data"})


class CompleteArgsSchema(Schema):
    data = fields.Raw(load_default=dict, metadata={"description": "the task's form data"})


class PageArgsSchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0))


class InstanceQueryArgsSchema(PageArgsSchema):
    key = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in InstanceStatus]))


# --- sign-in: invitations, activation, tokens, the web session ---------------------------------


class InvitationArgsSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(3, 254))


class InvitationSchema(Schema):
    email = fields.String()
    code = fields.String(metadata={"description": "the one-time activation code; shown only in this answer"})
    expires_at = fields.DateTime()
    activation_url = fields.String(metadata={"description": "the web page that takes the code"})


class ActivateArgsSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(1, 200))
    password = fields.String(required=True, validate=validate.Length(max=1024))


class ActivatedSchema(Schema):
    email = fields.String()


class TokenArgsSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(1, 254))
    password = fields.String(required=True, validate=validate.Length(max=1024))


class TokenSchema(Schema):
    token = fields.String(metadata={"description": "a bearer token; send it as 'Authorization: Bearer …'"})


class SessionSchema(Schema):
    email = fields.String()
    name = fields.String()
    roles = fields.List(fields.String())
    csrf_token = fields.String(
        allow_none=True, metadata={"description": "for unsafe calls made with the session cookie"}
    )


class StaffImportArgsSchema(Schema):
    # Not required here: the view answers a missing file with its own 422 naming the field `file`.
    file = fields.Raw(
        load_default=None,
        metadata={"type": "string", "format": "binary", "description": "the payroll CSV (required)"},
    )


class StaffImportCountsSchema(Schema):
    rows = fields.Integer(metadata={"description": "data rows in the file (blank lines not counted)"})
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    dismissed = fields.Integer(metadata={"description": "imported people absent from the file"})
    reactivated = fields.Integer(metadata={"description": "dismissed people back in the file (also updated)"})
    rejected = fields.Integer()


class StaffRowNoteSchema(Schema):
    row = fields.Integer(allow_none=True, metadata={"description": "spreadsheet row; the header is row 1"})
    personnel_number = fields.String(allow_none=True)


class StaffRejectedRowSchema(StaffRowNoteSchema):
    reason = fields.String()


class StaffWarningSchema(StaffRowNoteSchema):
    message = fields.String()


class StaffImportReportSchema(Schema):
    counts = fields.Nested(StaffImportCountsSchema)
    manager_role = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "granted, revoked"}
    )
    departments = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "created, updated"}
    )
    rejected = fields.List(fields.Nested(StaffRejectedRowSchema))
    warnings = fields.List(fields.Nested(StaffWarningSchema))


class DepartmentPersonSchema(Schema):
    email = fields.String()
    name = fields.String()


class DepartmentSchema(Schema):
    code = fields.String()
    name = fields.String()
    parent_code = fields.String(allow_none=True)
    head = fields.Nested(DepartmentPersonSchema, allow_none=True)
    hr_partner = fields.Nested(DepartmentPersonSchema, allow_none=True)


class DepartmentUpdateArgsSchema(Schema):
    # A key left out keeps its value; null clears a link (parent, head, HR partner).
    name = fields.String(validate=validate.Length(1, 255))
    parent_code = fields.String(allow_none=True, validate=validate.Length(1, 64))
    head_email = fields.String(allow_none=True, validate=validate.Length(1, 254))
    hr_partner_email = fields.String(allow_none=True, validate=validate.Length(1, 254))


# --- who approves: me, out of office, coordinators, route preview -----------------------------


class PersonRefSchema(Schema):
    email = fields.String()
    name = fields.String()


class AwayArgsSchema(Schema):
    substitute_email = fields.String(required=True, validate=validate.Length(1, 254))
    starts_on = fields.Date(required=True, data_key="from", metadata={"description": "first day away"})
    ends_on = fields.Date(required=True, data_key="to", metadata={"description": "last day away (inclusive)"})


class AwaySchema(Schema):
    substitute = fields.Nested(PersonRefSchema)
    starts_on = fields.Date(data_key="from")
    ends_on = fields.Date(data_key="to")
    active = fields.Boolean(metadata={"description": "the period covers today"})


class MeSchema(Schema):
    email = fields.String()
    name = fields.String()
    roles = fields.List(fields.String())
    department = fields.String(allow_none=True)
    manager_email = fields.String(allow_none=True)
    language = fields.String(metadata={"description": "ru or en: notifications and e-mail"})
    away = fields.Nested(AwaySchema, allow_none=True)


class CoordinatorArgsSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(1, 254))


class CoordinatorSchema(Schema):
    request_type = fields.String()
    coordinator = fields.Nested(PersonRefSchema)
    updated_at = fields.DateTime()


class RoutePreviewArgsSchema(Schema):
    data = fields.String(load_default="{}", metadata={"description": "the would-be start form data, as JSON"})


class PreviewCandidatesSchema(Schema):
    users = fields.List(fields.Nested(PersonRefSchema))
    roles = fields.List(fields.String())


class RoutePreviewStepSchema(Schema):
    element_id = fields.String()
    name = fields.String()
    assignee = fields.Nested(PersonRefSchema, allow_none=True)
    candidates = fields.Nested(PreviewCandidatesSchema, allow_none=True)
    on_behalf_of = fields.Nested(PersonRefSchema, allow_none=True)
    reason = fields.String(
        allow_none=True, metadata={"description": 'e.g. "one level up: separation of duties"'}
    )


class RoutePreviewSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    steps = fields.List(fields.Nested(RoutePreviewStepSchema))
    stopped = fields.String(
        metadata={"description": "end; loop (a step came round again); limit; waiting (a timer or message)"}
    )
