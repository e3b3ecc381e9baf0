"""The ``record_leave`` operator: put a request's leave on the leave ledger from a service task.

Parameters: ``leave_type``, ``start`` (ISO date: the working year the leave belongs to), and
``days`` or ``end`` (calendar days from start to end); ``email`` names the person, by default the
request's initiator. Days the request reserved are booked (``leave_ledger.book``); leave without
a reservation (unpaid) is written as used (``leave_ledger.record_use``). Both are idempotent per
request and leave type, so a job that runs twice writes the ledger once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.errors import NotFound
from engine.models import LeaveLedgerEntry, LedgerKind, User
from engine.services import leave_ledger, operators
from engine.services.operators import OperatorCall
from engine.services.users import get_user_by_email
from rules.dates import to_date


class RecordLeaveFailed(ValueError):
    """The parameters do not describe a leave the ledger can take."""


def _person(call: OperatorCall) -> User:
    email = call.params.get("email")
    if email:
        try:
            return get_user_by_email(call.session, str(email))
        except NotFound:  # its message names the address; the incident's should not
            raise RecordLeaveFailed("record_leave: no person has the e-mail in parameter 'email'") from None
    person = call.session.get(User, call.instance.initiator_id)
    if person is None:
        raise RecordLeaveFailed("record_leave: the request's initiator no longer exists")
    return person


def _days(params: dict[str, Any], start) -> Any:
    if params.get("days") is not None:
        return params["days"]
    if params.get("end") is None:
        raise RecordLeaveFailed("record_leave: give the parameter 'days' or 'end'")
    try:
        end = to_date(params["end"], "end")
    except ValueError as exc:
        raise RecordLeaveFailed(f"record_leave: {exc}") from None
    if end < start:
        raise RecordLeaveFailed("record_leave: 'end' is before 'start'")
    return (end - start).days + 1


def _has_reservation(call: OperatorCall, leave_type: str) -> bool:
    query = select(LeaveLedgerEntry.id).where(
        LeaveLedgerEntry.instance_id == call.instance.id,
        LeaveLedgerEntry.leave_type == leave_type,
        LeaveLedgerEntry.kind == LedgerKind.RESERVATION,
    )
    return call.session.scalar(query) is not None


@operators.register("record_leave", retries=3, backoff_base=2.0)
def record_leave(call: OperatorCall) -> dict[str, Any]:
    """Book the request's reserved days, or write unpaid leave as used; returns what the ledger holds."""
    params = call.params
    leave_type = params.get("leave_type")
    if not isinstance(leave_type, str) or not leave_type:
        raise RecordLeaveFailed("record_leave: the parameter 'leave_type' is required")
    try:
        start = to_date(params.get("start"), "start")
    except (TypeError, ValueError) as exc:
        raise RecordLeaveFailed(f"record_leave: {exc}") from None
    if _has_reservation(call, leave_type):
        written = leave_ledger.book(call.session, call.instance.id)
        return {"leave_type": leave_type, "booked": True, "entries": len(written)}
    person = _person(call)
    entry = leave_ledger.record_use(
        call.session, person, leave_type, _days(params, start), call.instance.id, on=start
    )
    return {"leave_type": leave_type, "booked": True, "entries": 0 if entry is None else 1}
