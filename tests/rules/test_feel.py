"""The FEEL evaluator: each construct, null semantics, decimals, dates, errors and limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from rules.feel import FeelSyntaxError, evaluate, evaluate_with_warnings, matches
from rules.feel.lexer import MAX_EXPRESSION_LENGTH
from rules.feel.parser import MAX_NESTING


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("0.1 + 0.2", Decimal("0.3")),
        ("10 + 20 / -5 - 3", Decimal("3")),
        ("5 + 2 ** 5", Decimal("37")),
        ("10 ** -5", Decimal("0.00001")),
        ("-10 - -5", Decimal("-5")),
        (".872", Decimal("0.872")),
        ('"Hello " + "world"', "Hello world"),
        ("1 < 2 and 2 <= 2", True),
        ("1 = 1 or 1 = 2", True),
        ('"a" != "b"', True),
        ("not(true)", False),
        ('if 3 > 2 then "yes" else "no"', "yes"),
        ("5 in [1..10]", True),
        ("10 in [1..10)", False),
        ("1 in ]1..10]", False),
        ('"b" in ("a", "b")', True),
        ("5 between 1 and 10", True),
        ("[1, 2, 3][item > 1]", [Decimal(2), Decimal(3)]),
        ("[1, 2, 3][-1]", Decimal(3)),
        ("{a: 1, b: a + 1}.b", Decimal(2)),
        ("[{x: 1}, {x: 2}].x", [Decimal(1), Decimal(2)]),
        ("for i in 1..3 return i * 2", [Decimal(2), Decimal(4), Decimal(6)]),
        ("some x in [1, 5] satisfies x > 4", True),
        ("every x in [1, 5] satisfies x > 4", False),
        ("(function(a, b) a * b)(3, 4)", Decimal(12)),
        ("sum([1, 2, 3]) + count([1]) + max(4, 9)", Decimal(16)),
        ('string length("šomeÚnicode")', Decimal(11)),
        ('upper case("abc") + substring("foobar", 4)', "ABCbar"),
        ("floor(1.5) + ceiling(1.2) + decimal(2.345, 2)", Decimal("5.34")),
    ],
)
def test_expressions(expression, expected):
    assert evaluate(expression) == expected


def test_names_with_spaces_come_from_the_data():
    assert evaluate("12 * Monthly Salary", {"Monthly Salary": 1000}) == Decimal(12000)


def test_python_numbers_in_the_data_are_decimals():
    assert evaluate("price * 3", {"price": 0.1}) == Decimal("0.3")


def test_dates_times_and_durations():
    assert evaluate('date("2026-01-31") + duration("P1M")') == dt.date(2026, 2, 28)
    assert evaluate('date("2026-03-01") - date("2026-02-01")') == dt.timedelta(days=28)
    assert evaluate('@"2026-05-01" > date("2026-04-30")') is True
    assert evaluate('date and time("2026-01-01T10:30:00").hour') == Decimal(10)
    assert evaluate('years and months duration(date("2020-01-15"), date("2026-01-14")).years') == Decimal(5)
    assert evaluate("day of week(d)", {"d": dt.date(2026, 6, 1)}) == "Monday"


@pytest.mark.parametrize(
    "expression",
    [
        "null + 10",
        "10 * null",
        "null < 5",
        "(10 + 20) / 0",
        '"a" + 1',
        "unknown name + 1",
        'date("2026-13-01")',
    ],
)
def test_errors_and_null_give_null(expression):
    assert evaluate(expression) is None


def test_null_equality_and_ternary_logic():
    assert evaluate("null = null") is True
    assert evaluate("1 = null") is False
    assert evaluate("true and null") is None
    assert evaluate("false and null") is False
    assert evaluate("true or null") is True


def test_a_null_records_why():
    value, warnings = evaluate_with_warnings('"a" + 1')
    assert value is None
    assert warnings == ["'+' is not defined for string and number"]


@pytest.mark.parametrize(
    ("cell", "value", "expected"),
    [
        ("< 5", 3, True),
        ("< 5", 7, False),
        ("[1..10]", 10, True),
        ("(1..10)", 10, False),
        ('"a", "b"', "b", True),
        ('not("a")', "a", False),
        ('not("a")', "c", True),
        ("-", "anything", True),
        ("", None, True),
        ("null", None, True),
        (">= 18", None, None),
        ("? > 3", 4, True),
        ("true", False, False),
        ('date("2026-01-01")', dt.date(2026, 1, 1), True),
    ],
)
def test_unary_tests(cell, value, expected):
    assert matches(cell, value) is expected


@pytest.mark.parametrize(
    "text",
    ["__import__('os')", "1 +", "[1, 2", "if x then 1", "a ; b", '"unclosed'],
)
def test_text_that_is_not_feel_is_a_syntax_error(text):
    with pytest.raises(FeelSyntaxError):
        evaluate(text)


def test_python_is_never_run():
    with pytest.raises(FeelSyntaxError):
        matches("__import__('os').system('true')", 1)
    # a Python-looking call is just an unknown FEEL function: null, nothing imported
    assert evaluate('__import__("os")') is None


def test_length_and_nesting_are_limited():
    with pytest.raises(FeelSyntaxError, match="longer than 10,000 characters"):
        evaluate("1" + " + 1" * MAX_EXPRESSION_LENGTH)
    with pytest.raises(FeelSyntaxError, match="nested deeper"):
        evaluate("(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1))
