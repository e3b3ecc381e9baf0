"""DMN decisions HR edits: the bundle's copy is version 0, HR's uploads are versions 1, 2, ...

A business-rule task calls a decision of its bundle's DMN file. HR may replace that file's text
for one decision id with their own DMN (the editor writes DMN); from then on every evaluation of
that decision id, in any route, uses HR's current version. Running instances pick it up at their
next evaluation; the decisions already recorded keep the version they used.

HR's versions live in the rule-table storage, so no table of their own is needed: a
``RuleTable`` named ``dmn:<decision id>`` whose ``RuleTableVersion`` rows hold ``[{"dmn": xml}]``.
Those names are not in the catalog (``rules.tables``), so the rule-table API never shows them.

Every version HR stores is read with ``load_dmn`` first and must still hold the decision; a
decision a bundle calls must keep its name and its output columns, because routes read the
task data under them. Concurrent editors are caught by the version they read (the ETag).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import business_rules
from engine.bpmn.business_rules import DecisionOverride, Evaluation, to_task_data
from engine.errors import InvalidData, NotFound
from engine.models import DefinitionFile, ProcessDefinition, RuleTable, RuleTableVersion, User
from engine.models._types import utcnow
from engine.services import audit, rule_tables
from engine.services.rule_tables import StaleVersion
from rules.dmn import DmnError, DmnModel, load_dmn
from rules.dmn.logic import DecisionTableLogic

PREFIX = "dmn:"
MAX_DECISION_ID = 64 - len(PREFIX)  # RuleTable.name is 64 characters
MAX_DMN_BYTES = 1_000_000
MAX_COMMENT = 2000


@dataclass(frozen=True)
class BundleCopy:
    """Where a decision comes from in the deployed bundles: the newest version that holds it."""

    key: str
    version: int
    filename: str
    content: str


@dataclass(frozen=True)
class DecisionState:
    """One version of a decision's DMN as read: version 0 is the bundle copy."""

    decision_id: str
    name: str
    version: int
    content: str
    source: BundleCopy | None
    created_at: datetime | None = None
    created_by: str | None = None  # e-mail; None for the bundle copy or the command line
    comment: str = ""
    diff: Mapping[str, int] | None = None

    @property
    def etag(self) -> str:
        """The entity tag of this version, without quotes: ``<decision id>-v<version>``."""
        return f"{self.decision_id}-v{self.version}"


# --- reading the DMN ------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _load(content: str) -> DmnModel | None:
    try:
        return load_dmn(content.encode("utf-8"))
    except DmnError:
        return None  # a deployed file was checked at deploy; a bad one simply names no decision


def _decision_name(content: str, decision_id: str) -> str:
    model = _load(content)
    decision = model.definitions.decisions.get(decision_id) if model else None
    return decision.name if decision else decision_id


def bundle_copies(session: Session) -> dict[str, BundleCopy]:
    """Every decision id in the DMN files of the deployed definitions, with the newest copy of each."""
    query = (
        select(
            ProcessDefinition.key, ProcessDefinition.version, DefinitionFile.filename, DefinitionFile.content
        )
        .join(DefinitionFile, DefinitionFile.definition_id == ProcessDefinition.id)
        .where(DefinitionFile.filename.ilike("%.dmn"))
        .order_by(ProcessDefinition.deployed_at, ProcessDefinition.key, ProcessDefinition.version)
    )
    found: dict[str, BundleCopy] = {}
    for key, version, filename, content in session.execute(query):
        text = content.decode("utf-8", errors="replace")
        model = _load(text)
        for decision_id in model.decision_ids if model else ():
            found[decision_id] = BundleCopy(key, version, filename, text)  # newer deploys win
    return found


def _bundle_copy(session: Session, decision_id: str) -> BundleCopy | None:
    return bundle_copies(session).get(decision_id)


def _hr_versions_query():
    return (
        select(RuleTableVersion, User.email)
        .join(RuleTable, RuleTable.id == RuleTableVersion.table_id)
        .outerjoin(User, User.id == RuleTableVersion.created_by_id)
    )


