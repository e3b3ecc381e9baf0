"""A loaded DMN model and its evaluation API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rules.dmn import logic as lg
from rules.dmn.errors import DmnError
from rules.dmn.reader import Decision, Definitions, read_definitions
from rules.dmn.types import coerce
from rules.feel.interpreter import Scope, to_feel


@dataclass
class DecisionResult:
    """The outcome of one decision: its value, the rules that matched, and any problems."""

    decision_id: str
    decision_name: str
    output: Any
    matched: list[int] = field(default_factory=list)  # 1-based rule numbers of the decision's table
    matched_ids: list[str] = field(default_factory=list)  # the same rules by id
    errors: list[str] = field(default_factory=list)  # UNIQUE overlap, ANY conflict... (the output is null)
    warnings: list[str] = field(default_factory=list)  # why a FEEL expression gave null


class DmnModel:
    """The decisions of one DMN file."""

    def __init__(self, definitions: Definitions, filename: str = ""):
        self.definitions = definitions
        self.filename = filename

    @property
    def decision_ids(self) -> list[str]:
        return list(self.definitions.decisions)

    @property
    def decision_names(self) -> dict[str, str]:
        return {d.id: d.name for d in self.definitions.decisions.values()}

    def find(self, decision_id_or_name: str) -> Decision:
        """The decision with this id, or else this name. Raises DmnError if there is none."""
        decisions = self.definitions.decisions
        if decision_id_or_name in decisions:
            return decisions[decision_id_or_name]
        for decision in decisions.values():
            if decision.name == decision_id_or_name:
                return decision
        raise DmnError(f"no decision '{decision_id_or_name}' in {self.filename or 'this model'}")

    def evaluate(self, decision_id_or_name: str, inputs: dict[str, Any]) -> DecisionResult:
        """Evaluate a decision, and the decisions it requires first, over ``inputs``.

        ``inputs`` maps input-data names to values (plain Python or JSON); other keys are visible
        to expressions too. Raises DmnError only when the decision does not exist; problems
        during evaluation go into the result's ``errors`` and ``warnings``.
        """
        decision = self.find(decision_id_or_name)
        warnings: list[str] = []
        values = self._inputs(inputs, warnings)
        scope = Scope(values)
        scope.warnings = warnings
        results: dict[str, Any] = {}
        top = lg.Run(self.definitions.types)
        errors: list[str] = []
        self._decide(decision, scope, results, top, errors, set())
        return DecisionResult(
            decision.id,
            decision.name,
            results[decision.id],
            matched=top.matched,
            matched_ids=top.matched_ids,
            errors=errors,
            warnings=warnings,
        )

    def _inputs(self, inputs: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        values = {str(k): to_feel(v) for k, v in inputs.items()}
        for data in self.definitions.inputs.values():
            if data.name in values:
                values[data.name] = coerce(values[data.name], data.type_ref, self.definitions.types, warnings)
        for knowledge in self.definitions.knowledge.values():
            values[knowledge.name] = _Deferred(knowledge.function)
        return values

    def _decide(
        self, decision: Decision, scope: Scope, results: dict, run: lg.Run, errors: list, path: set
    ) -> None:
        if decision.id in results:
            return
        for ref in decision.required_decisions:
            required = self.definitions.decisions[ref]
            if required.id not in results:
                self._decide(
                    required, scope, results, lg.Run(self.definitions.types), errors, path | {decision.id}
                )
            scope.values[required.name] = results[required.id]
        _bind_functions(scope, self.definitions.types)
        value = None
        if decision.logic is not None:
            value = decision.logic.evaluate(scope, run)
        for message in run.errors:
            errors.append(
                message
                if f"decision '{decision.name}'" in message
                else f"decision '{decision.name}': {message}"
            )
        run.errors = []
        results[decision.id] = coerce(value, decision.type_ref, self.definitions.types, scope.warnings)


@dataclass
class _Deferred:
    """A knowledge model, turned into a FEEL function once the scope it runs in exists."""

    function: lg.FunctionLogic


def _bind_functions(scope: Scope, types: dict) -> None:
    run = lg.Run(types)
    for name, value in list(scope.values.items()):
        if isinstance(value, _Deferred):
            scope.values[name] = value.function.evaluate(scope, run)


def load_dmn(content: bytes, filename: str = "") -> DmnModel:
    """Read a DMN file. Raises DmnError(message, line, element_id) for a file that cannot be used."""
    return DmnModel(read_definitions(content), filename)
