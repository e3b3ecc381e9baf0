"""The sandbox every BPMN expression and script runs in.

Code is compiled with RestrictedPython's ``compile_restricted`` under a stricter policy:
imports, class definitions and dunder attributes are refused at compile time, so a deploy can
report them. At run time the code sees only an allow-list of functions, reaches attributes,
items and iterators through guards, and works within a CPU budget and size limits
(``engine.bpmn.guards``). What it leaves in the task data is limited in size too.
"""

from __future__ import annotations

import ast
import datetime as _dt
import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment

from engine import clock
from engine.bpmn import guards

MAX_DATA_BYTES = 1024 * 1024

SAFE_FUNCTIONS: dict[str, Any] = {
    f.__name__: f
    for f in (
        len, min, max, sum, any, all, round, abs, sorted, enumerate, zip, reversed, isinstance,
        str, int, float, bool, dict, list, set, tuple,
        Exception, ValueError, KeyError, TypeError, ZeroDivisionError,
    )
}  # fmt: skip
DATE_HELPERS: dict[str, Any] = {
    "date": _dt.date,
    "datetime": _dt.datetime,
    "timedelta": _dt.timedelta,
    "today": lambda: clock.today().isoformat(),
}
_GUARDED_OPERATORS = {ast.Pow: "**", ast.Mult: "*", ast.LShift: "<<", ast.Mod: "%"}


class SandboxViolation(Exception):
    """Code was refused by the sandbox, at compile time or when it ran."""


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, stricter where a deploy should refuse, and metered.

    RestrictedPython itself compiles ``import os`` and class definitions and only fails when
    they run; refusing them here lets a deploy report the element instead.
    """

    def visit_Import(self, node):
        self.error(node, "imports are not allowed")
        return node

    def visit_ImportFrom(self, node):
        self.error(node, "imports are not allowed")
        return node

    def visit_ClassDef(self, node):
        self.error(node, "class definitions are not allowed")
        return node

    def visit_FormattedValue(self, node):
        spec = node.format_spec
        if spec is not None:
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            if any(not isinstance(part, ast.Constant) for part in parts):
                self.error(node, "f-string format specs must be fixed text")
            elif any(
                int(width) >= guards.MAX_FORMAT_WIDTH
                for part in parts
                for width in re.findall(r"\d+", str(part.value))
            ):
                self.error(node, f"f-string widths over {guards.MAX_FORMAT_WIDTH - 1} are not allowed")
        return self.node_contents_visit(node)

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        symbol = _GUARDED_OPERATORS.get(type(node.op))
        if symbol is None:
            return node
        call = ast.Call(
            func=ast.Name(id="_binop_", ctx=ast.Load()),
            args=[ast.Constant(value=symbol), node.left, node.right],
            keywords=[],
        )
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_While(self, node):
        node = self.node_contents_visit(node)
        tick = ast.Expr(value=ast.Call(func=ast.Name(id="_tick_", ctx=ast.Load()), args=[], keywords=[]))
        node.body.insert(0, ast.fix_missing_locations(ast.copy_location(tick, node)))
        return node


def _apply(function, *args, **kwargs):
    return function(*args, **kwargs)


def _build_globals(functions: Mapping[str, Any]) -> dict[str, Any]:
    builtins = {"None": None, "True": True, "False": False, **SAFE_FUNCTIONS, **DATE_HELPERS}
    builtins["range"] = guards.guarded_range
    return {
        "__builtins__": builtins,
        "_getattr_": guards.guarded_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": guards.guarded_iter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": guards.guarded_inplace,
        "_binop_": guards.guarded_binop,
        "_tick_": guards.tick,
        "_apply_": _apply,
        **functions,
    }


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


def _check_size(what: str, value: Any) -> None:
    size = len(json.dumps(value, default=str))
    if size > MAX_DATA_BYTES:
        raise guards.SandboxLimitExceeded(
            f"{what} is {size:,} bytes of data, over the {MAX_DATA_BYTES:,}-byte limit"
        )


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment that only runs restricted code."""

    def __init__(self, functions: Mapping[str, Any] | None = None):
        super().__init__(_build_globals(functions or {}))

    def evaluate(self, expression, context, external_context=None):
        code = compile_expression(expression)
        scope = {**self.globals, **(external_context or {}), **context}
        guards.start_budget()
        result = eval(code, scope)  # noqa: S307 - restricted bytecode with guarded globals
        _check_size("the expression's result", result)
        return result

    def execute(self, script, context, external_context=None):
        code = compile_script(script)
        external = external_context or {}
        scope = {**self.globals, **external, **context}
        guards.start_budget()
        exec(code, scope)  # noqa: S102 - restricted bytecode with guarded globals
        for name, value in scope.items():
            if name in self.globals or name in external or name.startswith("_") or callable(value):
                continue
            context[name] = value
        for name in [n for n in context if n not in scope]:
            del context[name]
        _check_size("the task data after the script", context)
        return True
