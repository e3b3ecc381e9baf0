"""/api/v1/tasks: the inbox, claiming and completing."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from api import presenters
from api.auth import current_user
from api.db_session import db
from api.schemas import ApiErrorSchema, CompleteArgsSchema, PageArgsSchema, TaskDetailSchema, TaskSchema
from engine.services import tasks

blp = Blueprint("tasks", __name__, description="Human tasks")


@blp.route("")
class Tasks(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, TaskSchema(many=True))
    def get(self, args):
        """The open tasks the caller may act on, oldest first."""
        rows = tasks.list_tasks(db(), user=current_user(), limit=args["limit"], offset=args["offset"])
        return presenters.tasks(db(), rows)


@blp.route("/<uuid:task_id>")
class TaskById(MethodView):
    @blp.response(200, TaskDetailSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, task_id: uuid.UUID):
        """One task, with the request's data."""
        row, _instance = tasks.get_task(db(), task_id, viewer=current_user())
        return presenters.tasks(db(), [row], with_data=True)[0]


@blp.route("/<uuid:task_id>/claim")
class TaskClaim(MethodView):
    @blp.response(200, TaskSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def post(self, task_id: uuid.UUID):
        """Claim a task open to you as a candidate, so that only you may complete it."""
        row = tasks.claim_task(db(), task_id, actor=current_user())
        return presenters.tasks(db(), [row])[0]


@blp.route("/<uuid:task_id>/complete")
class TaskComplete(MethodView):
    @blp.arguments(CompleteArgsSchema)
    @blp.response(200, TaskSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="the task is already done")
    @blp.alt_response(422, schema=ApiErrorSchema, description="form errors, per field")
    def post(self, args, task_id: uuid.UUID):
        """Complete a task with its form data; the instance runs on until it waits again."""
        row = tasks.complete_task(db(), task_id, actor=current_user(), data=args["data"])
        return presenters.tasks(db(), [row])[0]
