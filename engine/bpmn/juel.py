"""Translate the simple JUEL expressions Camunda Modeler writes into the sandbox's Python.

Covered: variables, literals (numbers, strings, true/false/null), comparison and arithmetic
operators with their word forms (eq, ne, lt, gt, le, ge, div, mod), and/or/not in either
spelling, ``empty``, property access ``a.b`` (read as ``a["b"]``) and calls of plain
functions. Method calls on objects (``execution.getVariable(...)``) and anything else are
refused with the reason, since they reach into a Java engine approute does not have.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!(),.\[\]?:])
    )""",
    re.VERBOSE,
)
_WORDS = {
    "and": "and", "or": "or", "not": "not",
    "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=",
    "div": "/", "mod": "%",
    "true": "True", "false": "False", "null": "None",
}  # fmt: skip
_SYMBOLS = {"&&": "and", "||": "or", "!": "not"}
_EXPRESSION = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.DOTALL)


class JuelError(ValueError):
    """The expression uses JUEL beyond what approute translates."""


def is_juel(text: str) -> bool:
    """True for a whole ``${...}`` or ``#{...}`` expression."""
    return bool(_EXPRESSION.match(text or ""))


def juel_body(text: str) -> str:
    """The inside of ``${...}``; raises JuelError for text around or between expressions."""
    match = _EXPRESSION.match(text)
    if not match or "${" in match.group("body") or "#{" in match.group("body"):
        raise JuelError(f"'{text}' is not one ${{...}} expression")
    return match.group("body")


def to_python(body: str) -> str:
    """Translate the body of a JUEL expression into a Python expression. Raises JuelError."""
    tokens = _tokenize(body)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else (None, None)
        if kind == "name" and text in _WORDS:
            out.append(_WORDS[text])
        elif kind == "name" and text == "empty":
            out.append("not")
        elif kind == "op" and text in _SYMBOLS:
            out.append(_SYMBOLS[text])
        elif kind == "op" and text == ".":
            if following[0] != "name":
                raise JuelError(f"'{body}': a '.' must be followed by a property name")
            after = tokens[i + 2] if i + 2 < len(tokens) else (None, None)
            if after == ("op", "("):
                raise JuelError(
                    f"'{body}' calls the method '{following[1]}'; approute expressions can call "
                    "plain functions and read variables, not methods of Java objects"
                )
            out.append(f'["{following[1]}"]')
            i += 2
            continue
        elif kind == "op" and text in ("?", ":"):
            raise JuelError(f"'{body}': the ?: operator is not supported; use a gateway instead")
        else:
            out.append(text)
        i += 1
    return _join(out)


def _tokenize(body: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    stripped = body.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if not match or match.end() == position:
            raise JuelError(f"'{body}' cannot be read at '{stripped[position:].strip()[:20]}'")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    if not tokens:
        raise JuelError("the expression is empty")
    return tokens


def _join(parts: list[str]) -> str:
    text = ""
    for part in parts:
        tight = (
            not text
            or part in (")", "]", ",")
            or part.startswith("[")
            or text.endswith(("(", "["))
            or (part == "(" and (text[-1].isalnum() or text[-1] in ")]_"))
        )
        text += part if tight else " " + part
    return text