def _state(decision_id: str, row: RuleTableVersion, email: str | None, source: BundleCopy | None):
    content = row.rows[0]["dmn"]
    return DecisionState(
        decision_id,
        _decision_name(content, decision_id),
        row.version,
        content,
        source,
        row.created_at,
        email,
        row.comment,
        row.diff,
    )


def _bundle_state(decision_id: str, source: BundleCopy) -> DecisionState:
    return DecisionState(
        decision_id,
        _decision_name(source.content, decision_id),
        0,
        source.content,
        source,
        comment=f"as deployed with {source.key} version {source.version} ({source.filename})",
    )


def current(session: Session, decision_id: str) -> DecisionState:
    """The DMN in force for a decision: HR's latest version, else the bundle copy. Raises NotFound."""
    table = session.scalar(select(RuleTable).where(RuleTable.name == PREFIX + decision_id))
    if table is not None and table.current_version > 0:
        return get_version(session, decision_id, table.current_version)
    return get_version(session, decision_id, 0)


def get_version(session: Session, decision_id: str, version: int) -> DecisionState:
    """One version of a decision; 0 is the copy deployed with the newest bundle. Raises NotFound."""
    source = _bundle_copy(session, decision_id)
    if version == 0:
        if source is None:
            raise NotFound(_unknown(decision_id, "was not deployed with any bundle (no version 0)"))
        return _bundle_state(decision_id, source)
    found = session.execute(
        _hr_versions_query().where(
            RuleTable.name == PREFIX + decision_id, RuleTableVersion.version == version
        )
    ).first()
    if found is None:
        raise NotFound(f"the decision {decision_id} has no version {version}")
    return _state(decision_id, found[0], found[1], source)


def list_versions(session: Session, decision_id: str) -> list[DecisionState]:
    """Every version of a decision, newest first, ending with the bundle copy if there is one."""
    source = _bundle_copy(session, decision_id)
    query = _hr_versions_query().where(RuleTable.name == PREFIX + decision_id)
    states = [
        _state(decision_id, row, email, source)
        for row, email in session.execute(query.order_by(RuleTableVersion.version.desc()))
    ]
    if source is not None:
        states.append(_bundle_state(decision_id, source))
    if not states:
        raise NotFound(_unknown(decision_id, "is unknown"))
    return states


def list_decisions(session: Session) -> list[DecisionState]:
    """Every decision HR may edit (deployed or uploaded by HR), current version, sorted by id."""
    sources = bundle_copies(session)
    query = _hr_versions_query().where(
        RuleTable.name.startswith(PREFIX, autoescape=True),
        RuleTableVersion.version == RuleTable.current_version,
    )
    edited = {name: (row, email) for row, email, name in session.execute(query.add_columns(RuleTable.name))}
    states = []
    for decision_id in sorted(set(sources) | {name[len(PREFIX) :] for name in edited}):
        row, email = edited.get(PREFIX + decision_id, (None, None))
        source = sources.get(decision_id)
        states.append(
            _state(decision_id, row, email, source) if row is not None else _bundle_state(decision_id, source)
        )
    return states


def _unknown(decision_id: str, what: str) -> str:
    return f"the decision {decision_id} {what}; GET /api/v1/decisions lists the decisions"


# --- storing HR's versions ------------------------------------------------------------------------


