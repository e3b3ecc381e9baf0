"""/api/v1/departments: The department tree."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import current_user, require_role
from api.db_session import db
from api.schemas import ApiErrorSchema, DepartmentSchema, DepartmentUpdateArgsSchema
from engine.models import Department, User
from engine.services import org

blp = Blueprint("departments", __name__, description="The department tree")


def _present(session: Session, departments: list[Department]) -> list[dict]:
    """Departments as JSON, with heads and HR partners fetched in one query."""
    codes = dict(session.execute(select(Department.id, Department.code)).tuples().all())
    people_ids = {d.head_id for d in departments} | {d.hr_partner_id for d in departments}
    people_ids.discard(None)
    people = {}
    if people_ids:
        rows = session.execute(select(User.id, User.email, User.name).where(User.id.in_(people_ids)))
        people = {row.id: {"email": row.email, "name": row.name} for row in rows}
    return [
        {
            "code": d.code,
            "name": d.name,
            "parent_code": codes.get(d.parent_id),
            "head": people.get(d.head_id),
            "hr_partner": people.get(d.hr_partner_id),
        }
        for d in departments
    ]


@blp.route("")
class Departments(MethodView):
    @blp.response(200, DepartmentSchema(many=True))
    def get(self):
        """The department tree: every department, each parent listed before its children."""
        return _present(db(), org.list_departments(db()))


@blp.route("/<string:code>")
class DepartmentByCode(MethodView):
    @require_role("hr", "admin")
    @blp.arguments(DepartmentUpdateArgsSchema)
    @blp.response(200, DepartmentSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema, description="unknown person or parent, or a parent cycle")
    def put(self, args, code: str):
        """Rename a department, move it under another, or name its head or HR partner.

        Keys left out keep their value; `null` clears the parent, the head or the HR partner.
        """
        department = org.update_department(db(), code, actor=current_user(), **args)
        return _present(db(), [department])[0]
