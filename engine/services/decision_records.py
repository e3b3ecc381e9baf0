"""Decision records: each evaluation of a rule for an instance, kept as it was decided.

A record holds the rule, the table versions it read, its inputs and output, a stable outcome
code and a sentence for people ("balance 10, requested 14: insufficient"). Records are never
changed: a later edit of a rule table makes new versions, and the record still names the old
one. Each record also writes a ``decision.recorded`` audit event (rule, outcome, table versions;
no input values), which is how it shows in the instance's history.

Inputs may hold sensitive values (a salary). The record lists them in ``sensitive_fields``; they
are masked for viewers who may not see the instance's sensitive data (``visibility``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.errors import InvalidData
from engine.models import DecisionRecord, User
from engine.services import audit, instances, masking, visibility
from engine.services.rule_tables import table_rows

__all__ = ["decisions_for_instance", "erase_for_instance", "record_decision", "shown", "table_rows"]

MAX_JSON_CHARS = 64_000  # inputs and output together: a decision, not a data dump


def record_decision(
    session: Session,
    instance_id: uuid.UUID,
    rule: str,
    inputs: Mapping[str, Any],
    output: Any,
    outcome: str,
    message: str,
    tables: Mapping[str, int],
    element_id: str | None = None,
    *,
    sensitive_fields: Iterable[str] = (),
    actor: User | None = None,
) -> DecisionRecord:
    """Store one evaluation of ``rule`` for an instance and note it in the audit trail.

    ``tables`` maps each rule table read to the version read (``table_rows`` returns it).
    ``sensitive_fields`` are dotted names in ``inputs``/``output`` to mask for most viewers; a
    sensitive value must not appear in ``message`` either (it is scrubbed on display, but only
    where it matches the value exactly). Raises InvalidData for malformed arguments.
    """
    problems = _problems(rule, inputs, outcome, tables)
    if problems:
        raise InvalidData("the decision cannot be recorded", problems)
    record = DecisionRecord(
        instance_id=instance_id,
        element_id=element_id,
        rule=rule,
        tables={str(k): int(v) for k, v in tables.items()},
        inputs=json.loads(json.dumps(dict(inputs), default=str)),
        output=json.loads(json.dumps(output, default=str)),
        outcome=outcome,
        message=message or "",
        sensitive_fields=sorted(set(sensitive_fields)),
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        "decision.recorded",
        actor=actor,
        instance_id=instance_id,
        decision_id=record.id,
        rule=rule,
        outcome=outcome,
        element_id=element_id,
        tables=record.tables,
    )
    return record


def _problems(rule: str, inputs: Any, outcome: str, tables: Any) -> list[dict[str, str]]:
    problems = []
    if not isinstance(rule, str) or not rule.strip() or len(rule) > 128:
        problems.append({"field": "rule", "message": "a name of 1 to 128 characters"})
    if not isinstance(outcome, str) or not outcome.strip() or len(outcome) > 64:
        problems.append({"field": "outcome", "message": "a code of 1 to 64 characters"})
    if not isinstance(inputs, Mapping):
        problems.append({"field": "inputs", "message": "an object of name: value"})
    elif len(json.dumps(dict(inputs), default=str)) > MAX_JSON_CHARS:
        problems.append({"field": "inputs", "message": f"larger than {MAX_JSON_CHARS} characters as JSON"})
    if not isinstance(tables, Mapping) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in tables.items()
    ):
        problems.append(
            {"field": "tables", "message": "an object of table name: version (a whole number >= 0)"}
        )
    return problems


def decisions_for_instance(session: Session, instance_id: uuid.UUID) -> list[DecisionRecord]:
    """Every decision recorded for an instance, oldest first (no visibility check: engine use)."""
    query = (
        select(DecisionRecord)
        .where(DecisionRecord.instance_id == instance_id)
        .order_by(DecisionRecord.at, DecisionRecord.id)
    )
    return list(session.scalars(query))


def decisions_for_viewer(session: Session, instance_id: uuid.UUID, *, viewer: User) -> list[dict[str, Any]]:
    """The decisions of an instance ``viewer`` may see, as shown to them (sensitive fields masked).

    Raises NotFound when the viewer may not see the instance, as for the instance itself.
    """
    instance = instances.get_instance(session, instance_id, viewer=viewer)
    masked = not visibility.sees_sensitive_data(viewer, instance)
    return [shown(record, masked=masked) for record in decisions_for_instance(session, instance_id)]


def shown(record: DecisionRecord, *, masked: bool) -> dict[str, Any]:
    """A record as JSON; with ``masked``, its sensitive fields and their values in the message hidden."""
    paths = [tuple(name.split(".")) for name in record.sensitive_fields or ()]
    inputs, output, message = record.inputs, record.output, record.message
    if masked and paths:
        secrets = masking.sensitive_values(inputs, paths) + masking.sensitive_values(
            output if isinstance(output, dict) else {}, paths
        )
        inputs = masking.mask_data(inputs, paths)
        output = masking.mask_data(output, paths)
        message = masking.scrub_text(message, secrets)
    return {
        "id": record.id,
        "instance_id": record.instance_id,
        "element_id": record.element_id,
        "rule": record.rule,
        "tables": record.tables,
        "inputs": inputs,
        "output": output,
        "outcome": record.outcome,
        "message": message,
        "sensitive_fields": list(record.sensitive_fields or ()),
        "masked": bool(masked and paths),
        "at": record.at,
    }


def erase_for_instance(session: Session, instance_id: uuid.UUID) -> int:
    """Delete an instance's decision records (their inputs are personal data); returns how many.

    For the retention purge only: a record is otherwise never removed or changed.
    """
    result = session.execute(delete(DecisionRecord).where(DecisionRecord.instance_id == instance_id))
    return result.rowcount or 0
