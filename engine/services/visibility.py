"""The one place that decides who may see and act on instances and tasks."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Boolean, ColumnElement, and_, exists, false, literal, not_, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from engine.models import HumanTask, ProcessInstance, TaskCandidate, TaskStatus, User
from engine.services import process_hooks, substitutes
from engine.services.users import report_ids

SEES_EVERYTHING = ("hr", "admin")


def sees_everything(user: User) -> bool:
    """HR and admins see every instance and task."""
    return user.has_role(*SEES_EVERYTHING)


def candidate_clause(user: User) -> ColumnElement[bool]:
    """SQL condition: ``user`` is a candidate of the task, by name or by role."""
    roles = [r.lower() for r in user.roles]
    return exists().where(
        TaskCandidate.task_id == HumanTask.id,
        or_(
            TaskCandidate.user_id == user.id,
            TaskCandidate.role.in_(roles) if roles else false(),
        ),
    )


class _json_list_has(FunctionElement):
    """SQL: the JSON list in a column holds an integer (separation of duties' excluded user ids)."""

    type = Boolean()
    name = "json_list_has"
    inherit_cache = True


@compiles(_json_list_has, "postgresql")
def _json_list_has_postgresql(element, compiler, **kw):
    column, value = list(element.clauses)
    column, value = compiler.process(column, **kw), compiler.process(value, **kw)
    return f"COALESCE({column} @> jsonb_build_array(CAST({value} AS BIGINT)), false)"


@compiles(_json_list_has, "sqlite")
def _json_list_has_sqlite(element, compiler, **kw):
    column, value = list(element.clauses)
    column, value = compiler.process(column, **kw), compiler.process(value, **kw)
    # Both parts are compiled SQL (a column and a bound parameter), never caller text.
    return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = {value})"  # noqa: S608


def may_act_clause(user: User, acting_for: Collection[int] = ()) -> ColumnElement[bool]:
    """SQL condition: the open task is assigned to ``user`` or open to them as a candidate.

    ``acting_for`` are the people ``user`` stands in for today (substitutes.acting_for): their
    assigned tasks and candidacies count as the user's. Separation of duties keeps out tasks that
    exclude ``user``.
    """
    candidate = candidate_clause(user)
    if acting_for:
        standing_in = exists().where(
            TaskCandidate.task_id == HumanTask.id, TaskCandidate.user_id.in_(list(acting_for))
        )
        candidate = or_(candidate, standing_in)
    return and_(
        HumanTask.status == TaskStatus.OPEN,
        not_(_json_list_has(HumanTask.excluded_user_ids, literal(user.id))),
        or_(
            HumanTask.assignee_id.in_([user.id, *acting_for]),
            and_(HumanTask.assignee_id.is_(None), candidate),
        ),
    )


def is_candidate(user: User, task: HumanTask, acting_for: Collection[int] = ()) -> bool:
    """True if ``user`` is named among the task's candidates, or holds a candidate role.

    A candidacy of someone in ``acting_for`` (whom the user stands in for today) counts too.
    """
    roles = {r.lower() for r in user.roles}
    return any(
        c.user_id == user.id
        or (c.user_id is not None and c.user_id in acting_for)
        or (c.role and c.role in roles)
        for c in task.candidates
    )


def is_excluded(user: User, task: HumanTask) -> bool:
    """True if separation of duties keeps ``user`` off ``task`` (their own request, or a second approval)."""
    return user.id in (task.excluded_user_ids or ())


def may_act(user: User, task: HumanTask, acting_for: Collection[int] = ()) -> bool:
    """True if ``user`` may claim or complete ``task`` now (standing in for ``acting_for`` as well)."""
    if task.status != TaskStatus.OPEN or is_excluded(user, task):
        return False
    if task.assignee_id is not None:
        return task.assignee_id == user.id or task.assignee_id in acting_for
    return is_candidate(user, task, acting_for)


