"""Run-time guards of the sandbox: a CPU budget per evaluation, and limits on sizes.

RestrictedPython stops code from reaching what it must not touch; these stop code from
using up what it may touch. Every loop round and every item drawn from an iterator is a tick
on the running evaluation's budget; operators that can build huge values (``**``, ``*``,
``<<``, ``%`` on text) check the size of their result before they compute it.
"""

from __future__ import annotations

import math
import operator
import re
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from RestrictedPython.Guards import safer_getattr

CPU_SECONDS = 1.0
MAX_TICKS = 5_000_000
MAX_INT_BITS = 100_000
MAX_SEQUENCE_ITEMS = 1_000_000
MAX_RANGE = 1_000_000
MAX_FORMAT_WIDTH = 1000
# str methods that take a width and so can be asked for a gigabyte of padding.
DENIED_ATTRIBUTES = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "format", "format_map"})
# mro() hands out `object` and every base class; scripts have no use for it.
DENIED_EVERYWHERE = frozenset({"mro"})
_PRINTF_WIDE = re.compile(r"%[-+ #0]*(\*|\d{4,})|%[-+ #0]*\d*\.(\*|\d{4,})")


class SandboxLimitExceeded(Exception):
    """Code ran over its CPU budget or tried to build a value over a size limit."""


class _Budget(threading.local):
    deadline: float = math.inf
    ticks: int = 0


_budget = _Budget()


def start_budget(cpu_seconds: float = CPU_SECONDS) -> None:
    """Give the evaluation about to run on this thread a fresh CPU budget."""
    _budget.deadline = time.thread_time() + cpu_seconds
    _budget.ticks = 0


def tick() -> None:
    """Count one unit of work; raise once the budget is spent."""
    _budget.ticks += 1
    if _budget.ticks > MAX_TICKS:
        raise SandboxLimitExceeded(f"the code ran more than {MAX_TICKS:,} loop steps")
    if _budget.ticks & 0x3FF == 0 and time.thread_time() > _budget.deadline:
        raise SandboxLimitExceeded(f"the code used more than {CPU_SECONDS:g} s of CPU time")


def guarded_iter(obj: Iterable) -> Iterator:
    """``_getiter_``: iterate, ticking once per item."""
    for item in iter(obj):
        tick()
        yield item


def guarded_range(*args: int) -> range:
    """``range`` with a length limit, since builtins such as sum() walk it without ticking."""
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise SandboxLimitExceeded(f"range of {len(result):,} items is over the {MAX_RANGE:,} limit")
    return result


def guarded_getattr(obj: Any, name: str, default: Any = None) -> Any:
    """``_getattr_``: RestrictedPython's safer getattr, minus str's padding methods and mro()."""
    if name in DENIED_EVERYWHERE or (name in DENIED_ATTRIBUTES and isinstance(obj, str)):
        raise AttributeError(f"'{name}' is not available in scripts")
    return safer_getattr(obj, name, default)


def _int_bits(value: int) -> int:
    return max(abs(value).bit_length(), 1)


def _check_power(base: Any, exponent: Any) -> None:
    if not (isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1):
        return
    if exponent * math.log2(abs(base)) > MAX_INT_BITS:
        raise SandboxLimitExceeded(f"the power would have more than {MAX_INT_BITS:,} bits")


def _check_product(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        if _int_bits(left) + _int_bits(right) > MAX_INT_BITS:
            raise SandboxLimitExceeded(f"the product would have more than {MAX_INT_BITS:,} bits")
        return
    for sequence, times in ((left, right), (right, left)):
        repeats = isinstance(times, int) and hasattr(sequence, "__len__") and not isinstance(sequence, int)
        if repeats and len(sequence) * max(times, 0) > MAX_SEQUENCE_ITEMS:
            raise SandboxLimitExceeded(f"repeating would build more than {MAX_SEQUENCE_ITEMS:,} items")


def _check_shift(value: Any, amount: Any) -> None:
    if isinstance(value, int) and isinstance(amount, int) and amount + _int_bits(value) > MAX_INT_BITS:
        raise SandboxLimitExceeded(f"the shift would have more than {MAX_INT_BITS:,} bits")


def _check_printf(template: Any, _values: Any) -> None:
    if isinstance(template, str) and _PRINTF_WIDE.search(template):
        raise SandboxLimitExceeded(f"%-format widths over {MAX_FORMAT_WIDTH - 1} are not allowed")


_OPERATORS = {
    "**": (operator.pow, _check_power),
    "*": (operator.mul, _check_product),
    "<<": (operator.lshift, _check_shift),
    "%": (operator.mod, _check_printf),
}
INPLACE = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "|=": operator.ior,
    "&=": operator.iand,
    "^=": operator.ixor,
}
_INPLACE_CHECKS = {"**=": _check_power, "*=": _check_product, "<<=": _check_shift, "%=": _check_printf}


def guarded_binop(symbol: str, left: Any, right: Any) -> Any:
    """``_binop_``: the operators that can build huge values, with their size checks first."""
    compute, check = _OPERATORS[symbol]
    check(left, right)
    return compute(left, right)


def guarded_inplace(symbol: str, target: Any, value: Any) -> Any:
    """``_inplacevar_``: augmented assignment, with the same size checks."""
    check = _INPLACE_CHECKS.get(symbol)
    if check is not None:
        check(target, value)
    return INPLACE[symbol](target, value)
