"""Escape attempts against the script sandbox: every one is refused, at compile time or when it runs.

Each case is a script a hostile or careless process designer could put in a BPMN file. A case
passes when the script is refused (SandboxViolation at compile time, or an error when it runs)
and leaves no trace: the marker file it tries to create does not appear.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from engine.bpmn.guards import SandboxLimitExceeded
from engine.bpmn.sandbox import SandboxEnvironment, SandboxViolation, compile_script
from rules import REGISTRY

MARKER = str(Path(tempfile.gettempdir()) / "approute-sandbox-escaped")

# Refused when compiled: a deploy reports these against their element.
COMPILE_TIME = {
    "import": "import os",
    "import from": "from os import system",
    "import as": "import subprocess as sp",
    "dunder import": "__import__('os')",
    "class attribute": "x = ().__class__",
    "base walk to subclasses": "x = ().__class__.__base__.__subclasses__()",
    "dict dunder": "x = {}.__dict__",
    "globals of a function": "x = len.__globals__",
    "builtins through a function": "x = len.__self__",
    "code object": "def f(): pass\nx = f.__code__",
    "class definition": "class Evil:\n    pass",
    "metaclass": "class E(metaclass=type):\n    pass",
    "exec statement name": "exec('x = 1')",
    "eval name": "eval('1')",
    "dunder name": "__builtins__['open']",
    "private name": "_getattr_ = 1",
    "f-string dunder": "x = f'{().__class__}'",
    "f-string dynamic width": "w = 10\nx = f'{1:>{w}}'",
    "f-string huge width": "x = f'{1:>999999999}'",
    "generator frame": "g = (i for i in [1])\nx = g.gi_frame",
    "generator code": "g = (i for i in [1])\nx = g.gi_code",
    "date module walk": "x = date.today().__class__",
    "generator frame through dunder": "g = (i for i in [1])\nx = g.__next__",
}

# Compile, then refused when they run: an unknown name, a guarded attribute, a limit.
RUN_TIME = {
    "open": f"open('{MARKER}', 'w').write('x')",
    "getattr builtin": "x = getattr((), '__class__')",
    "globals()": "x = globals()",
    "vars()": "x = vars()",
    "locals()": "x = locals()",
    "compile builtin": "x = compile('1', 'f', 'eval')",
    "type builtin": "x = type(1)",
    "object builtin": "x = object",
    "setattr builtin": "setattr(date, 'today', None)",
    "print": "print('leak')",
    "str.format field walk": "x = '{0.__class__}'.format(1)",
    "str.format_map": "x = '{a}'.format_map({'a': 1})",
    "mro walk": "x = str.mro()[-1]",
    "infinite loop": "while True:\n    pass",
    "loop that counts forever": "i = 0\nwhile i >= 0:\n    i += 1",
    "huge power": "x = 10 ** 10 ** 8",
    "huge power in place": "x = 10\nx **= 10 ** 7",
    "huge shift": "x = 1 << 10 ** 9",
    "huge repeat": "x = 'a' * 10 ** 10",
    "huge list repeat": "x = [0] * 10 ** 10",
    "repeated squaring": "x = 3\nfor i in range(40):\n    x = x * x",
    "huge range summed in C": "x = sum(range(10 ** 12))",
    "padding": "x = 'a'.ljust(10 ** 9)",
    "printf width": "x = '%999999999d' % 1",
    "printf star width": "x = '%*d' % (10 ** 9, 1)",
    "comprehension bomb": "x = [i for i in range(10 ** 6) for j in range(10 ** 6)]",
    "data bomb": "x = ['y' * 1000 for i in range(2000)]",
    "recursion": "def f(n):\n    return f(n + 1)\nx = f(0)",
}


def _run(source: str) -> dict:
    env = SandboxEnvironment(REGISTRY)
    context: dict = {}
    env.execute(source, context)
    return context


def test_there_are_at_least_25_distinct_attempts():
    assert len(COMPILE_TIME) + len(RUN_TIME) >= 25


@pytest.mark.parametrize("source", COMPILE_TIME.values(), ids=COMPILE_TIME.keys())
def test_refused_at_compile_time(source):
    with pytest.raises(SandboxViolation):
        compile_script(source)


@pytest.mark.parametrize("source", RUN_TIME.values(), ids=RUN_TIME.keys())
def test_refused_when_run(source, tmp_path):
    compile_script(source)  # these get past the compiler; the run-time guards stop them
    began = time.monotonic()
    with pytest.raises(
        (NameError, AttributeError, NotImplementedError, SandboxLimitExceeded, RecursionError, TypeError)
    ):
        _run(source)
    # The CPU budget stops runaway code quickly; a generous bound keeps this honest on a busy machine.
    assert time.monotonic() - began < 30
    assert not os.path.exists(MARKER)


def test_ordinary_scripts_still_work():
    context = _run(
        "days = [d for d in range(1, 15) if d % 7 not in (0, 6)]\n"
        "total = sum(days)\n"
        "label = f'{total:>5}'\n"
        "big = 2 ** 64\n"
        "text = 'ab' * 3 + '%5d' % 42\n"
        "when = date(2026, 12, 1) + timedelta(days=3)\n"
        "n = 0\n"
        "while n < 100:\n"
        "    n += 1\n"
        "counts = {}\n"
        "counts['a'] = len(days)\n"
    )
    assert context["total"] == sum(d for d in range(1, 15) if d % 7 not in (0, 6))
    assert context["label"] == f"{context['total']:>5}"
    assert context["big"] == 2**64
    assert context["text"] == "ababab   42"
    assert context["when"].isoformat() == "2026-12-04"
    assert context["n"] == 100
    assert context["counts"] == {"a": len(context["days"])}


def test_limit_messages_say_what_was_exceeded():
    with pytest.raises(SandboxLimitExceeded, match=r"CPU time|loop steps"):
        _run("while True:\n    pass")
    with pytest.raises(SandboxLimitExceeded, match="bits"):
        _run("x = 10 ** 10 ** 8")
    with pytest.raises(SandboxLimitExceeded, match="bytes of data"):
        _run("x = ['y' * 1000 for i in range(2000)]")
