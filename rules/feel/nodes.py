"""The FEEL syntax tree. Plain frozen dataclasses: the parser builds them, the interpreter walks them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Node:
    """Base of every syntax-tree node."""


@dataclass(frozen=True)
class Literal(Node):
    value: Any


@dataclass(frozen=True)
class AtLiteral(Node):
    text: str


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class Negation(Node):
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # + - * / ** = != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True)
class Logical(Node):
    op: str  # and / or
    left: Node
    right: Node


@dataclass(frozen=True)
class Between(Node):
    value: Node
    low: Node
    high: Node


@dataclass(frozen=True)
class In(Node):
    value: Node
    tests: UnaryTests


@dataclass(frozen=True)
class InstanceOf(Node):
    value: Node
    type_name: str


@dataclass(frozen=True)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True)
class For(Node):
    iterators: tuple[tuple[str, Node], ...]
    body: Node


@dataclass(frozen=True)
class Quantified(Node):
    every: bool
    iterators: tuple[tuple[str, Node], ...]
    condition: Node


@dataclass(frozen=True)
class ListNode(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class ContextNode(Node):
    entries: tuple[tuple[str, Node], ...]


@dataclass(frozen=True)
class RangeNode(Node):
    start_included: bool
    low: Node | None
    high: Node | None
    end_included: bool


@dataclass(frozen=True)
class Filter(Node):
    base: Node
    condition: Node


@dataclass(frozen=True)
class Path(Node):
    base: Node
    name: str


@dataclass(frozen=True)
class Call(Node):
    function: Node
    args: tuple[Node, ...]
    named: tuple[tuple[str, Node], ...] | None  # set when called with named parameters


@dataclass(frozen=True)
class FunctionDef(Node):
    params: tuple[str, ...]
    body: Node


# Unary tests: the cells of a decision table's input columns. "?" names the input value.


@dataclass(frozen=True)
class CompareTest(Node):
    op: str  # < <= > >= = !=
    operand: Node


@dataclass(frozen=True)
class ExpressionTest(Node):
    expression: Node


@dataclass(frozen=True)
class AnyTest(Node):
    """The "-" cell: matches every value."""


@dataclass(frozen=True)
class UnaryTests(Node):
    tests: tuple[Node, ...]
    negated: bool = False
