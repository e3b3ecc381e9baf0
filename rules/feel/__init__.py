"""A FEEL evaluator of our own: tokenizer, parser to a syntax tree, and an interpreter.

Text is never passed to Python's eval/exec/compile. Expressions are limited in length
(lexer.MAX_EXPRESSION_LENGTH) and nesting (parser.MAX_NESTING); exceeding either is a syntax error.

    evaluate('if x > 3 then "big" else "small"', {"x": 5})   # -> "big"
    matches('[1..10]', 5)                                     # -> True
"""

from __future__ import annotations

from typing import Any

from rules.feel.errors import FeelError, FeelSyntaxError
from rules.feel.interpreter import Scope, to_feel
from rules.feel.interpreter import evaluate as _evaluate_node
from rules.feel.interpreter import test_value as _test_value
from rules.feel.parser import parse_expression, parse_unary_tests
from rules.feel.values import Range, YearsMonths


def evaluate_with_warnings(expression: str, variables: dict[str, Any] | None = None) -> tuple[Any, list[str]]:
    """Evaluate FEEL text over ``variables``; return the value and the warnings behind any null.

    Raises FeelSyntaxError when the text cannot be parsed.
    """
    scope = Scope(to_feel(dict(variables or {})))
    value = _evaluate_node(parse_expression(expression), scope)
    return value, scope.warnings


def evaluate(expression: str, variables: dict[str, Any] | None = None) -> Any:
    """Evaluate FEEL text over ``variables``. Raises FeelSyntaxError when it cannot be parsed."""
    return evaluate_with_warnings(expression, variables)[0]


def matches(unary_tests: str, value: Any, variables: dict[str, Any] | None = None) -> bool | None:
    """Does ``value`` pass a decision-table input cell? True, False, or None when undecidable."""
    scope = Scope(to_feel(dict(variables or {})))
    return _test_value(parse_unary_tests(unary_tests), to_feel(value), scope)


__all__ = [
    "FeelError",
    "FeelSyntaxError",
    "Range",
    "Scope",
    "YearsMonths",
    "evaluate",
    "evaluate_with_warnings",
    "matches",
    "parse_expression",
    "parse_unary_tests",
    "to_feel",
]
