"""/api/v1/accreditation: where a person stands on accreditation and mandatory training (§5)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from api.auth import current_user
from api.db_session import db
from api.schemas import ApiErrorSchema
from engine import clock
from engine.services import accreditation, person_facts, trainings

blp = Blueprint("accreditation", __name__, description="Accreditation and mandatory training: status")


class StatusQuerySchema(Schema):
    email = fields.String(
        load_default=None, validate=validate.Length(1, 254), metadata={"description": "default: me"}
    )


class AccreditationStatusSchema(Schema):
    code = fields.String()
    expiry = fields.String(metadata={"description": "the last valid day"})
    window_opens = fields.String(metadata={"description": "12 months before expiry: filing may start"})
    status = fields.String(metadata={"description": "valid, window_open or expired"})
    zet_hours = fields.Integer(metadata={"description": "continuing-education hours (ЗЕТ) gathered"})
    zet_required = fields.Integer()
    hours_to_go = fields.Integer()
    summary = fields.String(metadata={"description": 'e.g. "44 hours to go to 144"'})
    instance_id = fields.UUID(allow_none=True, metadata={"description": "the running accreditation request"})
    stage = fields.String(allow_none=True, metadata={"description": "preparing, report_drafted, ..."})
    shifts_after_expiry = fields.List(
        fields.Dict(), metadata={"description": "recorded shifts [{id, start, end}] after expiry"}
    )


class TrainingStatusSchema(Schema):
    code = fields.String()
    title = fields.String()
    last = fields.Date(allow_none=True)
    due = fields.Date(allow_none=True)
    status = fields.String(metadata={"description": "ok, due_soon, overdue, or unknown without a date"})
    days_left = fields.Integer(allow_none=True)
    blocks_admission = fields.Boolean()


class PersonStatusSchema(Schema):
    email = fields.String()
    today = fields.Date()
    accreditations = fields.List(fields.Nested(AccreditationStatusSchema))
    trainings = fields.List(fields.Nested(TrainingStatusSchema))
    admission = fields.Boolean(metadata={"description": "may work: no overdue training that blocks it"})
    admission_blocked_by = fields.List(fields.String())


@blp.route("/status")
class Status(MethodView):
    @blp.arguments(StatusQuerySchema, location="query")
    @blp.response(200, PersonStatusSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="no such person, or not one the caller may see")
    def get(self, args):
        """A person's accreditations (expiry, ЗЕТ hours, stage, shifts after expiry) and trainings.

        The person themself, their managers up the line (their head), HR and admins may look.
        """
        me = current_user()
        person = person_facts.get_person(db(), args["email"], viewer=me) if args["email"] else me
        today = clock.today()
        found = trainings.statuses(db(), person, today)
        blocked = trainings.admission_blocked_by(found)
        return {
            "email": person.email,
            "today": today,
            "accreditations": accreditation.status(db(), person, today),
            "trainings": [s.as_dict() for s in found],
            "admission": not blocked,
            "admission_blocked_by": blocked,
        }