def replace_dmn(
    session: Session,
    decision_id: str,
    content: bytes,
    *,
    actor: User | None,
    comment: str = "",
    expected_version: int | None = None,
) -> tuple[DecisionState, bool]:
    """Make ``content`` the DMN in force for ``decision_id``; returns (the state, whether it changed).

    ``expected_version`` is the version the editor read (None: no check, the command line or
    ``If-Match: *``); a decision that has moved on raises StaleVersion and nothing is written.
    The same text as the current version writes nothing. Raises InvalidData naming the line and
    element of a DMN problem, or why the file does not fit the routes that call the decision.
    """
    _check_id(decision_id)
    text = _check_content(decision_id, content)
    table = rule_tables.locked_table(session, PREFIX + decision_id)
    if expected_version is not None and expected_version != table.current_version:
        changed_by = session.get(User, table.updated_by_id) if table.updated_by_id else None
        raise StaleVersion(
            decision_id,
            expected_version,
            table.current_version,
            changed_by.email if changed_by else None,
            table.updated_at,
        )
    source = _bundle_copy(session, decision_id)
    if source is not None:
        _check_fits_routes(decision_id, text, source)
    before = current(session, decision_id) if (source is not None or table.current_version) else None
    if before is not None and before.content == text:
        return before, False
    version = table.current_version + 1
    now = utcnow()
    old_lines = before.content.splitlines() if before is not None else []
    diff = _line_counts(old_lines, text.splitlines())
    session.add(
        RuleTableVersion(
            table_id=table.id,
            version=version,
            rows=[{"dmn": text}],
            diff=diff,
            comment=(comment or "").strip()[:MAX_COMMENT],
            created_by_id=actor.id if actor else None,
            created_at=now,
        )
    )
    table.current_version = version
    table.updated_at = now
    table.updated_by_id = actor.id if actor else None
    session.flush()
    audit.record(session, "decision.changed", actor=actor, decision=decision_id, version=version, **diff)
    return get_version(session, decision_id, version), True


def _check_id(decision_id: str) -> None:
    if not decision_id or len(decision_id) > MAX_DECISION_ID:
        raise InvalidData(
            f"a decision id HR edits is 1 to {MAX_DECISION_ID} characters",
            [{"field": "decision_id", "message": f"{len(decision_id)} characters"}],
        )


def _check_content(decision_id: str, content: bytes) -> str:
    """The DMN as text, read and checked; InvalidData names the line and element of a problem."""
    if len(content) > MAX_DMN_BYTES:
        raise InvalidData(
            f"a DMN file is at most {MAX_DMN_BYTES:,} bytes",
            [{"field": "body", "line": None, "element_id": None, "message": f"{len(content):,} bytes"}],
        )
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidData(
            "the DMN file is not UTF-8 text",
            [
                {
                    "field": "body",
                    "line": None,
                    "element_id": None,
                    "message": f"byte {exc.start} is not UTF-8",
                }
            ],
        ) from None
    try:
        model = load_dmn(content, f"{decision_id}.dmn")
    except DmnError as exc:
        raise InvalidData(
            f"the DMN file cannot be used: {exc}; nothing was saved",
            [{"field": "body", "line": exc.line, "element_id": exc.element_id, "message": exc.message}],
        ) from None
    if decision_id not in model.definitions.decisions:
        held = ", ".join(model.decision_ids) or "none"
        raise InvalidData(
            f"the DMN file no longer holds the decision {decision_id} (it holds: {held}); nothing was saved",
            [{"field": "body", "line": None, "element_id": decision_id, "message": "decision missing"}],
        )
    return text


def _shape(model: DmnModel, decision_id: str) -> tuple[str, list[str]]:
    decision = model.definitions.decisions[decision_id]
    columns = []
    if isinstance(decision.logic, DecisionTableLogic):
        columns = [column.name for column in decision.logic.outputs if column.name]
    return decision.name, columns


def _check_fits_routes(decision_id: str, text: str, source: BundleCopy) -> None:
    # Business-rule tasks put the result under the decision's name and its output columns, and
    # gateways read them there: a version that renames them would silently break running routes.
    deployed = _load(source.content)
    if deployed is None or decision_id not in deployed.definitions.decisions:
        return
    old_name, old_columns = _shape(deployed, decision_id)
    new_model = load_dmn(text.encode("utf-8"))
    new_name, new_columns = _shape(new_model, decision_id)
    line = new_model.definitions.decisions[decision_id].line
    problems = []
    if new_name != old_name:
        problems.append(
            {
                "field": "body",
                "line": line,
                "element_id": decision_id,
                "message": f"the decision's name must stay '{old_name}' (routes read the result under it), "
                f"not '{new_name}'",
            }
        )
    missing = [c for c in old_columns if c not in new_columns]
    if missing:
        problems.append(
            {
                "field": "body",
                "line": line,
                "element_id": decision_id,
                "message": f"output columns the routes read are missing: {', '.join(missing)}",
            }
        )
    if problems:
        raise InvalidData(
            f"the DMN file does not fit the routes that call {decision_id} ({source.key}); nothing was saved",
            problems,
        )


