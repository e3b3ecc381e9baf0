"""/api/v1/users: People: me, out of office."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from api import presenters
from api.auth import current_user
from api.db_session import db
from api.schemas import ApiErrorSchema, AwayArgsSchema, AwaySchema, MeSchema
from engine.errors import NotFound
from engine.models import User
from engine.services import substitutes

blp = Blueprint("users", __name__, description="People: me, out of office")


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """My profile: e-mail, name, roles, department, line manager and out-of-office period."""
        me = current_user()
        manager = db().get(User, me.manager_id) if me.manager_id else None
        today = substitutes.today()
        period = substitutes.current_period(db(), me, today)
        return {
            "email": me.email,
            "name": me.name,
            "roles": sorted(me.roles),
            "department": me.department,
            "manager_email": manager.email if manager else None,
            "away": presenters.away_period(db(), period, today=today) if period else None,
        }


@blp.route("/me/away")
class MyAway(MethodView):
    @blp.response(200, AwaySchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="no running or future period")
    def get(self):
        """My running or next out-of-office period."""
        today = substitutes.today()
        period = substitutes.current_period(db(), current_user(), today)
        if period is None:
            raise NotFound("you have no out-of-office period")
        return presenters.away_period(db(), period, today=today)

    @blp.arguments(AwayArgsSchema)
    @blp.response(200, AwaySchema)
    @blp.alt_response(422, schema=ApiErrorSchema, description="dates, substitute or a loop, per field")
    def put(self, args):
        """Name a substitute from `from` to `to` (inclusive); replaces my running or future period.

        While I am away, tasks that would come to me, and the tasks I hold, go to the substitute.
        """
        today = substitutes.today()
        period = substitutes.set_away(db(), user=current_user(), on=today, **args)
        return presenters.away_period(db(), period, today=today)

    @blp.response(204)
    @blp.alt_response(404, schema=ApiErrorSchema, description="no running or future period")
    def delete(self):
        """End my out-of-office period now; new tasks come to me again."""
        substitutes.end_away(db(), user=current_user())
