"""FEEL built-in functions: the common ones decision tables and literal expressions use.

Each takes FEEL values and returns a FEEL value; a wrong argument raises TypeError/ValueError,
which the interpreter turns into null with a warning.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import statistics
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from rules.feel.values import Builtin, FeelFunction, Range, YearsMonths, format_timedelta, parse_duration

_DATE = re.compile(r"^(-?\d{4,9})-(\d\d)-(\d\d)$")
_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d(?:\.\d+)?)(Z|[+-]\d\d:\d\d|@[A-Za-z_/+-]+)?$")


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal):
        raise TypeError(f"expected a number, got {value!r}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _items(value: Any) -> list:
    if isinstance(value, list):
        return value
    raise TypeError("expected a list")


def _varargs_list(args: tuple) -> list:
    """Functions such as min() take either one list or the items themselves."""
    if len(args) == 1 and isinstance(args[0], list):
        return args[0]
    return list(args)


def _zone(text: str | None):
    if text is None:
        return None
    if text == "Z":
        return dt.UTC
    if text.startswith("@"):
        return ZoneInfo(text[1:])
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def _parse_date(text: str) -> dt.date:
    match = _DATE.match(text)
    if not match:
        raise ValueError(f"not a date: {text!r}")
    return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def _parse_time(text: str) -> dt.time:
    match = _TIME.match(text)
    if not match:
        raise ValueError(f"not a time: {text!r}")
    hour, minute, seconds, zone = match.groups()
    second = Decimal(seconds)
    micro = int((second - int(second)) * 1_000_000)
    return dt.time(int(hour), int(minute), int(second), micro, tzinfo=_zone(zone))


def parse_temporal(text: str) -> Any:
    """An @"..." literal: a date, a time or a date and time."""
    if "T" in text:
        return date_and_time(text)
    if _DATE.match(text):
        return _parse_date(text)
    return _parse_time(text)


def date(*args: Any) -> Any:
    if len(args) == 1:
        value = args[0]
        if isinstance(value, str):
            return _parse_date(value)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        raise TypeError("date() takes a string or a date and time")
    year, month, day = (int(_number(a)) for a in args)
    return dt.date(year, month, day)


def time(*args: Any) -> Any:
    if len(args) == 1:
        value = args[0]
        if isinstance(value, str):
            return _parse_time(value)
        if isinstance(value, dt.datetime):
            return value.timetz()
        if isinstance(value, dt.time):
            return value
        if isinstance(value, dt.date):
            return dt.time(0, 0, tzinfo=dt.UTC)
        raise TypeError("time() takes a string, a date or a date and time")
    hour, minute = int(_number(args[0])), int(_number(args[1]))
    second = _number(args[2])
    zone = None
    if len(args) > 3 and args[3] is not None:
        zone = dt.timezone(args[3])
    micro = int((second - int(second)) * 1_000_000)
    return dt.time(hour, minute, int(second), micro, tzinfo=zone)


def date_and_time(*args: Any) -> Any:
    if len(args) == 2:
        day, clock = args
        if not isinstance(day, dt.date) or not isinstance(clock, dt.time):
            raise TypeError("date and time() takes a date and a time")
        return dt.datetime.combine(day, clock)
    value = args[0]
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    text = _text(value)
    if "T" not in text:
        day = _parse_date(text)
        return dt.datetime(day.year, day.month, day.day)
    day_text, _, clock_text = text.partition("T")
    return dt.datetime.combine(_parse_date(day_text), _parse_time(clock_text))


def duration(text: Any) -> Any:
    return parse_duration(_text(text))


def years_and_months_duration(start: Any, end: Any) -> YearsMonths:
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise TypeError("years and months duration() takes two dates")
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and end.day < start.day:
        months -= 1
    elif months < 0 and end.day > start.day:
        months += 1
    return YearsMonths(months)


def string(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
        return text
    if isinstance(value, dt.timedelta):
        return format_timedelta(value)
    if isinstance(value, (dt.date, dt.time, YearsMonths)):
        return value.isoformat() if not isinstance(value, YearsMonths) else str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_repr(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_repr(v)}" for k, v in value.items()) + "}"
    raise TypeError("cannot turn this value into a string")


def _repr(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value + '"'
    return "null" if value is None else string(value)


def number(text: Any, grouping: Any = None, decimal_sep: Any = None) -> Decimal:
    value = _text(text)
    if grouping:
        value = value.replace(grouping, "")
    if decimal_sep:
        value = value.replace(decimal_sep, ".")
    try:
        return Decimal(value)
    except decimal.InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None


def substring(text: Any, start: Any, length: Any = None) -> str:
    chars = list(_text(text))  # code points, as FEEL counts them
    begin = int(_number(start))
    begin = begin - 1 if begin > 0 else len(chars) + begin
    end = len(chars) if length is None else begin + int(_number(length))
    return "".join(chars[max(begin, 0) : end])


def _rounding(mode: str):
    def apply(value: Any, scale: Any = Decimal(0)) -> Decimal:
        exponent = Decimal(1).scaleb(-int(_number(scale)))
        return _number(value).quantize(exponent, rounding=mode)

    return apply


def _floor(value: Any, scale: Any = Decimal(0)) -> Decimal:
    return _rounding(decimal.ROUND_FLOOR)(value, scale)


def _ceiling(value: Any, scale: Any = Decimal(0)) -> Decimal:
    return _rounding(decimal.ROUND_CEILING)(value, scale)


def _modulo(dividend: Any, divisor: Any) -> Decimal:
    a, b = _number(dividend), _number(divisor)
    return a - b * (a / b).to_integral_value(rounding=decimal.ROUND_FLOOR)


def _sqrt(value: Any) -> Decimal:
    if _number(value) < 0:
        raise ValueError("square root of a negative number")
    return value.sqrt(decimal.Context(prec=34))


def _min(*args: Any) -> Any:
    items = _varargs_list(args)
    return min(items) if items else None


def _max(*args: Any) -> Any:
    items = _varargs_list(args)
    return max(items) if items else None


def _sum(*args: Any) -> Any:
    items = _varargs_list(args)
    if not items:
        return None
    return sum((_number(i) for i in items), Decimal(0))


def _mean(*args: Any) -> Any:
    items = _varargs_list(args)
    return _sum(items) / len(items) if items else None


def _all(*args: Any) -> Any:
    items = _varargs_list(args)
    if any(i is False for i in items):
        return False
    return True if all(i is True for i in items) else None


def _any(*args: Any) -> Any:
    items = _varargs_list(args)
    if any(i is True for i in items):
        return True
    return False if all(i is False for i in items) else None


def _not(value: Any) -> Any:
    return (not value) if isinstance(value, bool) else None


def _contains_item(items: list, value: Any) -> bool:
    from rules.feel.interpreter import equal

    return any(equal(i, value) is True for i in items)


def _index_of(items: Any, value: Any) -> list:
    from rules.feel.interpreter import equal

    return [Decimal(i + 1) for i, item in enumerate(_items(items)) if equal(item, value) is True]


def _distinct(items: Any) -> list:
    result: list = []
    for item in _items(items):
        if not _contains_item(result, item):
            result.append(item)
    return result


def _flatten(items: Any) -> list:
    result: list = []
    for item in _items(items):
        result.extend(_flatten(item) if isinstance(item, list) else [item])
    return result


def _sort(items: Any, precedes: Any = None) -> list:
    from functools import cmp_to_key

    from rules.feel.interpreter import Scope, call_function

    values = list(_items(items))
    if precedes is None:
        return sorted(values)
    if not isinstance(precedes, (Builtin, FeelFunction)):
        raise TypeError("sort() takes a function as its second argument")
    scope = Scope()

    def order(a: Any, b: Any) -> int:
        return -1 if call_function(precedes, [a, b], None, scope) is True else 1

    return sorted(values, key=cmp_to_key(order))


def _sublist(items: Any, start: Any, length: Any = None) -> list:
    values = _items(items)
    begin = int(_number(start))
    begin = begin - 1 if begin > 0 else len(values) + begin
    end = len(values) if length is None else begin + int(_number(length))
    return values[begin:end]


def _insert_before(items: Any, position: Any, value: Any) -> list:
    values = list(_items(items))
    index = int(_number(position))
    values.insert(index - 1 if index > 0 else len(values) + index, value)
    return values


def _remove(items: Any, position: Any) -> list:
    values = list(_items(items))
    index = int(_number(position))
    del values[index - 1 if index > 0 else index]
    return values


def _regex(pattern: Any, flags: Any) -> re.Pattern:
    options = 0
    for flag in flags or "":
        options |= {"i": re.IGNORECASE, "s": re.DOTALL, "m": re.MULTILINE, "x": re.VERBOSE}[flag]
    if len(_text(pattern)) > 1000:
        raise ValueError("pattern is too long")
    return re.compile(pattern, options)


def _replace(text: Any, pattern: Any, replacement: Any, flags: Any = None) -> str:
    target = re.sub(r"\$(\d)", r"\\\1", _text(replacement))
    return _regex(pattern, flags).sub(target, _text(text))


def _matches(text: Any, pattern: Any, flags: Any = None) -> bool:
    return _regex(pattern, flags).search(_text(text)) is not None


def _split(text: Any, delimiter: Any) -> list:
    return re.split(_text(delimiter), _text(text))


def _string_join(items: Any, delimiter: Any = None, prefix: Any = None, suffix: Any = None) -> str:
    parts = [_text(i) for i in _items(items) if i is not None]
    return (prefix or "") + (delimiter or "").join(parts) + (suffix or "")


def _day_of_year(value: Any) -> Decimal:
    return Decimal(value.timetuple().tm_yday)


def _day_of_week(value: Any) -> str:
    return ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[value.weekday()]


def _month_of_year(value: Any) -> str:
    return value.strftime("%B") if isinstance(value, dt.date) else _fail("expected a date")


def _fail(message: str):
    raise TypeError(message)


def _get_value(context: Any, key: Any) -> Any:
    if not isinstance(context, dict):
        raise TypeError("get value() takes a context")
    return context.get(_text(key))


def _get_entries(context: Any) -> list:
    if not isinstance(context, dict):
        raise TypeError("get entries() takes a context")
    return [{"key": k, "value": v} for k, v in context.items()]


def _context_put(context: Any, key: Any, value: Any) -> dict:
    if not isinstance(context, dict):
        raise TypeError("context put() takes a context")
    return {**context, _text(key): value}


def _decimal(value: Any, scale: Any) -> Decimal:
    return _rounding(decimal.ROUND_HALF_EVEN)(value, scale)


def _abs(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        return abs(value)
    if isinstance(value, YearsMonths):
        return YearsMonths(abs(value.months))
    return abs(_number(value))


def _range_of(text: Any) -> Range:
    from rules.feel.interpreter import Scope, evaluate
    from rules.feel.parser import parse_expression

    value = evaluate(parse_expression(_text(text)), Scope())
    if not isinstance(value, Range):
        raise ValueError("not a range")
    return value


_FUNCTIONS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "not": (_not, ("negand",)),
    "date": (date, ("from",)),
    "time": (time, ("from",)),
    "date and time": (date_and_time, ("from",)),
    "duration": (duration, ("from",)),
    "years and months duration": (years_and_months_duration, ("from", "to")),
    "string": (string, ("from",)),
    "number": (number, ("from", "grouping separator", "decimal separator")),
    "substring": (substring, ("string", "start position", "length")),
    "string length": (lambda s: Decimal(len(_text(s))), ("string",)),
    "upper case": (lambda s: _text(s).upper(), ("string",)),
    "lower case": (lambda s: _text(s).lower(), ("string",)),
    "substring before": (lambda s, m: _text(s).partition(_text(m))[0] if m in s else "", ("string", "match")),
    "substring after": (lambda s, m: _text(s).partition(_text(m))[2], ("string", "match")),
    "contains": (lambda s, m: _text(m) in _text(s), ("string", "match")),
    "starts with": (lambda s, m: _text(s).startswith(_text(m)), ("string", "match")),
    "ends with": (lambda s, m: _text(s).endswith(_text(m)), ("string", "match")),
    "replace": (_replace, ("input", "pattern", "replacement", "flags")),
    "matches": (_matches, ("input", "pattern", "flags")),
    "split": (_split, ("string", "delimiter")),
    "string join": (_string_join, ("list", "delimiter", "prefix", "suffix")),
    "list contains": (lambda items, v: _contains_item(_items(items), v), ("list", "element")),
    "count": (lambda items: Decimal(len(_items(items))), ("list",)),
    "min": (_min, ("list",)),
    "max": (_max, ("list",)),
    "sum": (_sum, ("list",)),
    "mean": (_mean, ("list",)),
    "median": (lambda *a: statistics.median(_varargs_list(a)) if _varargs_list(a) else None, ("list",)),
    "product": (
        lambda *a: math.prod(_varargs_list(a), start=Decimal(1)) if _varargs_list(a) else None,
        ("list",),
    ),
    "stddev": (lambda *a: statistics.stdev(_varargs_list(a)), ("list",)),
    "all": (_all, ("list",)),
    "any": (_any, ("list",)),
    "sublist": (_sublist, ("list", "start position", "length")),
    "append": (lambda items, *v: [*_items(items), *v], ("list", "item")),
    "concatenate": (lambda *lists: [i for li in lists for i in _items(li)], ("list",)),
    "insert before": (_insert_before, ("list", "position", "newItem")),
    "remove": (_remove, ("list", "position")),
    "reverse": (lambda items: list(reversed(_items(items))), ("list",)),
    "index of": (_index_of, ("list", "match")),
    "union": (lambda *lists: _distinct([i for li in lists for i in _items(li)]), ("list",)),
    "distinct values": (_distinct, ("list",)),
    "flatten": (_flatten, ("list",)),
    "sort": (_sort, ("list", "precedes")),
    "decimal": (_decimal, ("n", "scale")),
    "floor": (_floor, ("n", "scale")),
    "ceiling": (_ceiling, ("n", "scale")),
    "round up": (_rounding(decimal.ROUND_UP), ("n", "scale")),
    "round down": (_rounding(decimal.ROUND_DOWN), ("n", "scale")),
    "round half up": (_rounding(decimal.ROUND_HALF_UP), ("n", "scale")),
    "round half down": (_rounding(decimal.ROUND_HALF_DOWN), ("n", "scale")),
    "abs": (_abs, ("n",)),
    "modulo": (_modulo, ("dividend", "divisor")),
    "sqrt": (_sqrt, ("number",)),
    "log": (lambda v: _number(v).ln(decimal.Context(prec=34)), ("number",)),
    "exp": (lambda v: _number(v).exp(decimal.Context(prec=34)), ("number",)),
    "odd": (lambda v: _number(v) % 2 != 0 if _number(v) == v.to_integral_value() else False, ("number",)),
    "even": (lambda v: _number(v) % 2 == 0 if _number(v) == v.to_integral_value() else False, ("number",)),
    "is defined": (lambda v: v is not None, ("value",)),
    "get value": (_get_value, ("m", "key")),
    "get entries": (_get_entries, ("m",)),
    "context put": (_context_put, ("context", "key", "value")),
    "today": (lambda: dt.date.today(), ()),
    "now": (lambda: dt.datetime.now(dt.UTC), ()),
    "day of year": (_day_of_year, ("date",)),
    "day of week": (_day_of_week, ("date",)),
    "month of year": (_month_of_year, ("date",)),
    "week of year": (lambda d: Decimal(d.isocalendar()[1]), ("date",)),
    "range": (_range_of, ("from",)),
}

BUILTINS: dict[str, Builtin] = {name: Builtin(name, fn, params) for name, (fn, params) in _FUNCTIONS.items()}
