"""Evaluate FEEL syntax trees.

FEEL does not raise: an operation on values it is not defined for gives null. The interpreter
follows that, and records a warning for each such case so a modeler can find out why a cell
gave null. Only syntax errors (in the parser) are raised.
"""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal
from functools import lru_cache
from typing import Any

from rules.feel import nodes as n
from rules.feel.values import Builtin, FeelFunction, Range, YearsMonths, parse_duration, type_name

DECIMAL_CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
MAX_CALL_DEPTH = 200
_MISSING = object()


class Scope:
    """Names visible to an expression; a chain of dicts with one shared list of warnings."""

    def __init__(self, values: dict[str, Any] | None = None, parent: Scope | None = None):
        self.values = values if values is not None else {}
        self.parent = parent
        self.warnings: list[str] = parent.warnings if parent else []
        self.depth = parent.depth if parent else 0

    def child(self, values: dict[str, Any]) -> Scope:
        return Scope(values, self)

    def lookup(self, name: str) -> Any:
        scope: Scope | None = self
        while scope is not None:
            value = scope.values.get(name, _MISSING)
            if value is not _MISSING:
                return value
            scope = scope.parent
        from rules.feel.builtins import BUILTINS

        if name in BUILTINS:
            return BUILTINS[name]
        self.warn(f"unknown name '{name}'")
        return None

    def warn(self, message: str) -> None:
        if len(self.warnings) < 100:
            self.warnings.append(message)


