"""/api/v1/leave: Leave balances, and HR's adjustments to the ledger."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from api.auth import current_user, require_role
from api.db_session import db
from api.schemas import ApiErrorSchema
from engine.models import LeaveLedgerEntry, LeaveScheduleNotice, User
from engine.services import leave_ledger, leave_schedule, person_facts
from engine.services.users import get_user_by_email

blp = Blueprint("leave", __name__, description="Leave balances and the ledger")


class LeaveBalanceFiguresSchema(Schema):
    entitled = fields.Float(metadata={"description": "days a working year brings (28 for annual leave)"})
    accrued = fields.Float(metadata={"description": "earned so far in this working year (L-04)"})
    carried = fields.Float(metadata={"description": "left unused by earlier working years; never expires"})
    used = fields.Float(metadata={"description": "taken in this working year"})
    reserved = fields.Float(metadata={"description": "held by pending requests"})
    adjustments = fields.Float(metadata={"description": "HR's corrections in this working year"})
    available = fields.Float(
        allow_none=True,
        metadata={
            "description": "accrued + carried + adjustments − used − reserved; null for a type taken "
            "without a balance (unpaid, study)"
        },
    )


class LeaveWorkingYearSchema(Schema):
    start = fields.Date()
    end = fields.Date()


class LeaveBalanceSchema(Schema):
    email = fields.String()
    as_of = fields.Date()
    working_year = fields.Nested(LeaveWorkingYearSchema, allow_none=True)
    balances = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(LeaveBalanceFiguresSchema),
        metadata={"description": "per leave type"},
    )


class LeaveBalanceQuerySchema(Schema):
    email = fields.String(load_default=None, validate=validate.Length(1, 254))
    as_of = fields.Date(load_default=None, metadata={"description": "the day to compute for; default today"})


class LeaveLedgerEntrySchema(Schema):
    id = fields.Integer()
    email = fields.String()
    leave_type = fields.String()
    kind = fields.String()
    days = fields.Float()
    working_year = fields.Date(metadata={"description": "start of the working year the entry belongs to"})
    reason = fields.String(allow_none=True)
    created_by = fields.String(allow_none=True)
    at = fields.DateTime()


class LeaveAdjustmentArgsSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(1, 254))
    # Checked by the engine, so every problem comes back at once as {field, message}.
    leave_type = fields.String(load_default=None)
    days = fields.Raw(load_default=None, metadata={"description": "days to add; negative to take away"})
    reason = fields.String(load_default=None)


class LeaveAdjustedSchema(Schema):
    entry = fields.Nested(LeaveLedgerEntrySchema)
    balance = fields.Nested(LeaveBalanceSchema)


def _balance(person: User, as_of=None) -> dict:
    result = leave_ledger.balance(db(), person, as_of)
    year = result.working_year
    return {
        "email": person.email,
        "as_of": result.as_of,
        "working_year": {"start": year.start, "end": year.end} if year is not None else None,
        "balances": {code: figures.as_dict() for code, figures in result.balances.items()},
    }


def _entry(entry: LeaveLedgerEntry, person: User, actor: User | None) -> dict:
    return {
        "id": entry.id,
        "email": person.email,
        "leave_type": entry.leave_type,
        "kind": entry.kind.value,
        "days": entry.days,
        "working_year": entry.working_year,
        "reason": entry.reason,
        "created_by": actor.email if actor is not None else None,
        "at": entry.at,
    }


@blp.route("/balance")
class Balance(MethodView):
    @blp.arguments(LeaveBalanceQuerySchema, location="query")
    @blp.response(200, LeaveBalanceSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="no such person, or not one the caller may see")
    def get(self, args):
        """A person's leave balances per leave type; without `email`, the caller's own.

        The person themself, their managers up the line, HR and admins may ask.
        """
        me = current_user()
        person = person_facts.get_person(db(), args["email"], viewer=me) if args["email"] else me
        return _balance(person, args["as_of"])


@blp.route("/ledger")
class Ledger(MethodView):
    @require_role("hr", "admin")
    @blp.arguments(LeaveAdjustmentArgsSchema)
    @blp.response(201, LeaveAdjustedSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="no such person")
    @blp.alt_response(422, schema=ApiErrorSchema, description="leave type, days or reason, per field")
    def post(self, args):
        """Post an adjustment to a person's ledger: `days` may be negative; a reason is required.

        Answers with the entry and the person's new balances.
        """
        me = current_user()
        person = get_user_by_email(db(), args["email"])
        entry = leave_ledger.adjust(
            db(), person, leave_type=args["leave_type"], days=args["days"], reason=args["reason"], actor=me
        )
        return {"entry": _entry(entry, person, me), "balance": _balance(person)}


class ScheduleNoticeQuerySchema(Schema):
    email = fields.String(
        load_default=None, validate=validate.Length(1, 254), metadata={"description": "HR and admins only"}
    )


class ScheduleNoticeSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    start = fields.Date(metadata={"description": "first day of the scheduled leave"})
    days = fields.Integer(allow_none=True)
    leave_type = fields.String()
    notice_due = fields.Date(metadata={"description": "the last day to sign the notice (start - 14 days)"})
    sent_at = fields.DateTime(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    may_move = fields.Boolean(
        metadata={"description": "unsigned by notice_due: the employee may demand a move (ст. 124)"}
    )


def _notice(notice: LeaveScheduleNotice) -> dict:
    person = db().get(User, notice.user_id)
    return {
        "id": notice.id,
        "email": person.email if person is not None else None,
        "start": notice.start,
        "days": notice.days,
        "leave_type": notice.leave_type,
        "notice_due": notice.notice_due,
        "sent_at": notice.sent_at,
        "acknowledged_at": notice.acknowledged_at,
        "may_move": notice.may_move,
    }


@blp.route("/schedule/notices")
class ScheduleNotices(MethodView):
    @blp.arguments(ScheduleNoticeQuerySchema, location="query")
    @blp.response(200, ScheduleNoticeSchema(many=True))
    @blp.alt_response(404, schema=ApiErrorSchema, description="no such person, or not one the caller may see")
    def get(self, args):
        """Notices of scheduled leave (ст. 123): my own; HR and admins see everyone's, or `email`'s."""
        rows = leave_schedule.notices_for(db(), current_user(), email=args["email"])
        return [_notice(row) for row in rows]


@blp.route("/schedule/notices/<int:notice_id>/acknowledge")
class ScheduleNoticeAcknowledge(MethodView):
    @blp.response(200, ScheduleNoticeSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="no such notice of the caller's")
    def post(self, notice_id: int):
        """Sign my notice of a scheduled leave; signing again keeps the first signature."""
        return _notice(leave_schedule.acknowledge(db(), current_user(), notice_id))
