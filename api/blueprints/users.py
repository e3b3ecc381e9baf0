"""/api/v1/users: People: me, out of office, and the facts HR keeps about a person."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from api import presenters
from api.auth import current_user, require_role
from api.db_session import db
from api.schemas import ApiErrorSchema, AwayArgsSchema, AwaySchema, MeSchema
from engine.errors import NotFound
from engine.models import User
from engine.services import audit, person_facts, substitutes, visibility
from engine.services.masking import MASK
from engine.services.users import get_user_by_email
from worker.notification_text import LANGUAGES

blp = Blueprint("users", __name__, description="People: me, out of office, facts HR keeps")


class PersonQualificationSchema(Schema):
    code = fields.String(required=True, metadata={"description": "e.g. NURSE, ELECTRICAL_SAFETY_III"})
    credential_number = fields.String(load_default=None, allow_none=True)
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_until = fields.Date(load_default=None, allow_none=True, metadata={"description": "inclusive"})


class SanctionSchema(Schema):
    type = fields.String(
        required=True, metadata={"description": "remark, reprimand or dismissal (ст. 192 ТК РФ)"}
    )
    date = fields.Date(required=True, metadata={"description": "the day of the order"})
    lifted_on = fields.Date(
        load_default=None, allow_none=True, metadata={"description": "lifted early (ст. 194); else 12 months"}
    )


class PersonSchema(Schema):
    email = fields.String()
    name = fields.String()
    department = fields.String(allow_none=True)
    position = fields.String(allow_none=True)
    manager_email = fields.String(allow_none=True)
    is_active = fields.Boolean()
    hire_date = fields.Date(allow_none=True)
    monthly_salary = fields.Raw(
        allow_none=True,
        metadata={"description": "roubles; shown as '*****' to anyone but the person, HR and admins"},
    )
    shift_worker = fields.Boolean()
    qualifications = fields.List(fields.Nested(PersonQualificationSchema))
    sanctions = fields.Raw(
        metadata={"description": "[{type, date, lifted_on}]; '*****' to anyone but the person, HR and admins"}
    )
    shifts = fields.List(
        fields.Dict(),
        allow_none=True,
        metadata={"description": "the shift roster [{id, start, end}]; null when HR recorded none"},
    )
    zet_hours = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "continuing-education hours (ЗЕТ) per accreditation code"},
    )


class ShiftSchema(Schema):
    id = fields.String(metadata={"description": "the roster's id for the shift; defaults to its position"})
    start = fields.String(required=True, metadata={"description": "ISO date-time, e.g. 2026-05-12T08:00"})
    end = fields.String(required=True, metadata={"description": "ISO date-time, after start"})


class PersonFactsArgsSchema(Schema):
    hire_date = fields.Date(allow_none=True)
    monthly_salary = fields.Decimal(allow_none=True, metadata={"description": "roubles a month"})
    shift_worker = fields.Boolean(truthy={True}, falsy={False})
    qualifications = fields.List(
        fields.Nested(PersonQualificationSchema), metadata={"description": "replaces the whole list"}
    )
    sanctions = fields.List(
        fields.Nested(SanctionSchema), metadata={"description": "replaces the whole list; [] clears it"}
    )
    shifts = fields.List(
        fields.Nested(ShiftSchema),
        allow_none=True,
        metadata={"description": "the shift roster the leave route's replacement check reads; replaces it"},
    )
    zet_hours = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        metadata={
            "description": "{accreditation code: ЗЕТ hours gathered}, e.g. {MEDICAL_ACCREDITATION: 100}"
        },
    )


def _person(person: User, viewer: User) -> dict:
    """The facts about ``person`` as ``viewer`` may see them; HR's reads of sensitive facts are audited."""
    manager = db().get(User, person.manager_id) if person.manager_id else None
    salary, sanctions = person.monthly_salary, person_facts.sanctions_of(person)
    if not visibility.sees_personal_facts(viewer, person):
        salary = sanctions = MASK
    elif viewer.id != person.id:
        read = [name for name, value in (("monthly_salary", salary), ("sanctions", sanctions)) if value]
        if read:
            audit.record(db(), "person.sensitive_read", actor=viewer, subject_id=person.id, fields=read)
    return {
        "email": person.email,
        "name": person.name,
        "department": person.department,
        "position": person.position,
        "manager_email": manager.email if manager else None,
        "is_active": person.is_active,
        "hire_date": person.hire_date,
        "monthly_salary": float(salary) if salary not in (None, MASK) else salary,
        "shift_worker": person_facts.is_shift_worker(person),
        "qualifications": [q.as_dict() for q in person_facts.qualifications_of(db(), person.id)],
        "sanctions": sanctions,
        "shifts": person_facts.shifts_of(person),
        "zet_hours": person_facts.zet_hours_of(person),
    }


class MeArgsSchema(Schema):
    language = fields.String(
        required=True,
        validate=validate.OneOf(LANGUAGES),
        metadata={"description": "ru or en: the language of my notifications and e-mail"},
    )


def _me(me: User) -> dict:
    manager = db().get(User, me.manager_id) if me.manager_id else None
    today = substitutes.today()
    period = substitutes.current_period(db(), me, today)
    return {
        "email": me.email,
        "name": me.name,
        "roles": sorted(me.roles),
        "department": me.department,
        "manager_email": manager.email if manager else None,
        # Read, not taken from the caller: the token cache may hold their row from before a change.
        "language": db().scalar(select(User.language).where(User.id == me.id)),
        "away": presenters.away_period(db(), period, today=today) if period else None,
    }


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """My profile: e-mail, name, roles, department, line manager, language and out-of-office period."""
        return _me(current_user())

    @blp.arguments(MeArgsSchema)
    @blp.response(200, MeSchema)
    @blp.alt_response(422, schema=ApiErrorSchema, description="language is not ru or en")
    def patch(self, args):
        """Set my language (ru or en): notifications and e-mail come in it from now on."""
        me = db().get(User, current_user().id, populate_existing=True)
        me.language = args["language"]
        return _me(me)


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


@blp.route("/<string:email>")
class Person(MethodView):
    @blp.response(200, PersonSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="no such person, or not one the caller may see")
    def get(self, email: str):
        """A person and the facts rules use: hire date, salary, shift work, qualifications, sanctions.

        The person themself, their managers up the line, HR and admins may look; salary and
        disciplinary sanctions show only to the person, HR and admins.
        """
        me = current_user()
        return _person(person_facts.get_person(db(), email, viewer=me), me)

    @require_role("hr", "admin")
    @blp.arguments(PersonFactsArgsSchema)
    @blp.response(200, PersonSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="no such person")
    @blp.alt_response(422, schema=ApiErrorSchema, description="per field")
    def patch(self, args, email: str):
        """Set a person's hire date, salary, shift work, qualifications or sanctions (HR and admins).

        Keys left out keep their value; `null` clears the hire date or the salary. `sanctions`
        (`[{type: remark|reprimand|dismissal, date, lifted_on?}]`, ст. 192-194) is what the bonus
        route reads: each is in force 12 months from `date` unless lifted.
        """
        me = current_user()
        person = get_user_by_email(db(), email)
        person_facts.update_facts(db(), person, args, actor=me)
        return _person(person, me)
