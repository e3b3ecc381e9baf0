"""Request and response schemas of the v1 API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.models import InstanceStatus


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
