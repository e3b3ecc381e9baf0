"""Boxed expressions of a DMN model, ready to evaluate: literal expressions, decision tables,
contexts, invocations, lists, relations and function definitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rules.dmn.types import ItemDefinition, coerce
from rules.feel import nodes
from rules.feel.interpreter import Scope, call_function, equal, evaluate, test_value
from rules.feel.values import FeelFunction


@dataclass
class Run:
    """What one evaluation of a decision collects besides its value."""

    types: dict[str, ItemDefinition]
    errors: list[str] = field(default_factory=list)
    matched: list[int] = field(default_factory=list)
    matched_ids: list[str] = field(default_factory=list)


class Logic:
    """A boxed expression."""

    def evaluate(self, scope: Scope, run: Run) -> Any:
        raise NotImplementedError


@dataclass
class LiteralLogic(Logic):
    node: nodes.Node | None  # an empty expression is null

    def evaluate(self, scope: Scope, run: Run) -> Any:
        return None if self.node is None else evaluate(self.node, scope)


@dataclass
class ContextLogic(Logic):
    entries: list[tuple[str | None, Logic, str | None]]  # (variable name, value, typeRef)

    def evaluate(self, scope: Scope, run: Run) -> Any:
        result: dict[str, Any] = {}
        inner = scope.child(result)
        for name, logic, type_ref in self.entries:
            value = coerce(logic.evaluate(inner, run), type_ref, run.types, scope.warnings)
            if name is None:  # the final, unnamed entry is the context's result
                return value
            result[name] = value
        return result


@dataclass
class ListLogic(Logic):
    items: list[Logic]

    def evaluate(self, scope: Scope, run: Run) -> Any:
        return [item.evaluate(scope, run) for item in self.items]


@dataclass
class RelationLogic(Logic):
    columns: list[str]
    rows: list[list[Logic]]

    def evaluate(self, scope: Scope, run: Run) -> Any:
        return [
            {name: cell.evaluate(scope, run) for name, cell in zip(self.columns, row, strict=False)}
            for row in self.rows
        ]


@dataclass
class FunctionLogic(Logic):
    params: list[tuple[str, str | None]]
    body: Logic
    name: str = "function"

    def evaluate(self, scope: Scope, run: Run) -> Any:
        def body(arguments: dict[str, Any]) -> Any:
            checked = {
                p: coerce(arguments.get(p), type_ref, run.types, scope.warnings)
                for p, type_ref in self.params
            }
            inner = scope.child(checked)
            inner.depth = scope.depth + 1
            return self.body.evaluate(inner, run)

        return FeelFunction(tuple(p for p, _ in self.params), body, None, self.name)


@dataclass
class InvocationLogic(Logic):
    function: nodes.Node
    bindings: list[tuple[str, Logic | None]]

    def evaluate(self, scope: Scope, run: Run) -> Any:
        function = evaluate(self.function, scope)
        named = {name: (logic.evaluate(scope, run) if logic else None) for name, logic in self.bindings}
        try:
            return call_function(function, [], named, scope)
        except (TypeError, ValueError, ArithmeticError) as exc:
            scope.warn(str(exc))
            return None


@dataclass
class TableInput:
    expression: nodes.Node
    type_ref: str | None
    allowed: nodes.UnaryTests | None


@dataclass
class TableOutput:
    name: str | None
    type_ref: str | None
    values: list[nodes.Node]  # outputValues, in priority order
    default: nodes.Node | None


@dataclass
class TableRule:
    id: str | None
    inputs: list[nodes.UnaryTests]
    outputs: list[nodes.Node]


SINGLE_HIT = ("UNIQUE", "FIRST", "PRIORITY", "ANY")


@dataclass
class DecisionTableLogic(Logic):
    id: str | None
    name: str
    hit_policy: str
    aggregation: str | None
    inputs: list[TableInput]
    outputs: list[TableOutput]
    rules: list[TableRule]

    def evaluate(self, scope: Scope, run: Run) -> Any:
        values = []
        for position, column in enumerate(self.inputs, start=1):
            value = coerce(evaluate(column.expression, scope), column.type_ref, run.types, scope.warnings)
            if (
                value is not None
                and column.allowed is not None
                and test_value(column.allowed, value, scope) is not True
            ):
                run.errors.append(f"{self.name}: input {position} is not among its input values")
                return None
            values.append(value)
        matched = [
            index
            for index, rule in enumerate(self.rules, start=1)
            if all(
                test_value(tests, value, scope) is True
                for tests, value in zip(rule.inputs, values, strict=True)
            )
        ]
        run.matched = matched
        run.matched_ids = [self.rules[i - 1].id or str(i) for i in matched]
        results = [self._row(self.rules[i - 1], scope, run) for i in matched]
        if not matched:
            return self._default(scope, run)
        return self._hit(results, matched, scope, run)

    def _row(self, rule: TableRule, scope: Scope, run: Run) -> Any:
        row = {}
        for column, node in zip(self.outputs, rule.outputs, strict=True):
            row[column.name] = coerce(evaluate(node, scope), column.type_ref, run.types, scope.warnings)
        return row

    def _shape(self, row: dict) -> Any:
        return next(iter(row.values())) if len(self.outputs) == 1 else row

    def _default(self, scope: Scope, run: Run) -> Any:
        if not any(column.default is not None for column in self.outputs):
            return [] if self.hit_policy not in SINGLE_HIT and not self.aggregation else None
        row = {
            column.name: (evaluate(column.default, scope) if column.default is not None else None)
            for column in self.outputs
        }
        value = self._shape(row)
        return value if self.hit_policy in SINGLE_HIT or self.aggregation else [value]

    def _priority(self, row: dict, scope: Scope) -> tuple:
        key = []
        for column in self.outputs:
            listed = [evaluate(v, scope) for v in column.values]
            position = next(
                (i for i, v in enumerate(listed) if equal(v, row[column.name]) is True), len(listed)
            )
            key.append(position)
        return tuple(key)

    def _hit(self, rows: list[dict], matched: list[int], scope: Scope, run: Run) -> Any:
        policy = self.hit_policy
        if policy == "UNIQUE":
            if len(rows) > 1:
                run.errors.append(f"{self.name}: hit policy UNIQUE but rules {_numbers(matched)} all match")
                return None
            return self._shape(rows[0])
        if policy == "FIRST":
            return self._shape(rows[0])
        if policy == "ANY":
            if any(equal(row, rows[0]) is not True for row in rows[1:]):
                run.errors.append(
                    f"{self.name}: hit policy ANY but rules {_numbers(matched)} match with different outputs"
                )
                return None
            return self._shape(rows[0])
        if policy in ("PRIORITY", "OUTPUT ORDER"):
            ordered = sorted(zip(rows, matched, strict=True), key=lambda pair: self._priority(pair[0], scope))
            run.matched = [index for _, index in ordered]
            if policy == "PRIORITY":
                return self._shape(ordered[0][0])
            return [self._shape(row) for row, _ in ordered]
        values = [self._shape(row) for row in rows]  # RULE ORDER and COLLECT
        if policy == "COLLECT" and self.aggregation:
            return self._aggregate(values, run)
        return values

    def _aggregate(self, values: list[Any], run: Run) -> Any:
        if self.aggregation == "COUNT":
            return Decimal(len(values))
        present = [v for v in values if v is not None]
        if not present:
            return None
        try:
            if self.aggregation == "SUM":
                return sum(present, Decimal(0))
            if self.aggregation == "MIN":
                return min(present)
            return max(present)
        except TypeError:
            run.errors.append(f"{self.name}: {self.aggregation} needs outputs of one type")
            return None


def _numbers(indices: list[int]) -> str:
    return ", ".join(str(i) for i in indices)