def _line_counts(old: list[str], new: list[str]) -> dict[str, int]:
    added = removed = 0
    for line in difflib.ndiff(old, new):
        added += line.startswith("+ ")
        removed += line.startswith("- ")
    return {"lines_added": added, "lines_removed": removed}


# --- preview --------------------------------------------------------------------------------------


def evaluate(
    session: Session, decision_id: str, inputs: Any, *, version: int | None = None
) -> dict[str, Any]:
    """Evaluate a version of a decision (default: the one in force) over ``inputs``; writes nothing.

    Returns {decision_id, version, output, matched_rules, errors}. Raises NotFound for an unknown
    decision or version, InvalidData when ``inputs`` is not an object.
    """
    if not isinstance(inputs, Mapping):
        raise InvalidData(
            "inputs must be an object of name: value", [{"field": "inputs", "message": "not an object"}]
        )
    state = current(session, decision_id) if version is None else get_version(session, decision_id, version)
    model = _load(state.content)
    if model is None:  # cannot happen for a stored version; a deployed file was read at deploy
        raise InvalidData("the DMN of this version cannot be read", [{"field": "version", "message": "bad"}])
    result = model.evaluate(decision_id, dict(inputs))
    return {
        "decision_id": decision_id,
        "version": state.version,
        "output": to_task_data(result.output),
        "matched_rules": list(result.matched_ids),
        "errors": list(result.errors),
    }


# --- the runtime ----------------------------------------------------------------------------------


class _SessionResolver:
    """HR's current versions read in the step's session, each decision once per step."""

    def __init__(self, session: Session):
        self.session = session
        self._found: dict[str, DecisionOverride | None] = {}

    def override(self, decision_id: str) -> DecisionOverride | None:
        if decision_id not in self._found:
            self._found[decision_id] = self._lookup(decision_id)
        return self._found[decision_id]

    def _lookup(self, decision_id: str) -> DecisionOverride | None:
        if len(decision_id) > MAX_DECISION_ID:
            return None
        found = self.session.execute(
            select(RuleTableVersion.version, RuleTableVersion.rows)
            .join(RuleTable, RuleTable.id == RuleTableVersion.table_id)
            .where(
                RuleTable.name == PREFIX + decision_id,
                RuleTableVersion.version == RuleTable.current_version,
            )
        ).first()
        return DecisionOverride(found.version, found.rows[0]["dmn"]) if found else None


@contextmanager
def in_force(session: Session) -> Iterator[None]:
    """Run workflow steps inside this block with HR's current decision versions."""
    with business_rules.resolving_with(_SessionResolver(session)):
        yield


def record_evaluations(session: Session, *, instance, workflow, definition, actor: User | None) -> None:
    """Write a decision record for each decision ``workflow`` evaluated since it was last persisted.

    The record names the DMN version used as its table ``dmn:<decision id>`` (0: the bundle copy).
    """
    # Imported here: decision_records reaches the instance services, which import the step code.
    from engine.services import decision_records, masking

    evaluations: list[Evaluation] = business_rules.take_evaluations(workflow)
    if not evaluations:
        return
    sensitive_paths = masking.definition_sensitive_paths(definition)
    for evaluation in evaluations:
        decision_records.record_decision(
            session,
            instance.id,
            evaluation.decision_id[:128],
            evaluation.inputs,
            evaluation.output,
            "OK",
            f"decision {evaluation.decision_id} version {evaluation.version}; "
            f"rules matched: {', '.join(evaluation.matched) or 'none'}",
            {PREFIX + evaluation.decision_id: evaluation.version},
            evaluation.element_id,
            sensitive_fields=masking.present_paths(evaluation.inputs, sensitive_paths),
            actor=actor,
        )
