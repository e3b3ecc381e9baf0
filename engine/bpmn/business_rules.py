"""Business-rule tasks evaluated by approute's FEEL/DMN evaluator (rules.dmn).

SpiffWorkflow's BusinessRuleTask calls ``task_spec.dmnEngine.result(task)`` and merges the dict
it returns into the task data. ``FeelDecisionEngine`` is that object for us: it holds the DMN
file's text and the decision id, so the spec stays serializable (see the converter below, which
engine.bpmn.state registers) and is stored once per deployed version.

HR may replace a decision's DMN with versions of their own (engine.services.decision_tables). The
engine service that runs a step installs a ``DecisionResolver`` for it (``resolving_with``); the
decision then evaluates HR's current version instead of the bundle copy. Each evaluation is noted
on the workflow object (not in its stored state), so the step that persists the workflow can
record which version decided what.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.spiff.serializer.task_spec import BusinessRuleTaskConverter, SpiffBpmnTaskConverter

from rules.dmn import DmnModel, load_dmn
from rules.dmn.logic import DecisionTableLogic
from rules.feel.nodes import Name


@lru_cache(maxsize=128)
def _model(content: str, filename: str) -> DmnModel:
    return load_dmn(content.encode("utf-8"), filename)


def to_task_data(value: Any) -> Any:
    """FEEL values to what BPMN scripts and the JSON API expect: whole numbers as int, others float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [to_task_data(v) for v in value]
    if isinstance(value, dict):
        return {k: to_task_data(v) for k, v in value.items()}
    return value


@lru_cache(maxsize=128)
def _names_read(content: str, filename: str) -> frozenset[str]:
    # Every FEEL name the file's expressions mention: the task-data fields a decision may read.
    return frozenset(_collect_names(_model(content, filename).definitions, set()))


def _collect_names(node: Any, seen: set[int]) -> Iterator[str]:
    if id(node) in seen or isinstance(node, str | int | float | bool | Decimal | None):
        return
    seen.add(id(node))
    if isinstance(node, Name):
        yield node.name
    if isinstance(node, dict):
        children = list(node.values())
    elif isinstance(node, list | tuple | set | frozenset):
        children = list(node)
    elif hasattr(node, "__dataclass_fields__"):
        children = [getattr(node, name, None) for name in node.__dataclass_fields__]
    else:
        return
    for child in children:
        yield from _collect_names(child, seen)


@dataclass(frozen=True)
class DecisionOverride:
    """A version of a decision's DMN that replaces the bundle copy (HR's current version)."""

    version: int
    content: str


class DecisionResolver(Protocol):
    """Tells a business-rule task which DMN text is in force for a decision id."""

    def override(self, decision_id: str) -> DecisionOverride | None:
        """HR's current version of the decision, or None to use the bundle copy."""


@dataclass
class Evaluation:
    """One evaluation of a decision during a step: which version decided what, on which inputs."""

    decision_id: str
    element_id: str
    version: int  # 0: the copy deployed with the bundle
    inputs: dict[str, Any]
    output: Any
    matched: list[str] = field(default_factory=list)


_resolver: ContextVar[DecisionResolver | None] = ContextVar("approute_decision_resolver", default=None)
_EVALUATIONS = "approute_decision_evaluations"  # attribute of the top workflow; never serialized


@contextmanager
def resolving_with(resolver: DecisionResolver) -> Iterator[None]:
    """Evaluate business-rule tasks run inside the block with ``resolver``'s versions."""
    token = _resolver.set(resolver)
    try:
        yield
    finally:
        _resolver.reset(token)


def take_evaluations(workflow) -> list[Evaluation]:
    """The evaluations made on ``workflow`` since the last call, oldest first (and forget them)."""
    return workflow.__dict__.pop(_EVALUATIONS, [])


class FeelDecisionEngine:
    """The decision a business-rule task calls; ``result`` gives the data it adds to the task."""

    def __init__(self, decision_id: str, filename: str, content: str):
        self.decision_id = decision_id
        self.filename = filename
        self.content = content

    @property
    def model(self) -> DmnModel:
        return _model(self.content, self.filename)

    def result(self, task) -> dict[str, Any]:
        """Evaluate over the task data. Raises WorkflowTaskException naming the decision on a rule error.

        The value goes under the decision's name; a decision table's output columns are also set by
        name, as SpiffWorkflow's own engine did (a collect table gives a list per column).
        HR's current version is used when the step's resolver has one (see ``resolving_with``).
        """
        resolver = _resolver.get()
        override = resolver.override(self.decision_id) if resolver is not None else None
        if override is None:
            version, content, filename = 0, self.content, self.filename
        else:
            version, content = override.version, override.content
            filename = f"{self.decision_id} (HR version {version})"
        model = _model(content, filename)
        result = model.evaluate(self.decision_id, dict(task.data))
        if result.errors:
            raise WorkflowTaskException(
                f"decision '{result.decision_name}' in {filename} failed: " + "; ".join(result.errors),
                task=task,
            )
        output = to_task_data(result.output)
        read = _names_read(content, filename)
        evaluations = task.workflow.top_workflow.__dict__.setdefault(_EVALUATIONS, [])
        evaluations.append(
            Evaluation(
                decision_id=self.decision_id,
                element_id=task.task_spec.bpmn_id,
                version=version,
                inputs={k: v for k, v in task.data.items() if k in read},
                output=output,
                matched=list(result.matched_ids),
            )
        )
        data = {result.decision_name: output}
        logic = model.definitions.decisions[result.decision_id].logic
        if isinstance(logic, DecisionTableLogic):
            names = [column.name for column in logic.outputs]
            if len(names) == 1 and names[0]:
                data[names[0]] = output
            elif len(names) > 1 and isinstance(output, dict):
                data.update(output)
            elif len(names) > 1 and isinstance(output, list):
                data.update({name: [row.get(name) for row in output] for name in names})
        return data

    def to_dict(self) -> dict[str, str]:
        return {"decision_id": self.decision_id, "filename": self.filename, "content": self.content}


class FeelBusinessRuleTaskConverter(BusinessRuleTaskConverter):
    """Stores a business-rule task with its decision's DMN text instead of SpiffWorkflow's table."""

    def to_dict(self, spec):
        dct = self.get_default_attributes(spec)
        dct.update(SpiffBpmnTaskConverter.to_dict(self, spec))
        dct["feel_decision"] = spec.dmnEngine.to_dict()
        return dct

    def from_dict(self, dct):
        if "feel_decision" not in dct:  # a version deployed before rules.dmn: SpiffWorkflow's table
            return super().from_dict(dct)
        dct["dmnEngine"] = FeelDecisionEngine(**dct.pop("feel_decision"))
        return self.task_spec_from_dict(dct)
