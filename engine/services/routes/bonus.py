"""The bonus route's hooks (processes/bonus, hr-domain §3): who may file, B-1..B-3 from the bundle's
DMN tables, and the department fund, re-checked under a lock at each approval and booked at the last.

At submission the hooks read what no form may carry (the salary, sanctions, tenure) from the person's
record, evaluate the bundle's decisions and refuse with a 422 that names the rule; otherwise they put
the approval chain into the data for the diagram to walk. The salary and the ratio derived from it
never enter the instance data: they stay in decision records, marked sensitive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from engine import clock
from engine.errors import InvalidData, NotFound
from engine.models import BonusFundUsage, Department, HumanTask, ProcessDefinition, ProcessInstance, User
from engine.services import decision_records, decision_tables, definitions, masking, process_hooks
from engine.services.coordinators import coordinator_for
from engine.services.rule_tables import table_rows
from engine.services.users import normalise_email
from rules import outcomes
from rules.bonus import Sanction, tenure_months
from rules.dmn import DmnModel, load_dmn
from rules.outcomes import Effect, plain, problem

KEY = "bonus"
APPROVAL_TASKS = frozenset({"director_approval", "hr_partner_check", "position_approval"})
COORDINATOR_PREFIX = "bonus."  # a step code other than these two goes to coordinator "bonus.<code>"
STEP_DEPARTMENT_HEAD = "dept_director"
STEP_HR_PARTNER = "hr_bp_check"
OVER_FUND_RESULT = "ESCALATE_OVER_FUND"
_STASH = "approute.bonus.evaluation"  # session.info key: before_start's evaluation, for after_start
MAX_LEVELS = 50

# Rule codes of the 422 problems; the B-1/B-2 ones are rules.outcomes' codes.
EMPLOYEE_UNKNOWN = "BONUS_EMPLOYEE_UNKNOWN"
SELF_BONUS = "BONUS_SELF_APPROVAL"
NOT_IN_LINE = "BONUS_NOT_IN_LINE"
NO_SALARY = "BONUS_NO_SALARY"
ROUTE_GAP = "BONUS_ROUTE_GAP"
TABLE_ERROR = "BONUS_TABLE_ERROR"


@dataclass
class Fund:
    """The department's fund for the bonus's period and what approved bonuses already took from it."""

    department: str
    period: str  # the period of the bonus_funds row used (the bonus's, or its quarter or year)
    amount: Decimal
    booked: Decimal
    table_version: int
    found: bool

    @property
    def left(self) -> Decimal:
        return self.amount - self.booked

    def as_inputs(self) -> dict[str, Any]:
        return plain(
            {
                "department": self.department,
                "fund_period": self.period,
                "fund": self.amount if self.found else None,
                "booked": self.booked,
                "fund_left": self.left,
            }
        )


@dataclass
class Evaluation:
    """What the submission was evaluated to, kept until after_start records it."""

    versions: dict[str, int]  # "dmn:<decision id>" → the version evaluated (0: the bundle's copy)
    facts: dict[str, Any]
    eligibility: dict[str, Any]
    ratio: Decimal
    limit: dict[str, Any]
    fund: Fund
    chain: list[str]
    flags: list[dict[str, Any]] = field(default_factory=list)


def _refuse(message: str, problem: dict[str, Any]) -> InvalidData:
    return InvalidData(message, [problem])


def _scrubbed(text: str, *secrets: Decimal) -> str:
    """``text`` without the ratio or the salary in the spellings a table's ``string()`` gives them.

    The filer reads the refusal; a table HR edited may have written the ratio into its message.
    """
    spellings = {
        form for value in secrets for form in (str(value), str(plain(value)), f"{value.normalize():f}")
    }
    return masking.scrub_text(text, sorted((s for s in spellings if len(s) >= 3), key=len, reverse=True))


# --- the bundle's decisions --------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _model(content: bytes, filename: str) -> DmnModel:
    # Versions never change, so a parsed file is cached by its text.
    return load_dmn(content, filename)


def _decide(
    session: Session, definition: ProcessDefinition, decision_id: str, inputs: dict[str, Any]
) -> dict[str, Any]:
    """Evaluate one decision: HR's current version if HR edited it, else the definition's own copy.

    Returns {output, matched, version} (version 0: the bundle's copy). Raises InvalidData when the
    decision is missing or cannot decide.
    """
    model, version = None, 0
    try:
        state = decision_tables.current(session, decision_id)
    except NotFound:
        state = None
    if state is not None and state.version > 0:
        model, version = _model(state.content.encode("utf-8"), f"{decision_id}.dmn"), state.version
    else:
        for file in definition.files:
            if file.filename.lower().endswith(".dmn"):
                candidate = _model(file.content, file.filename)
                if decision_id in candidate.decision_ids:
                    model = candidate
                    break
    if model is None:
        raise _refuse(
            f"bonus version {definition.version} has no decision '{decision_id}'",
            problem("definition", TABLE_ERROR, "decision missing from the bundle", decision=decision_id),
        )
    result = model.evaluate(decision_id, inputs)
    if result.errors or result.output is None:
        reason = "; ".join(result.errors) or "no rule matched"
        raise _refuse(
            f"the bonus table '{decision_id}' cannot decide: {reason}",
            problem("definition", TABLE_ERROR, reason, decision=decision_id),
        )
    return {"output": result.output, "matched": result.matched_ids, "version": version}


def _chain_of(
    session: Session, definition: ProcessDefinition, amount: Decimal, limit_result: str
) -> tuple[list[str], int]:
    """B-3: the steps of every matching row, in row order, each code once; and the table version."""
    decided = _decide(session, definition, "bonus_route", {"amount": amount, "limit_result": limit_result})
    rows = decided["output"] if isinstance(decided["output"], list) else [decided["output"]]
    chain: list[str] = []
    for steps in rows:
        for step in steps if isinstance(steps, list) else [steps]:
            if isinstance(step, str) and step and step not in chain:
                chain.append(step)
    return chain, decided["version"]


# --- facts about the people --------------------------------------------------------------------------


def _today() -> date:
    return clock.today()


def _employee(session: Session, actor: User, email: Any) -> User:
    """The employee the bonus is for: known, active or not, in the filer's line and not the filer."""
    field_name = "data.employee_email"
    person = None
    if isinstance(email, str):
        person = session.scalar(select(User).where(User.email == normalise_email(email)))
    if person is None:
        raise _refuse(
            "the employee is not known", problem(field_name, EMPLOYEE_UNKNOWN, "no user has this e-mail")
        )
    if person.id == actor.id:
        raise _refuse(
            "you may not file a bonus for yourself",
            problem(field_name, SELF_BONUS, "separation of duties: a bonus is filed for someone else"),
        )
    current, seen = person, set()
    for _ in range(MAX_LEVELS):
        if current.manager_id is None or current.manager_id in seen:
            break
        if current.manager_id == actor.id:
            return person
        seen.add(current.manager_id)
        current = session.get(User, current.manager_id)
    raise _refuse(
        "the employee is not in your reporting line",
        problem(field_name, NOT_IN_LINE, "a manager files bonuses only for people who report to them"),
    )


def _sanctions(person: User) -> list[Sanction]:
    """Disciplinary sanctions HR recorded in ``flags["sanctions"]``: [{type, date, lifted_on?}]."""
    found = []
    for item in (person.flags or {}).get("sanctions") or []:
        try:
            lifted = item.get("lifted_on")
            found.append(
                Sanction(date.fromisoformat(item["date"]), date.fromisoformat(lifted) if lifted else None)
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            continue  # a malformed entry is HR's data error, not a reason to refuse every bonus
    return found


def _facts(person: User, bonus_type: str, on: date) -> dict[str, Any]:
    """B-1's inputs from the person's record."""
    status = (
        "dismissed"
        if not person.is_active
        else str((person.flags or {}).get("employment_status") or "active")
    )
    active = [s for s in _sanctions(person) if s.in_force_on(on)]
    return {
        "employee_status": status,
        "active_sanction": bool(active),
        "sanction_end": max(s.in_force_until() for s in active).isoformat() if active else None,
        "tenure_months": tenure_months(person.hire_date, on) if person.hire_date else None,
        "bonus_type": bonus_type,
    }


# --- the fund ----------------------------------------------------------------------------------------


def _fund_periods(period: str) -> list[str]:
    """The fund periods that cover a bonus period, narrowest first: 2026-03 → 2026-03, 2026-Q1, 2026."""
    year = period[:4]
    if period[5] == "Q":
        return [period, year]
    quarter = (int(period[5:]) - 1) // 3 + 1
    return [period, f"{year}-Q{quarter}", year]


def _fund(session: Session, department: str, period: str) -> Fund:
    """The fund row for the department and period (none: a fund of 0) and the bonuses booked on it.

    Only approved (booked) bonuses count: pending ones do not hold money, since the re-check at each
    approval is what keeps two approvals from spending the same roubles (A32).
    """
    version, rows = table_rows(session, "bonus_funds")
    by_period = {row["period"]: row for row in rows if row["department"] == department}
    for candidate in _fund_periods(period):
        if candidate in by_period:
            amount, found, fund_period = Decimal(str(by_period[candidate]["amount"])), True, candidate
            break
    else:
        amount, found, fund_period = Decimal(0), False, period
    booked = session.scalar(
        select(func.coalesce(func.sum(BonusFundUsage.amount), 0)).where(
            BonusFundUsage.department == department, BonusFundUsage.fund_period == fund_period
        )
    )
    return Fund(department, fund_period, amount, Decimal(str(booked)), version, found)


def _over_fund_flag(fund: Fund) -> dict[str, Any]:
    return outcomes.failed(outcomes.OVER_FUND, Effect.ESCALATE, available=fund.left).to_dict()


# --- who acts on each step ---------------------------------------------------------------------------


def _route_gaps(session: Session, department: Department, chain: list[str]) -> list[dict[str, Any]]:
    """Steps of the chain that would name nobody, so the filer hears it now, not at that step."""
    gaps = []
    for step in chain:
        if step == STEP_DEPARTMENT_HEAD and department.head_id is None:
            gaps.append(problem("chain", ROUTE_GAP, "the department has no head", step=step))
        elif step == STEP_HR_PARTNER and department.hr_partner_id is None:
            gaps.append(problem("chain", ROUTE_GAP, "the department has no HR partner", step=step))
        elif (
            step not in (STEP_DEPARTMENT_HEAD, STEP_HR_PARTNER)
            and coordinator_for(session, COORDINATOR_PREFIX + step) is None
        ):
            coordinator = COORDINATOR_PREFIX + step
            message = f"nobody is named for the step '{step}': HR names the coordinator '{coordinator}'"
            gaps.append(problem("chain", ROUTE_GAP, message, step=step))
    return gaps


# --- the hooks ---------------------------------------------------------------------------------------


class BonusHooks(process_hooks.ProcessHooks):
    """Submission checks, the fund re-check under a lock at each approval, and the booking."""

    key = KEY

    def before_start(self, session: Session, actor: User, data: dict[str, Any]) -> dict[str, Any]:
        """Refuse a bonus that B-1 or B-2 rules out (422); otherwise add the chain B-3 gives."""
        definition = definitions.get_latest(session, KEY)
        person = _employee(session, actor, data.get("employee_email"))
        department = (
            session.scalar(select(Department).where(Department.code == person.department))
            if person.department
            else None
        )
        if department is None:
            raise _refuse(
                "the employee has no department, so there is no fund and no approver",
                problem("data.employee_email", ROUTE_GAP, "the employee has no department"),
            )
        if not person.monthly_salary or person.monthly_salary <= 0:
            raise _refuse(
                "the employee has no monthly salary on record; HR sets it before a bonus can be checked",
                problem("data.employee_email", NO_SALARY, "no monthly salary on record"),
            )
        bonus_type, amount = data["bonus_type"], Decimal(str(data["amount"]))
        facts = _facts(person, bonus_type, _today())
        decided = _decide(session, definition, "bonus_eligibility", facts)
        eligibility, versions = decided["output"], {"dmn:bonus_eligibility": decided["version"]}
        if not eligibility.get("eligible"):
            params = {"rule": eligibility.get("rule"), "until": facts["sanction_end"]}
            raise _refuse(
                f"not eligible for a bonus: {eligibility.get('reason')}",
                problem("data.bonus_type", outcomes.BONUS_NOT_ELIGIBLE, eligibility.get("reason"), **params),
            )
        ratio = amount / person.monthly_salary
        fund = _fund(session, department.code, data["period"])
        decided = _decide(
            session,
            definition,
            "bonus_limit_check",
            {"bonus_type": bonus_type, "ratio": ratio, "amount": amount, "fund_left": fund.left},
        )
        limit, versions["dmn:bonus_limit_check"] = decided["output"], decided["version"]
        if limit.get("result") == "REJECT":
            # The cap, not the ratio: the ratio would tell the manager the salary.
            message = _scrubbed(
                limit.get("message") or "the bonus exceeds its cap", ratio, person.monthly_salary
            )
            raise _refuse(
                message,
                problem(
                    "data.amount",
                    outcomes.BONUS_LIMIT_EXCEEDED,
                    message,
                    bonus_type=bonus_type,
                    cap=limit.get("cap"),
                ),
            )
        chain, versions["dmn:bonus_route"] = _chain_of(session, definition, amount, limit.get("result"))
        if not chain:
            raise _refuse(
                "the bonus route table gives no approval step for this bonus",
                problem("chain", ROUTE_GAP, "no row of bonus_route matched"),
            )
        gaps = _route_gaps(session, department, chain)
        if gaps:
            raise InvalidData("the approval chain names nobody for a step", gaps)
        flags = [_over_fund_flag(fund)] if limit.get("result") == OVER_FUND_RESULT else []
        session.info[_STASH] = Evaluation(versions, facts, eligibility, ratio, limit, fund, chain, flags)
        return {
            "employee_id": person.id,  # who the request is about (subject_id): an id, not personal data
            "employee_department": department.code,
            "limit_result": limit.get("result"),
            "chain": chain,
            "step_index": 0,
            "flags": flags,
        }

    def after_start(self, session: Session, instance: ProcessInstance) -> None:
        """Record the four evaluations the submission passed, with the versions they read."""
        evaluation: Evaluation | None = session.info.pop(_STASH, None)
        if evaluation is None:
            return
        data, versions = instance.data, evaluation.versions

        def record(rule, inputs, output, outcome, message, tables, sensitive=()):
            decision_records.record_decision(
                session,
                instance.id,
                rule,
                plain(inputs),
                plain(output),
                outcome,
                message,
                tables,
                element_id="submitted",
                sensitive_fields=sensitive,
            )

        record(
            "bonus.eligibility",
            evaluation.facts,
            evaluation.eligibility,
            "OK",
            "eligible",
            {"dmn:bonus_eligibility": versions["dmn:bonus_eligibility"]},
        )
        # The table's message becomes the record's message, which is scrubbed of the ratio on display;
        # a copy left in the output would not be (HR's edited table may write the ratio into it).
        limit_output = {k: v for k, v in evaluation.limit.items() if k != "message"}
        record(
            "bonus.limit",
            {"bonus_type": data.get("bonus_type"), "amount": data.get("amount"), "ratio": evaluation.ratio},
            limit_output,
            evaluation.limit.get("result") or "OK",
            evaluation.limit.get("message") or "within the cap",
            {
                "dmn:bonus_limit_check": versions["dmn:bonus_limit_check"],
                "bonus_funds": evaluation.fund.table_version,
            },
            sensitive=("ratio",),
        )
        _record_fund(session, instance, evaluation.fund, data.get("amount"), "submitted", booked=False)
        record(
            "bonus.chain",
            {"amount": data.get("amount"), "limit_result": evaluation.limit.get("result")},
            {"steps": evaluation.chain},
            "OK",
            " → ".join(evaluation.chain),
            {"dmn:bonus_route": versions["dmn:bonus_route"]},
        )

    def subject_id(self, instance: ProcessInstance) -> int | None:
        """The employee the bonus is for, not the filing manager: the ratio would tell the filer the salary.

        Requests filed before ``employee_id`` was kept in the data are looked up by e-mail.
        """
        data = instance.data or {}
        if isinstance(data.get("employee_id"), int):
            return data["employee_id"]
        session = object_session(instance)
        email = data.get("employee_email")
        if session is None or not isinstance(email, str):
            return None  # nobody but HR and admins, rather than the filer
        return session.scalar(select(User.id).where(User.email == normalise_email(email)))

    def before_complete(
        self, session: Session, instance: ProcessInstance, task: HumanTask, actor: User, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Re-check the fund under the department's lock; add the steps the table now asks for; book
        the amount when this is the last approval."""
        if task.element_id not in APPROVAL_TASKS or data.get("decision") != "approve":
            return {}
        stored = instance.data
        department = stored["employee_department"]
        # The lock serialises every approval against this department's fund until commit.
        session.scalar(select(Department).where(Department.code == department).with_for_update())
        amount = Decimal(str(stored["amount"]))
        fund = _fund(session, department, stored["period"])
        over = amount > fund.left
        definition = session.get(ProcessDefinition, instance.definition_id)
        wanted, route_version = _chain_of(session, definition, amount, OVER_FUND_RESULT if over else "OK")
        chain = list(stored.get("chain") or [])
        added = [step for step in wanted if step not in chain]
        flags = list(stored.get("flags") or [])
        if over and not any(flag.get("code") == outcomes.OVER_FUND for flag in flags):
            flags.append(_over_fund_flag(fund))
        if added:
            chain += added
            decision_records.record_decision(
                session,
                instance.id,
                "bonus.chain",
                plain({"amount": amount, "limit_result": OVER_FUND_RESULT if over else "OK"}),
                {"steps": chain, "added": added},
                "ESCALATED",
                "steps added at approval: " + ", ".join(added),
                {"dmn:bonus_route": route_version},
                element_id=task.element_id,
                actor=actor,
            )
        last = int(stored.get("step_index", 0)) + 1 >= len(chain)
        if last:
            session.add(
                BonusFundUsage(
                    instance_id=instance.id,
                    department=department,
                    fund_period=fund.period,
                    period=stored["period"],
                    amount=amount,
                )
            )
        _record_fund(session, instance, fund, amount, task.element_id, booked=last, actor=actor)
        session.flush()
        return {"chain": chain, "flags": flags}


def _record_fund(session, instance, fund: Fund, amount, element_id, *, booked: bool, actor=None) -> None:
    """The fund as read for this check: OK, or OVER_FUND with what was left."""
    over = Decimal(str(amount)) > fund.left
    outcome = outcomes.OVER_FUND if over else "OK"
    message = _over_fund_flag(fund)["message"] if over else f"{plain(fund.left)} available"
    decision_records.record_decision(
        session,
        instance.id,
        "bonus.fund",
        {**fund.as_inputs(), "amount": plain(Decimal(str(amount)))},
        {"over_fund": over, "booked": booked},
        outcome,
        message + ("; booked" if booked else ""),
        {"bonus_funds": fund.table_version},
        element_id=element_id,
        actor=actor,
    )


process_hooks.register(BonusHooks())
