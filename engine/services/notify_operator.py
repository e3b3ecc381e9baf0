"""The ``notify`` service-task operator: a route tells people something, in the app and by e-mail.

Parameters (from the BPMN service task):
  ``to``       an e-mail, ``initiator``, ``role:<name>``, or a list of these
  ``kind``     the template (default ``process_message``)
  ``subject``, ``message``  free text for ``process_message``
  ``params``   further template values (an object)

Each recipient is told once per delivery of the task: a retry after a partial failure, or the
same job delivered twice, finds the notifications it already wrote. An unknown recipient fails the
task with a message saying which one, so it is retried and then becomes an incident HR can read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from engine.models import User
from engine.services import notifications, operators
from engine.services.operators import OperatorCall

DEFAULT_KIND = "process_message"
MAX_RECIPIENTS = 200  # a route that names more people than this is a mistake, not a message


class RecipientError(LookupError):
    """A ``to`` entry names nobody who can be told."""


@operators.register("notify", retries=3, description="Tell people (in-app and e-mail): to, kind, message")
def notify_operator(call: OperatorCall) -> dict[str, Any]:
    """Notify every recipient named by ``to``; returns ``{"notified": n}``."""
    kind = str(call.params.get("kind") or DEFAULT_KIND).strip()
    user_ids = resolve_recipients(call)
    params = _template_params(call)
    key = call.delivery_id or str(call.task_id)
    for user_id in user_ids:
        notifications.notify(
            call.session,
            user_id,
            kind,
            params,
            instance_id=call.instance.id,
            dedupe_key=f"notify:{key}:{user_id}"[:200],
        )
    return {"notified": len(user_ids)}


def resolve_recipients(call: OperatorCall) -> list[int]:
    """The user ids ``call.params['to']`` names, each once, in the order given."""
    to = call.params.get("to")
    entries = to if isinstance(to, list) else [to]
    entries = [str(entry).strip() for entry in entries if entry is not None and str(entry).strip()]
    if not entries:
        raise RecipientError("notify: 'to' is empty; give an e-mail, 'initiator' or 'role:<name>'")
    found: list[int] = []
    for entry in entries:
        found.extend(_resolve_one(call, entry))
    unique = list(dict.fromkeys(found))
    if len(unique) > MAX_RECIPIENTS:
        raise RecipientError(f"notify: 'to' names {len(unique)} people, more than {MAX_RECIPIENTS}")
    return unique


def _resolve_one(call: OperatorCall, entry: str) -> list[int]:
    session = call.session
    if entry.lower() == "initiator":
        if call.instance.initiator_id is None:
            raise RecipientError("notify: the request has no initiator any more")
        return [call.instance.initiator_id]
    if entry.lower().startswith("role:"):
        role = entry[5:].strip().lower()
        holders = notifications.role_holders(session, role) if role else []
        if not holders:
            raise RecipientError(f"notify: nobody active holds the role '{role}'")
        return holders
    if "@" in entry:
        user_id = session.scalar(
            select(User.id).where(func.lower(User.email) == entry.lower(), User.is_active.is_(True))
        )
        if user_id is None:
            raise RecipientError(f"notify: no active person has the e-mail '{entry}'")
        return [user_id]
    raise RecipientError(f"notify: cannot tell who '{entry}' is; use an e-mail, 'initiator' or 'role:<name>'")


def _template_params(call: OperatorCall) -> dict[str, Any]:
    extra = call.params.get("params")
    # The process's key, names and business key are added by notifications.notify (instance_id).
    params: dict[str, Any] = dict(extra) if isinstance(extra, dict) else {}
    for name in ("subject", "message"):
        if call.params.get(name) is not None:
            params[name] = str(call.params[name])
    return params
