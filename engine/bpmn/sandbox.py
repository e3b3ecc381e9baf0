"""The sandbox every BPMN expression and script runs in.

Code is compiled with RestrictedPython's ``compile_restricted``, so imports and dunder
attributes are refused at compile time, and runs with guarded attribute, item and iteration
access plus an explicit allow-list of functions. Issue #3 adds CPU and size limits.
"""

from __future__ import annotations

import datetime as _dt
import operator
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from RestrictedPython import (
    RestrictingNodeTransformer,
    compile_restricted_eval,
    compile_restricted_exec,
    safe_builtins,
)
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment

SAFE_FUNCTIONS: dict[str, Any] = {
    f.__name__: f
    for f in (
        len,
        min,
        max,
        sum,
        any,
        all,
        round,
        abs,
        sorted,
        enumerate,
        zip,
        range,
        reversed,
        str,
        int,
        float,
        bool,
        dict,
        list,
        set,
        tuple,
    )
}
DATE_HELPERS: dict[str, Any] = {
    "date": _dt.date,
    "datetime": _dt.datetime,
    "timedelta": _dt.timedelta,
    "today": lambda: _dt.date.today().isoformat(),
}

_INPLACE_OPERATORS = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "|=": operator.ior,
    "&=": operator.iand,
}


class SandboxViolation(Exception):
    """Code was refused by the sandbox before it ran."""


def _inplace(op: str, target: Any, value: Any) -> Any:
    return _INPLACE_OPERATORS[op](target, value)


def _build_globals(functions: Mapping[str, Any]) -> dict[str, Any]:
    builtins = dict(safe_builtins)
    builtins.update(SAFE_FUNCTIONS)
    builtins.update(DATE_HELPERS)
    return {
        "__builtins__": builtins,
        "_getattr_": safer_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplace,
        **functions,
    }


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, with imports refused when code is compiled.

    RestrictedPython itself compiles ``import os`` and only fails when the statement runs;
    refusing it here lets a deploy report the element instead.
    """

    def visit_Import(self, node):
        self.error(node, "imports are not allowed")
        return node

    def visit_ImportFrom(self, node):
        self.error(node, "imports are not allowed")
        return node


_COMPILERS = {"eval": compile_restricted_eval, "exec": compile_restricted_exec}


@lru_cache(maxsize=4096)
def _compile(source: str, mode: str):
    result = _COMPILERS[mode](source, policy=_Policy)
    if result.errors:
        raise SandboxViolation("; ".join(result.errors))
    return result.code


def compile_expression(source: str):
    """Compile one expression in restricted mode; raises SandboxViolation with the reasons."""
    return _compile(source, "eval")


def compile_script(source: str):
    """Compile a script in restricted mode; raises SandboxViolation with the reasons."""
    return _compile(source, "exec")


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment that only runs restricted code."""

    def __init__(self, functions: Mapping[str, Any] | None = None):
        super().__init__(_build_globals(functions or {}))

    def evaluate(self, expression, context, external_context=None):
        code = compile_expression(expression)
        scope = {**self.globals, **(external_context or {}), **context}
        return eval(code, scope)  # noqa: S307 - restricted bytecode with guarded globals

    def execute(self, script, context, external_context=None):
        code = compile_script(script)
        external = external_context or {}
        scope = {**self.globals, **external, **context}
        exec(code, scope)  # noqa: S102 - restricted bytecode with guarded globals
        for name, value in scope.items():
            if name in self.globals or name in external or name.startswith("_") or callable(value):
                continue
            context[name] = value
        for name in [n for n in context if n not in scope]:
            del context[name]
        return True