def visible_instances_clause(session: Session, user: User) -> ColumnElement[bool]:
    """SQL condition on ProcessInstance: the instances ``user`` may see."""
    if sees_everything(user):
        return ProcessInstance.id.is_not(None)
    people = {user.id} | report_ids(session, user)
    acting_for = substitutes.acting_for(session, user)
    involved = select(HumanTask.instance_id).where(_involved_clause(user, acting_for)).scalar_subquery()
    return or_(ProcessInstance.initiator_id.in_(people), ProcessInstance.id.in_(involved))


def _involved_clause(user: User, acting_for: Collection[int] = ()) -> ColumnElement[bool]:
    """SQL condition on HumanTask: ``user`` holds, held, completed or may claim the task.

    A substitute is involved in the open tasks of the people they stand in for today (held by them,
    or open to them as named candidates), so they can read the request they are asked to decide.
    """
    involved = or_(
        HumanTask.assignee_id == user.id,
        HumanTask.completed_by_id == user.id,
        candidate_clause(user),
        and_(HumanTask.escalated_from_id == user.id, HumanTask.escalated_from_reads.is_(True)),
    )
    if not acting_for:
        return involved
    absent = list(acting_for)
    standing_in = or_(
        HumanTask.assignee_id.in_(absent),
        exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.user_id.in_(absent)),
    )
    return or_(involved, and_(HumanTask.status == TaskStatus.OPEN, standing_in))


def can_see_instance(
    session: Session, user: User, instance: ProcessInstance, acting_for: Collection[int] | None = None
) -> bool:
    """True if ``user`` may see ``instance`` and its tasks.

    ``acting_for`` (substitutes.acting_for) is read when not given; callers that already have it
    pass it, so one check costs one look-up of who is away.
    """
    if sees_everything(user) or instance.initiator_id == user.id:
        return True
    if instance.initiator_id in report_ids(session, user):
        return True
    if acting_for is None:
        acting_for = substitutes.acting_for(session, user)
    involved = _involved_clause(user, acting_for)
    query = select(HumanTask.id).where(HumanTask.instance_id == instance.id, involved).limit(1)
    return session.scalar(query) is not None


def can_see_task(
    session: Session,
    user: User,
    task: HumanTask,
    instance: ProcessInstance,
    acting_for: Collection[int] | None = None,
) -> bool:
    """A task is visible to its assignee and candidates, and to whoever may see its instance.

    A candidate keeps seeing a task someone else claimed, so they are told it is taken. A substitute
    sees the open tasks of the people they stand in for today.
    """
    if task.assignee_id == user.id or is_candidate(user, task):
        return True  # may_act() needs one of these or a stand-in, so they cover everyone who may act
    if task.escalated_from_reads and task.escalated_from_id == user.id:
        return True  # escalationKeepsOriginal: the former holder still reads it; may_act() says no
    if acting_for is None:
        acting_for = substitutes.acting_for(session, user)
    if task.status == TaskStatus.OPEN and (
        task.assignee_id in acting_for or is_candidate(user, task, acting_for)
    ):
        return True
    return can_see_instance(session, user, instance, acting_for)


def can_see_person(session: Session, viewer: User, person: User) -> bool:
    """The person themself, their managers up the line, HR and admins see a person (and their balances)."""
    if viewer.id == person.id or sees_everything(viewer):
        return True
    return person.id in report_ids(session, viewer)


def sees_personal_facts(viewer: User, person: User) -> bool:
    """Salary and sanctions show to the person, HR and admins only; a manager sees the other facts."""
    return viewer.id == person.id or sees_everything(viewer)


def subject_id(instance: ProcessInstance) -> int | None:
    """The id of the person ``instance`` is about: its route's hooks say (default: the initiator)."""
    return process_hooks.hooks_for(instance.process_key).subject_id(instance)


def sees_sensitive_data(user: User, instance: ProcessInstance) -> bool:
    """Fields marked sensitive show unmasked only to the person the request is about, HR and admins.

    A manager approving the request sees the rest of it (152-ФЗ: no more personal data than the
    task needs); so does a manager who filed a request about someone else (a bonus), since the
    person it is about is then not the filer.
    """
    if sees_everything(user):
        return True
    subject = subject_id(instance)
    return subject is not None and subject == user.id
