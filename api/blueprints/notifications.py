"""/api/v1/notifications: what the caller has been told, in their language, and marking it read."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import select

from api.auth import current_user
from api.db_session import db
from api.schemas import ApiErrorSchema, PageArgsSchema
from engine.errors import NotFound
from engine.models import Notification, User
from engine.services import notifications
from worker import notification_text

blp = Blueprint("notifications", __name__, description="In-app notifications: list and mark read")


class NotificationQuerySchema(PageArgsSchema):
    unread = fields.Boolean(load_default=False, metadata={"description": "true: only the unread ones"})


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "task_assigned, request_decided, ..."})
    subject = fields.String(metadata={"description": "in the caller's language"})
    body = fields.String()
    instance_id = fields.UUID(allow_none=True)
    task_id = fields.UUID(allow_none=True)
    link = fields.String(metadata={"description": "the task, the request, or the page the notice is about"})
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    email_status = fields.String(metadata={"description": "pending, sent, skipped or failed"})


class MarkedSchema(Schema):
    marked = fields.Integer(metadata={"description": "how many turned from unread to read"})


def language_of(user: User) -> str:
    """The caller's language as stored now (the token cache may hold their row from before a change)."""
    return db().scalar(select(User.language).where(User.id == user.id)) or user.language


def present(row: Notification, language: str) -> dict:
    """One notification as its owner reads it, in ``language``."""
    base_url = current_app.config["APPROUTE_SETTINGS"].base_url
    params = row.params or {}
    link = notification_text.link_for(
        base_url, instance_id=row.instance_id, task_id=row.task_id, path=params.get("path")
    )
    subject, body = notification_text.render(row.kind, language, params, link=link)
    return {
        "id": row.id,
        "kind": row.kind,
        "subject": subject,
        "body": body,
        "instance_id": row.instance_id,
        "task_id": row.task_id,
        "link": link,
        "created_at": row.created_at,
        "read_at": row.read_at,
        "email_status": row.email_status,
    }


@blp.route("")
class Notifications(MethodView):
    @blp.arguments(NotificationQuerySchema, location="query")
    @blp.response(200, NotificationSchema(many=True))
    def get(self, args):
        """My notifications, newest first; `unread=true` for the unread ones only."""
        me = current_user()
        rows = notifications.list_for(
            db(), me, unread_only=args["unread"], limit=args["limit"], offset=args["offset"]
        )
        language = language_of(me)
        return [present(row, language) for row in rows]


@blp.route("/<int:notification_id>/read")
class NotificationRead(MethodView):
    @blp.response(200, NotificationSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="no such notification of the caller's")
    def post(self, notification_id: int):
        """Mark one of my notifications read (reading it again keeps the first time)."""
        me = current_user()
        row = notifications.get_own(db(), me, notification_id)
        if row is None:
            raise NotFound(f"no notification {notification_id}")
        notifications.mark_read(db(), me, [row.id])
        db().refresh(row)
        return present(row, language_of(me))


@blp.route("/read-all")
class NotificationsReadAll(MethodView):
    @blp.response(200, MarkedSchema)
    def post(self):
        """Mark all my notifications read."""
        return {"marked": notifications.mark_read(db(), current_user())}