def to_feel(value: Any) -> Any:
    """Python data (task data, JSON) to FEEL values: numbers become Decimal, tuples lists."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, (list, tuple)):
        return [to_feel(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_feel(v) for k, v in value.items()}
    return value


def is_number(value: Any) -> bool:
    return isinstance(value, Decimal) and not isinstance(value, bool)


# -- comparison ---------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return "datetime"
    return type_name(value)


def equal(a: Any, b: Any) -> bool | None:
    """FEEL '=': null equals only null; values of different types give null."""
    if a is None or b is None:
        return a is None and b is None
    if _kind(a) != _kind(b):
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return False
        results = [equal(x, y) for x, y in zip(a, b, strict=True)]
        return None if None in results else all(results)
    if isinstance(a, dict):
        if set(a) != set(b):
            return False
        results = [equal(a[k], b[k]) for k in a]
        return None if None in results else all(results)
    try:
        return a == b
    except TypeError:
        return None


def compare(op: str, a: Any, b: Any) -> bool | None:
    """FEEL comparison; null when either side is null or the types do not order."""
    if op == "=":
        return equal(a, b)
    if op == "!=":
        result = equal(a, b)
        return None if result is None else not result
    if a is None or b is None or _kind(a) != _kind(b):
        return None
    if isinstance(a, (bool, list, dict, Range, Builtin, FeelFunction)):
        return None
    try:
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        return a >= b
    except TypeError:  # e.g. a naive and a zoned date and time
        return None


def in_range(value: Any, rng: Range) -> bool | None:
    results = []
    if rng.low is not None:
        results.append(compare(">=" if rng.start_included else ">", value, rng.low))
    if rng.high is not None:
        results.append(compare("<=" if rng.end_included else "<", value, rng.high))
    if False in results:
        return False
    return None if None in results else True


# -- arithmetic ---------------------------------------------------------------------------


def _add_months(value: dt.date, months: int) -> dt.date:
    month_index = value.month - 1 + months
    year, month = value.year + month_index // 12, month_index % 12 + 1
    import calendar

    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def _as_datetime(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


def arithmetic(op: str, a: Any, b: Any) -> Any:
    """FEEL + - * / ** ; raises TypeError/ArithmeticError for the caller to turn into null."""
    if a is None or b is None:
        return None
    if is_number(a) and is_number(b):
        with decimal.localcontext(DECIMAL_CONTEXT):
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if op == "/":
                return a / b
            if b == b.to_integral_value() and abs(b) < 1_000_000:
                return a ** int(b)
            return Decimal(repr(float(a) ** float(b)))
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        return a + b
    durations = (dt.timedelta, YearsMonths)
    if op in "+-" and isinstance(a, type(b)) and isinstance(a, durations):
        if isinstance(a, YearsMonths):
            return YearsMonths(a.months + b.months if op == "+" else a.months - b.months)
        return a + b if op == "+" else a - b
    if op in "+-" and isinstance(b, durations) and isinstance(a, (dt.date, dt.time)):
        sign = 1 if op == "+" else -1
        if isinstance(b, YearsMonths):
            if isinstance(a, dt.time):
                raise TypeError("a time has no months")
            return _add_months(a, sign * b.months)
        if isinstance(a, dt.time):
            moved = dt.datetime.combine(dt.date(2000, 1, 1), a) + sign * b
            return moved.timetz()
        if not isinstance(a, dt.datetime):
            return (dt.datetime(a.year, a.month, a.day) + sign * b).date()
        return a + sign * b
    if op == "+" and isinstance(a, durations) and isinstance(b, (dt.date, dt.time)):
        return arithmetic("+", b, a)
    if op == "-" and isinstance(a, dt.date) and isinstance(b, dt.date):
        return _as_datetime(a) - _as_datetime(b)
    if op == "-" and isinstance(a, dt.time) and isinstance(b, dt.time):
        day = dt.date(2000, 1, 1)
        return dt.datetime.combine(day, a) - dt.datetime.combine(day, b)
    if op == "*" and isinstance(a, durations) and is_number(b):
        a, b = b, a
    if op == "*" and is_number(a) and isinstance(b, YearsMonths):
        return YearsMonths(int(a * b.months))
    if op == "*" and is_number(a) and isinstance(b, dt.timedelta):
        return b * float(a)
    if op == "/" and isinstance(a, YearsMonths) and is_number(b):
        return YearsMonths(int(Decimal(a.months) / b))
    if op == "/" and isinstance(a, dt.timedelta) and is_number(b):
        return a / float(b)
    if op == "/" and isinstance(a, type(b)) and isinstance(a, durations):
        if isinstance(a, YearsMonths):
            return Decimal(a.months) / Decimal(b.months)
        return Decimal(str(a.total_seconds())) / Decimal(str(b.total_seconds()))
    raise TypeError(f"'{op}' is not defined for {type_name(a)} and {type_name(b)}")


# -- the interpreter ------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def uses_input(node: n.Node) -> bool:
    """True when a unary test mentions '?', the input value, so it is a boolean test."""
    if isinstance(node, n.Name):
        return node.name == "?"
    for value in node.__dict__.values():
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if isinstance(item, tuple):
                item = item[-1]
            if isinstance(item, n.Node) and uses_input(item):
                return True
    return False


def evaluate(node: n.Node, scope: Scope) -> Any:
    """Evaluate a node; FEEL errors become null plus a warning in ``scope.warnings``."""
    method = _DISPATCH[type(node)]
    try:
        return method(node, scope)
    except (TypeError, ValueError, ArithmeticError, OverflowError, KeyError, IndexError) as exc:
        scope.warn(str(exc) or type(exc).__name__)
        return None


def _literal(node: n.Literal, scope: Scope) -> Any:
    return node.value


def _at_literal(node: n.AtLiteral, scope: Scope) -> Any:
    from rules.feel.builtins import parse_temporal

    text = node.text
    if text.lstrip("-").startswith("P"):
        return parse_duration(text)
    return parse_temporal(text)


def _name(node: n.Name, scope: Scope) -> Any:
    return scope.lookup(node.name)


def _negation(node: n.Negation, scope: Scope) -> Any:
    value = evaluate(node.operand, scope)
    if value is None:
        return None
    if is_number(value):
        return -value
    if isinstance(value, dt.timedelta):
        return -value
    if isinstance(value, YearsMonths):
        return YearsMonths(-value.months)
    raise TypeError(f"cannot negate a {type_name(value)}")


def _binary(node: n.Binary, scope: Scope) -> Any:
    left = evaluate(node.left, scope)
    right = evaluate(node.right, scope)
    if node.op in ("=", "!=", "<", "<=", ">", ">="):
        return compare(node.op, left, right)
    return arithmetic(node.op, left, right)


def _logical(node: n.Logical, scope: Scope) -> Any:
    left = evaluate(node.left, scope)
    left = left if isinstance(left, bool) else None
    if node.op == "and" and left is False:
        return False
    if node.op == "or" and left is True:
        return True
    right = evaluate(node.right, scope)
    right = right if isinstance(right, bool) else None
    if node.op == "and":
        if right is False:
            return False
        return True if left and right else None
    if right is True:
        return True
    return False if left is False and right is False else None


def _between(node: n.Between, scope: Scope) -> Any:
    value = evaluate(node.value, scope)
    low = compare(">=", value, evaluate(node.low, scope))
    high = compare("<=", value, evaluate(node.high, scope))
    if low is False or high is False:
        return False
    return None if low is None or high is None else True


def _in(node: n.In, scope: Scope) -> Any:
    return test_value(node.tests, evaluate(node.value, scope), scope)


_TYPE_ALIASES = {"Any": None, "number": "number", "string": "string", "boolean": "boolean", "date": "date",
                 "time": "time", "date and time": "date and time", "list": "list", "context": "context",
                 "days and time duration": "days and time duration", "function": "function",
                 "years and months duration": "years and months duration", "range": "range"}  # fmt: skip


def _instance_of(node: n.InstanceOf, scope: Scope) -> Any:
    value = evaluate(node.value, scope)
    if node.type_name == "Any":
        return value is not None
    if node.type_name == "Null":
        return value is None
    return type_name(value) == _TYPE_ALIASES.get(node.type_name, node.type_name)


def _if(node: n.If, scope: Scope) -> Any:
    if evaluate(node.condition, scope) is True:
        return evaluate(node.then, scope)
    return evaluate(node.otherwise, scope)


def _iteration_values(source: Any) -> list[Any]:
    if isinstance(source, Range):
        low, high = source.low, source.high
        if not (is_number(low) and is_number(high)):
            raise TypeError("only a range of integers can be iterated")
        step = 1 if high >= low else -1
        low = low if source.start_included else low + step
        high = high if source.end_included else high - step
        return [Decimal(i) for i in range(int(low), int(high) + step, step)]
    if isinstance(source, list):
        return source
    return [source]


def _bindings(iterators, scope: Scope):
    """Every combination of the iteration variables, in order (later iterators vary fastest)."""
    names = [name for name, _ in iterators]

    def walk(index: int, bound: dict[str, Any]):
        if index == len(iterators):
            yield dict(bound)
            return
        source = evaluate(iterators[index][1], scope.child(bound))
        for value in _iteration_values(source):
            yield from walk(index + 1, {**bound, names[index]: value})

    return walk(0, {})


def _for(node: n.For, scope: Scope) -> Any:
    results: list[Any] = []
    for bound in _bindings(node.iterators, scope):
        results.append(evaluate(node.body, scope.child({**bound, "partial": list(results)})))
    return results


def _quantified(node: n.Quantified, scope: Scope) -> Any:
    outcomes = [evaluate(node.condition, scope.child(b)) for b in _bindings(node.iterators, scope)]
    if node.every:
        return all(o is True for o in outcomes)
    return any(o is True for o in outcomes)


def _list(node: n.ListNode, scope: Scope) -> Any:
    return [evaluate(item, scope) for item in node.items]


def _context(node: n.ContextNode, scope: Scope) -> Any:
    result: dict[str, Any] = {}
    inner = scope.child(result)  # later entries see earlier ones
    for key, expression in node.entries:
        result[key] = evaluate(expression, inner)
    return result


def _range(node: n.RangeNode, scope: Scope) -> Any:
    low = evaluate(node.low, scope) if node.low is not None else None
    high = evaluate(node.high, scope) if node.high is not None else None
    return Range(node.start_included, low, high, node.end_included)


def _filter(node: n.Filter, scope: Scope) -> Any:
    base = evaluate(node.base, scope)
    if base is None:
        return None
    items = base if isinstance(base, list) else [base]
    kept = []
    for position, item in enumerate(items):
        values = {"item": item}
        if isinstance(item, dict):
            values.update(item)
        outcome = evaluate(node.condition, scope.child(values))
        if position == 0 and is_number(outcome):
            index = int(outcome)
            if index > 0 and index <= len(items):
                return items[index - 1]
            if index < 0 and -index <= len(items):
                return items[index]
            scope.warn(f"index {index} is outside the list")
            return None
        if outcome is True:
            kept.append(item)
    return kept


_PROPERTIES = {
    "date": ("year", "month", "day", "weekday"),
    "date and time": (
        "year",
        "month",
        "day",
        "weekday",
        "hour",
        "minute",
        "second",
        "time offset",
        "timezone",
    ),
    "time": ("hour", "minute", "second", "time offset", "timezone"),
}


def property_of(value: Any, name: str) -> Any:
    """A property of a date, time, duration or range (``d.year``, ``r.start``)."""
    if isinstance(value, (dt.date, dt.time)):
        if name == "weekday":
            return Decimal(value.isoweekday())
        if name in ("year", "month", "day", "hour", "minute", "second"):
            return Decimal(getattr(value, name))
        if name == "time offset":
            offset = value.utcoffset()
            return offset
        if name == "timezone":
            zone = value.tzinfo
            return getattr(zone, "key", None)
        return None
    if isinstance(value, YearsMonths):
        return {"years": Decimal(int(value.months / 12)), "months": Decimal(value.months % 12)}.get(name)
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        sign = -1 if seconds < 0 else 1
        seconds = abs(seconds)
        parts = {"days": seconds // 86400, "hours": seconds % 86400 // 3600, "minutes": seconds % 3600 // 60,
                 "seconds": seconds % 60}  # fmt: skip
        return Decimal(sign * parts[name]) if name in parts else None
    if isinstance(value, Range):
        return {"start": value.low, "end": value.high, "start included": value.start_included,
                "end included": value.end_included}.get(name)  # fmt: skip
    return None


def _path(node: n.Path, scope: Scope) -> Any:
    base = evaluate(node.base, scope)
    if isinstance(base, list):
        return [
            item.get(node.name) if isinstance(item, dict) else property_of(item, node.name) for item in base
        ]
    if isinstance(base, dict):
        if node.name not in base:
            scope.warn(f"no entry '{node.name}' in the context")
        return base.get(node.name)
    return property_of(base, node.name)


def call_function(function: Any, args: list[Any], named: dict[str, Any] | None, scope: Scope) -> Any:
    """Invoke a FEEL function value with positional or named arguments."""
    if isinstance(function, Builtin):
        if named is not None:
            try:
                args = [named.pop(p) if p in named else None for p in function.params]
            except AttributeError:
                raise TypeError(f"{function.name}() does not take named arguments") from None
            if named:
                raise TypeError(f"{function.name}() has no parameter '{next(iter(named))}'")
            while args and args[-1] is None:
                args.pop()
        return function.call(*args)
    if isinstance(function, FeelFunction):
        if named is not None:
            bound = {p: named.get(p) for p in function.params}
        else:
            if len(args) != len(function.params):
                raise TypeError(f"{function.name} takes {len(function.params)} arguments, got {len(args)}")
            bound = dict(zip(function.params, args, strict=True))
        if scope.depth >= MAX_CALL_DEPTH:
            raise ValueError(f"function calls nested deeper than {MAX_CALL_DEPTH}")
        if callable(function.body):
            return function.body(bound)
        inner = Scope(bound, function.closure if isinstance(function.closure, Scope) else scope)
        inner.warnings = scope.warnings
        inner.depth = scope.depth + 1
        return evaluate(function.body, inner)
    raise TypeError(f"a {type_name(function)} is not a function")


def _call(node: n.Call, scope: Scope) -> Any:
    function = evaluate(node.function, scope)
    if function is None:
        return None
    args = [evaluate(a, scope) for a in node.args]
    named = {k: evaluate(v, scope) for k, v in node.named} if node.named is not None else None
    return call_function(function, args, named, scope)


def _function_def(node: n.FunctionDef, scope: Scope) -> Any:
    return FeelFunction(node.params, node.body, scope)


# -- unary tests ----------------------------------------------------------------------------


def _one_test(test: n.Node, value: Any, scope: Scope) -> bool | None:
    if isinstance(test, n.AnyTest):
        return True
    if isinstance(test, n.CompareTest):
        return compare(test.op, value, evaluate(test.operand, scope))
    outcome = evaluate(test.expression, scope)
    if uses_input(test.expression):
        return outcome if isinstance(outcome, bool) else None
    if isinstance(outcome, Range):
        return in_range(value, outcome)
    if isinstance(outcome, (Builtin, FeelFunction)):
        result = call_function(outcome, [value], None, scope)
        return result if isinstance(result, bool) else None
    if isinstance(outcome, list) and not isinstance(value, list):
        found = [equal(value, item) for item in outcome]
        return True if True in found else (None if None in found else False)
    if isinstance(outcome, bool) and not isinstance(value, bool) and value is not None:
        return outcome
    return equal(value, outcome)


def test_value(tests: n.UnaryTests, value: Any, scope: Scope) -> bool | None:
    """Does ``value`` pass the unary tests? True, False, or None when FEEL cannot say."""
    inner = scope.child({"?": value})
    outcomes = [_one_test(t, value, inner) for t in tests.tests]
    if True in outcomes:
        result: bool | None = True
    elif None in outcomes:
        result = None
    else:
        result = False
    if tests.negated:
        return None if result is None else not result
    return result


_DISPATCH = {
    n.Literal: _literal,
    n.AtLiteral: _at_literal,
    n.Name: _name,
    n.Negation: _negation,
    n.Binary: _binary,
    n.Logical: _logical,
    n.Between: _between,
    n.In: _in,
    n.InstanceOf: _instance_of,
    n.If: _if,
    n.For: _for,
    n.Quantified: _quantified,
    n.ListNode: _list,
    n.ContextNode: _context,
    n.RangeNode: _range,
    n.Filter: _filter,
    n.Path: _path,
    n.Call: _call,
    n.FunctionDef: _function_def,
}
