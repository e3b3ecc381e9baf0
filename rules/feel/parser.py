"""A recursive-descent FEEL parser producing the tree in rules.feel.nodes.

Two entry points: ``parse_expression`` for expressions (literal expressions, output cells, input
expressions) and ``parse_unary_tests`` for decision-table input cells. Text is never handed to
Python's eval: everything FEEL can do is spelled out in the interpreter.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from rules.feel import nodes as n
from rules.feel.errors import FeelSyntaxError
from rules.feel.lexer import Token, tokenize

MAX_NESTING = 64
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
# Word pairs around the keyword "and" that make one built-in name ("date and time",
# "years and months duration").
_AND_NAMES = frozenset({("date", "time"), ("years", "months")})


class _Parser:
    def __init__(self, text: str, names: tuple[str, ...] = ()):
        self.text = text
        self.tokens = tokenize(text, names)
        self.pos = 0
        self.depth = 0

    # -- token helpers -------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def at(self, kind: str, value: str | None = None) -> bool:
        t = self.tok
        return t.kind == kind and (value is None or t.value == value)

    def at_op(self, *values: str) -> bool:
        return self.tok.kind == "op" and self.tok.value in values

    def advance(self) -> Token:
        t = self.tok
        if t.kind != "end":
            self.pos += 1
        return t

    def expect_op(self, value: str) -> Token:
        if not self.at_op(value):
            self.fail(f"expected '{value}'")
        return self.advance()

    def expect_keyword(self, value: str) -> Token:
        if not self.at("keyword", value):
            self.fail(f"expected '{value}'")
        return self.advance()

    def fail(self, message: str):
        t = self.tok
        found = "end of expression" if t.kind == "end" else repr(t.value)
        raise FeelSyntaxError(f"{message}, found {found}", t.position)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise FeelSyntaxError(f"expression is nested deeper than {MAX_NESTING} levels", self.tok.position)

    def leave(self) -> None:
        self.depth -= 1

    def finish(self) -> None:
        if not self.at("end"):
            self.fail("unexpected text after the expression")

    # -- expressions ---------------------------------------------------------------------
    def expression(self) -> n.Node:
        self.enter()
        try:
            if self.at("keyword", "if"):
                return self.if_expression()
            if self.at("keyword", "for"):
                return self.for_expression()
            if self.at("keyword", "some") or self.at("keyword", "every"):
                return self.quantified()
            return self.disjunction()
        finally:
            self.leave()

    def if_expression(self) -> n.Node:
        self.advance()
        condition = self.expression()
        self.expect_keyword("then")
        then = self.expression()
        self.expect_keyword("else")
        return n.If(condition, then, self.expression())

    def iterators(self) -> tuple[tuple[str, n.Node], ...]:
        result = []
        while True:
            name = self.name()
            self.expect_keyword("in")
            source = self.expression()
            if self.at_op(".."):  # "for i in 1..3"
                self.advance()
                source = n.RangeNode(True, source, self.expression(), True)
            result.append((name, source))
            if not self.at_op(","):
                return tuple(result)
            self.advance()

    def for_expression(self) -> n.Node:
        self.advance()
        iterators = self.iterators()
        self.expect_keyword("return")
        return n.For(iterators, self.expression())

    def quantified(self) -> n.Node:
        every = self.advance().value == "every"
        iterators = self.iterators()
        self.expect_keyword("satisfies")
        return n.Quantified(every, iterators, self.expression())

    def disjunction(self) -> n.Node:
        left = self.conjunction()
        while self.at("keyword", "or"):
            self.advance()
            left = n.Logical("or", left, self.conjunction())
        return left

    def conjunction(self) -> n.Node:
        left = self.comparison()
        while self.at("keyword", "and"):
            self.advance()
            left = n.Logical("and", left, self.comparison())
        return left

    def comparison(self) -> n.Node:
        left = self.additive()
        while True:
            if self.at_op(*COMPARISONS):
                op = self.advance().value
                left = n.Binary(op, left, self.additive())
            elif self.at("keyword", "between"):
                self.advance()
                low = self.additive()
                self.expect_keyword("and")
                left = n.Between(left, low, self.additive())
            elif self.at("keyword", "in"):
                self.advance()
                left = n.In(left, self.in_tests())
            elif self.at("keyword", "instance"):
                self.advance()
                self.expect_keyword("of")
                left = n.InstanceOf(left, self.type_name())
            else:
                return left

    def type_name(self) -> str:
        words = [self.name()]
        while self.at("keyword", "and") or self.at("name"):
            words.append(self.advance().value)
        if self.at_op("<"):  # list<number>, context<...>: the generic part is not checked
            depth = 0
            while True:
                t = self.advance()
                if t.kind == "end":
                    self.fail("unclosed type parameter")
                depth += t.value == "<"
                depth -= t.value == ">"
                if depth == 0:
                    break
        return " ".join(words)

    def in_tests(self) -> n.UnaryTests:
        if self.at_op("("):
            start = self.pos
            try:
                test = self.positive_test()
                if not self.at_op(","):
                    return n.UnaryTests((test,))
            except FeelSyntaxError:
                pass
            self.pos = start
            self.advance()
            tests = [self.positive_test()]
            while self.at_op(","):
                self.advance()
                tests.append(self.positive_test())
            self.expect_op(")")
            return n.UnaryTests(tuple(tests))
        return n.UnaryTests((self.positive_test(),))

    def additive(self) -> n.Node:
        left = self.multiplicative()
        while self.at_op("+", "-"):
            op = self.advance().value
            left = n.Binary(op, left, self.multiplicative())
        return left

    def multiplicative(self) -> n.Node:
        left = self.power()
        while self.at_op("*", "/"):
            op = self.advance().value
            left = n.Binary(op, left, self.power())
        return left

    def power(self) -> n.Node:
        left = self.unary()
        while self.at_op("**"):
            self.advance()
            left = n.Binary("**", left, self.unary())
        return left

    def unary(self) -> n.Node:
        if self.at_op("-"):
            self.advance()
            self.enter()
            try:
                return n.Negation(self.unary())
            finally:
                self.leave()
        return self.postfix()

    def postfix(self) -> n.Node:
        node = self.primary()
        while True:
            if self.at_op("."):
                self.advance()
                node = n.Path(node, self.name())
            elif self.at_op("["):
                self.advance()
                condition = self.expression()
                self.expect_op("]")
                node = n.Filter(node, condition)
            elif self.at_op("("):
                node = self.call(node)
            else:
                return node

    def call(self, function: n.Node) -> n.Node:
        self.expect_op("(")
        args: list[n.Node] = []
        named: list[tuple[str, n.Node]] = []
        if not self.at_op(")"):
            while True:
                # a named argument is "name: value"; a name may have spaces
                start = self.pos
                if self.at("name"):
                    key = self.name()
                    if self.at_op(":"):
                        self.advance()
                        named.append((key, self.expression()))
                    else:
                        self.pos = start
                        args.append(self.expression())
                else:
                    args.append(self.expression())
                if not self.at_op(","):
                    break
                self.advance()
        self.expect_op(")")
        if named and args:
            raise FeelSyntaxError("a call mixes positional and named arguments", self.tok.position)
        return n.Call(function, tuple(args), tuple(named) if named else None)

    def name(self) -> str:
        """A name, joining words separated by spaces ("Monthly Salary", "day of week")."""
        if not self.at("name"):
            self.fail("expected a name")
        words = [self.advance().value]
        while True:
            if self.at("name") or (self.at("keyword", "of") and self.peek().kind == "name"):
                words.append(self.advance().value)
            elif (
                self.at("keyword", "and")
                and self.peek().kind == "name"
                and (words[-1], self.peek().value) in _AND_NAMES
            ):
                words.append(self.advance().value)
                words.append(self.advance().value)
            else:
                return " ".join(words)

    def primary(self) -> n.Node:
        t = self.tok
        if t.kind == "number":
            self.advance()
            return n.Literal(Decimal(t.value))
        if t.kind == "string":
            self.advance()
            return n.Literal(t.value)
        if t.kind == "keyword":
            if t.value in ("true", "false"):
                self.advance()
                return n.Literal(t.value == "true")
            if t.value == "null":
                self.advance()
                return n.Literal(None)
            if t.value == "function":
                return self.function_definition()
            if t.value in ("if", "for", "some", "every"):
                return self.expression()
            self.fail("unexpected keyword")
        if t.kind == "name":
            return n.Name(self.name())
        if t.kind == "op":
            if t.value == "@":
                self.advance()
                if not self.at("string"):
                    self.fail("expected a string after '@'")
                return n.AtLiteral(self.advance().value)
            if t.value == "(":
                self.advance()
                first = self.expression()
                if self.at_op(".."):
                    return self.range_rest(False, first)
                self.expect_op(")")
                return first
            if t.value == "[":
                self.advance()
                if self.at_op("]"):
                    self.advance()
                    return n.ListNode(())
                first = self.expression()
                if self.at_op(".."):
                    return self.range_rest(True, first)
                items = [first]
                while self.at_op(","):
                    self.advance()
                    items.append(self.expression())
                self.expect_op("]")
                return n.ListNode(tuple(items))
            if t.value == "]":
                self.advance()
                return self.range_rest(False, self.expression())
            if t.value == "{":
                return self.context()
            if t.value in ("<", "<=", ">", ">="):
                # "< 10" as a value is the open range of FEEL 1.3
                self.advance()
                operand = self.additive()
                if t.value.startswith("<"):
                    return n.RangeNode(False, None, operand, t.value == "<=")
                return n.RangeNode(t.value == ">=", operand, None, False)
        self.fail("expected a value")

    def range_rest(self, start_included: bool, low: n.Node) -> n.Node:
        self.expect_op("..")
        high = self.expression()
        if self.at_op("]"):
            end_included = True
        elif self.at_op(")", "["):
            end_included = False
        else:
            self.fail("expected ']', ')' or '[' to close the range")
        self.advance()
        return n.RangeNode(start_included, low, high, end_included)

    def context(self) -> n.Node:
        self.expect_op("{")
        entries: list[tuple[str, n.Node]] = []
        if not self.at_op("}"):
            while True:
                if self.at("string"):
                    key = self.advance().value
                elif self.at("keyword"):
                    key = self.advance().value
                    while self.at("name") or self.at("keyword"):
                        key += " " + self.advance().value
                else:
                    key = self.name()
                self.expect_op(":")
                entries.append((key, self.expression()))
                if not self.at_op(","):
                    break
                self.advance()
        self.expect_op("}")
        return n.ContextNode(tuple(entries))

    def function_definition(self) -> n.Node:
        self.advance()
        self.expect_op("(")
        params: list[str] = []
        if not self.at_op(")"):
            while True:
                params.append(self.name())
                if self.at_op(":"):  # a parameter type is accepted and not checked
                    self.advance()
                    self.type_name()
                if not self.at_op(","):
                    break
                self.advance()
        self.expect_op(")")
        if self.at("keyword", "external"):
            self.fail("external functions are not supported")
        return n.FunctionDef(tuple(params), self.expression())

    # -- unary tests ---------------------------------------------------------------------
    def positive_test(self) -> n.Node:
        if self.at_op(*COMPARISONS):
            op = self.advance().value
            return n.CompareTest(op, self.additive())
        return n.ExpressionTest(self.expression())

    def unary_tests(self) -> n.UnaryTests:
        if self.at_op("-") and self.peek().kind == "end":
            self.advance()
            return n.UnaryTests((n.AnyTest(),))
        if self.at("name", "not") and self.peek().kind == "op" and self.peek().value == "(":
            start = self.pos
            self.advance()
            self.advance()
            tests = self.positive_tests()
            if self.at_op(")") and self.peek().kind == "end":
                self.advance()
                return n.UnaryTests(tests.tests, negated=True)
            self.pos = start  # "not(x) = y" and the like: an ordinary expression
        return self.positive_tests()

    def positive_tests(self) -> n.UnaryTests:
        tests = [self.positive_test()]
        while self.at_op(","):
            self.advance()
            tests.append(self.positive_test())
        return n.UnaryTests(tuple(tests))


@lru_cache(maxsize=4096)
def parse_expression(text: str, names: tuple[str, ...] = ()) -> n.Node:
    """Parse a FEEL expression. Raises FeelSyntaxError naming the position of the problem.

    ``names``: declared names with spaces or hyphens, from lexer.special_names().
    """
    parser = _Parser(text, names)
    if parser.at("end"):
        raise FeelSyntaxError("the expression is empty")
    node = parser.expression()
    parser.finish()
    return node


@lru_cache(maxsize=4096)
def parse_unary_tests(text: str, names: tuple[str, ...] = ()) -> n.UnaryTests:
    """Parse a decision-table input cell (unary tests). An empty cell matches everything."""
    parser = _Parser(text, names)
    if parser.at("end"):
        return n.UnaryTests((n.AnyTest(),))
    tests = parser.unary_tests()
    parser.finish()
    return tests
