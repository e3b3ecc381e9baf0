"""Who may act on a user task: from its assignment attributes, or else from its lane.

Three passes, in order:
1. resolve: camunda:assignee / candidateUsers / candidateGroups, or the lane, name people or roles.
   Expressions and lanes may call the resolvers of ``_Resolvers`` (manager_of, department_head, ...).
2. separation of duties: an approval never goes to the initiator, nor (when the task is marked
   ``distinctApprover``) to someone who approved an earlier step; it goes one level up instead.
3. out of office: whoever is away today is replaced by their substitute (engine.services.substitutes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn.runtime import evaluate_in_task
from engine.errors import InstanceFailed
from engine.models import Department, User
from engine.services import substitutes
from engine.services.coordinators import coordinator_for

INITIATOR_LANES = {"employee", "initiator"}
MANAGER_LANES = {"manager"}
ROLE_MARKER = "role:"
RESOLVERS = ("manager_of", "department_head", "role", "hr_partner", "coordinator")
# A lane named like a resolver call, e.g. "manager_of(initiator, 2)", is evaluated as one.
_LANE_CALL = re.compile(rf"^\s*(?:{'|'.join(RESOLVERS)})\s*\(.*\)\s*$", re.DOTALL)
# The assignee expression that hands a task back to the initiator on purpose (a rework step).
_INITIATOR_ASSIGNEE = re.compile(r"^\s*(?:[$#]\{\s*initiator\s*\}|initiator)\s*$")
MAX_LEVELS_UP = 50

SOD_INITIATOR = "one level up: separation of duties"
SOD_REPEAT = "one level up: already approved an earlier step"
SOD_SUBSTITUTE = "one level up: the substitute is the initiator or an earlier approver"


class RouteGap(Exception):
    """The route names someone who does not exist (no manager that high, no head, no coordinator)."""


@dataclass
class Assignment:
    """The outcome: one assignee, or candidates (users and roles) who may claim the task."""

    assignee: User | None = None
    candidate_users: list[User] = field(default_factory=list)
    candidate_roles: list[str] = field(default_factory=list)
    on_behalf_of: User | None = None
    excluded_user_ids: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def resolve(
    session: Session,
    *,
    element_id: str,
    lane: str | None,
    meta: dict[str, Any],
    initiator_id: int,
    task_data: dict[str, Any],
    process_key: str | None = None,
    earlier_approver_ids: set[int] | frozenset[int] = frozenset(),
    on: date | None = None,
) -> Assignment:
    """Decide who may act on a ready user task.

    camunda:assignee / candidateUsers / candidateGroups win when present; otherwise the lane
    decides: Employee or Initiator is the initiator, Manager the initiator's line manager, a lane
    named like a resolver call (``department_head(initiator_department)``) what the call returns,
    and any other name the holders of the role of that name. A task with neither goes to the
    initiator. Then separation of duties and substitutes apply (see the module docstring).
    ``earlier_approver_ids`` count only when the task's meta sets ``distinct_approver``.
    Raises InstanceFailed when the route names nobody who exists.
    """
    initiator = session.get(User, initiator_id)
    resolvers = _Resolvers(session, initiator, process_key)
    try:
        result, on_purpose = _named(session, element_id, lane, meta, task_data, initiator, resolvers)
        if not on_purpose:
            excluded = {initiator_id}
            if meta.get("distinct_approver"):
                excluded |= set(earlier_approver_ids)
            result.excluded_user_ids = sorted(excluded)
            _separate_duties(session, result, initiator, excluded, resolvers)
        _apply_substitutes(session, result, resolvers, on)
    except RouteGap as exc:
        raise InstanceFailed(f"task '{element_id}': {exc}", {"element_id": element_id}) from None
    return result


def _named(session, element_id, lane, meta, task_data, initiator, resolvers) -> tuple[Assignment, bool]:
    """Pass 1. Returns the assignment and whether it goes to the initiator on purpose."""
    if not any(meta.get(k) for k in ("assignee", "candidate_users", "candidate_groups")):
        return _from_lane(session, element_id, lane, initiator, task_data, resolvers)
    context = resolvers.context()
    try:
        assignee_values = _evaluate(meta.get("assignee"), task_data, context)
        user_values = _evaluate(meta.get("candidate_users"), task_data, context)
        group_values = _evaluate(meta.get("candidate_groups"), task_data, context)
    except RouteGap:
        raise
    except Exception as exc:  # any failure of a designer's expression is a route error
        raise InstanceFailed(
            f"task '{element_id}': cannot work out who acts: {exc}", {"element_id": element_id}
        ) from None
    if not (assignee_values or user_values or group_values):
        raise InstanceFailed(
            f"task '{element_id}': the assignment expressions named nobody", {"element_id": element_id}
        )
    result = Assignment(candidate_roles=[_role_name(g) for g in group_values])
    if assignee_values:
        _place(session, result, assignee_values[:1], element_id)
    _place_candidates(session, result, user_values, element_id)
    on_purpose = bool(_INITIATOR_ASSIGNEE.match(meta.get("assignee") or ""))
    return result, on_purpose


def _from_lane(session, element_id, lane, initiator, task_data, resolvers) -> tuple[Assignment, bool]:
    name = (lane or "").strip().lower()
    if not name or name in INITIATOR_LANES:
        return Assignment(assignee=initiator), True
    if name in MANAGER_LANES:
        if initiator.manager_id is None:
            raise InstanceFailed(
                f"task '{element_id}' goes to the line manager, but {initiator.email} has none",
                {"element_id": element_id},
            )
        return Assignment(assignee=session.get(User, initiator.manager_id)), False
    if _LANE_CALL.match(lane):
        try:
            values = _evaluate("${" + lane.strip() + "}", task_data, resolvers.context())
        except RouteGap:
            raise
        except Exception as exc:  # a lane the designer wrote as a call is their expression too
            raise RouteGap(f"lane '{lane.strip()}' cannot be worked out: {exc}") from None
        if not values:
            raise RouteGap(f"lane '{lane.strip()}' named nobody")
        result = Assignment()
        _place(session, result, values, element_id)
        return result, False
    return Assignment(candidate_roles=[name]), False


def _place(session: Session, result: Assignment, values: list[str], element_id: str) -> None:
    """One e-mail becomes the assignee; several become candidates; role markers become candidate roles."""
    roles = [_role_name(v) for v in values if v.startswith(ROLE_MARKER)]
    emails = [v for v in values if not v.startswith(ROLE_MARKER)]
    result.candidate_roles.extend(r for r in roles if r not in result.candidate_roles)
    if len(emails) == 1 and not roles:
        result.assignee = _user_for(session, emails[0], element_id)
    else:
        _place_candidates(session, result, emails, element_id)


def _place_candidates(session: Session, result: Assignment, values: list[str], element_id: str) -> None:
    for value in values:
        if value.startswith(ROLE_MARKER):
            if _role_name(value) not in result.candidate_roles:
                result.candidate_roles.append(_role_name(value))
            continue
        user = _user_for(session, value, element_id)
        if all(u.id != user.id for u in result.candidate_users):
            result.candidate_users.append(user)


def _role_name(value: str) -> str:
    value = value.strip()
    if value.startswith(ROLE_MARKER):
        value = value[len(ROLE_MARKER) :]
    return value.strip().lower()


def _evaluate(value: str | None, task_data: dict[str, Any], context: dict[str, Any]) -> list[str]:
    if not value:
        return []
    return evaluate_in_task(task_data, value, context)


def _user_for(session: Session, value: str, element_id: str) -> User:
    user = session.scalar(select(User).where(User.email == value.strip().lower()))
    if user is None or not user.is_active:
        raise InstanceFailed(
            f"task '{element_id}' is assigned to '{value}', who is not an active user",
            {"element_id": element_id},
        )
    return user


def _separate_duties(session, result: Assignment, initiator: User, excluded: set[int], resolvers) -> None:
    """Pass 2: nobody in ``excluded`` gets the task; an excluded assignee hands it one level up."""
    if result.assignee is not None and result.assignee.id in excluded:
        result.assignee = _next_up(result, result.assignee, initiator, excluded, resolvers)
    kept = [u for u in result.candidate_users if u.id not in excluded]
    if result.candidate_users and not kept and not result.candidate_roles and result.assignee is None:
        # Everyone named may not act: the step goes to the first one's manager instead.
        result.assignee = _next_up(result, result.candidate_users[0], initiator, excluded, resolvers)
    result.candidate_users = kept


def _next_up(result: Assignment, person: User, initiator: User, excluded: set[int], resolvers) -> User:
    reason = SOD_INITIATOR if person.id == initiator.id else SOD_REPEAT
    current = person
    for _ in range(MAX_LEVELS_UP):
        current = resolvers.manager(current)
        if current is None:
            break
        if current.id not in excluded:
            if reason not in result.reasons:
                result.reasons.append(reason)
            return current
    raise RouteGap(
        f"{reason.split(': ', 1)[1]} rules out {resolvers.who(person)}, and there is nobody above to approve"
    )


def _apply_substitutes(session: Session, result: Assignment, resolvers, on: date | None) -> None:
    """Pass 3: people away today are replaced by their (final) substitute."""
    away = substitutes.away_on(session, on)
    if not away:
        return
    excluded = set(result.excluded_user_ids)
    if result.assignee is not None:
        seen: set[int] = set()
        person = result.assignee
        while person.id in away and person.id not in seen:
            seen.add(person.id)
            stand_in = session.get(User, substitutes.final_substitute(away, person.id))
            if stand_in.id == person.id or not stand_in.is_active:
                break
            if stand_in.id not in excluded:
                result.on_behalf_of, result.assignee = person, stand_in
                break
            # The stand-in may not approve this request: the step goes above the absent person.
            if SOD_SUBSTITUTE not in result.reasons:
                result.reasons.append(SOD_SUBSTITUTE)
            up = resolvers.manager(person)
            while up is not None and up.id in excluded:
                up = resolvers.manager(up)
            if up is None:
                raise RouteGap(f"{resolvers.who(person)} is away and nobody above may approve instead")
            result.assignee = person = up
    replaced = []
    for user in result.candidate_users:
        stand_in_id = substitutes.final_substitute(away, user.id)
        if stand_in_id != user.id and stand_in_id not in excluded:
            stand_in = session.get(User, stand_in_id)
            user = stand_in if stand_in.is_active else user
        if all(u.id != user.id for u in replaced):
            replaced.append(user)
    result.candidate_users = replaced


class _Resolvers:
    """The functions assignment expressions and lanes may call, closed over one session.

    Each returns e-mails (or a role marker for ``role``) and raises RouteGap when the person
    it should name does not exist, so the step fails with the element and what is missing.
    Messages name people by their place (the initiator, a department) or user id, never by name.
    """

    def __init__(self, session: Session, initiator: User, process_key: str | None):
        self.session = session
        self.initiator = initiator
        self.process_key = process_key

    def context(self) -> dict[str, Any]:
        """The names an assignment expression sees besides the task data."""
        manager = self.manager(self.initiator)
        return {
            "initiator": self.initiator.email,
            "initiator_manager": manager.email if manager else None,
            "initiator_department": self.initiator.department,
            "manager_of": self.manager_of,
            "department_head": self.department_head,
            "role": self.role,
            "hr_partner": self.hr_partner,
            "coordinator": self.coordinator,
        }

    def who(self, user: User) -> str:
        return "the initiator" if user.id == self.initiator.id else f"user #{user.id}"

    def manager(self, user: User) -> User | None:
        return self.session.get(User, user.manager_id) if user.manager_id else None

    def manager_of(self, person: str, level: int = 1) -> str:
        """The e-mail of ``person``'s line manager, or of the manager ``level`` steps up."""
        if not isinstance(level, int) or isinstance(level, bool) or level < 1:
            raise RouteGap(f"manager_of: level must be a whole number from 1, not {level!r}")
        start = self._person(person)
        current = start
        for step in range(1, level + 1):
            current = self.manager(current)
            if current is None:
                above = "line manager" if step == 1 else f"manager {level} levels up"
                raise RouteGap(f"manager_of: {self.who(start)} has no {above}")
        return self._active(current, f"the manager {level} level(s) above {self.who(start)}")

    def department_head(self, code: str) -> str:
        """The e-mail of the head of department ``code``."""
        department = self._department(code, "department_head")
        if department.head_id is None:
            raise RouteGap(f"department_head: department '{code}' has no head")
        return self._active(self.session.get(User, department.head_id), f"the head of department '{code}'")

    def hr_partner(self, code: str) -> str:
        """The e-mail of the HR business partner of department ``code``."""
        department = self._department(code, "hr_partner")
        if department.hr_partner_id is None:
            raise RouteGap(f"hr_partner: department '{code}' has no HR partner")
        partner = self.session.get(User, department.hr_partner_id)
        return self._active(partner, f"the HR partner of department '{code}'")

    def coordinator(self, request_type: str | None = None) -> str:
        """The e-mail of the coordinator HR named for ``request_type`` (default: this process)."""
        request_type = request_type or self.process_key
        user = coordinator_for(self.session, request_type) if request_type else None
        if user is None:
            raise RouteGap(f"coordinator: no coordinator is named for '{request_type}'")
        return self._active(user, f"the coordinator for '{request_type}'")

    @staticmethod
    def role(name: str) -> str:
        """A candidate role: every holder of ``name`` may claim the task."""
        if not isinstance(name, str) or not name.strip():
            raise RouteGap("role: give the role's name")
        return ROLE_MARKER + name.strip().lower()

    def _person(self, email: Any) -> User:
        if not isinstance(email, str):
            raise RouteGap(f"manager_of: expected a person's e-mail, got {type(email).__name__}")
        user = self.session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise RouteGap("manager_of: the person given is not a user")
        return user

    def _department(self, code: Any, what: str) -> Department:
        if not isinstance(code, str) or not code:
            raise RouteGap(f"{what}: the department is not known (got {code!r})")
        department = self.session.scalar(select(Department).where(Department.code == code))
        if department is None:
            raise RouteGap(f"{what}: there is no department '{code}'")
        return department

    def _active(self, user: User, what: str) -> str:
        if not user.is_active:
            raise RouteGap(f"{what} (user #{user.id}) is not an active user")
        return user.email
