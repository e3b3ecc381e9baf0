"""Read DMN XML into the structures rules.dmn.model evaluates.

Every FEEL text is parsed here, at load time, so a bad cell is refused when the file is
deployed, with its line and the id of the element holding it.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from lxml import etree

from rules.dmn import logic as lg
from rules.dmn.errors import DmnError
from rules.dmn.types import ItemDefinition
from rules.feel import nodes
from rules.feel.errors import FeelSyntaxError
from rules.feel.lexer import special_names
from rules.feel.parser import parse_expression, parse_unary_tests
from rules.safe_xml import UnsafeXml, parse_untrusted

HIT_POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER")
AGGREGATIONS = ("SUM", "COUNT", "MIN", "MAX")
# Names the file declares with spaces or hyphens, for the FEEL tokenizer while one file is read.
_NAMES: ContextVar[tuple[str, ...]] = ContextVar("dmn_names", default=())
_NAMED = ("decision", "inputData", "businessKnowledgeModel", "itemComponent", "variable", "formalParameter",
          "column", "parameter", "output", "itemDefinition", "decisionService")  # fmt: skip
_BOXED = (
    "literalExpression",
    "decisionTable",
    "context",
    "invocation",
    "list",
    "relation",
    "functionDefinition",
)


@dataclass
class InputData:
    id: str
    name: str
    type_ref: str | None


@dataclass
class Decision:
    id: str
    name: str
    type_ref: str | None
    logic: lg.Logic | None
    required_decisions: list[str] = field(default_factory=list)
    required_inputs: list[str] = field(default_factory=list)
    required_knowledge: list[str] = field(default_factory=list)
    line: int | None = None


@dataclass
class Knowledge:
    id: str
    name: str
    function: lg.FunctionLogic
    required_knowledge: list[str] = field(default_factory=list)


@dataclass
class Definitions:
    name: str
    types: dict[str, ItemDefinition]
    inputs: dict[str, InputData]
    decisions: dict[str, Decision]
    knowledge: dict[str, Knowledge]


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _children(element, name: str) -> list:
    return [child for child in element if _local(child) == name]


def _child(element, name: str):
    found = _children(element, name)
    return found[0] if found else None


def _text_of(element) -> tuple[str, int | None]:
    text = _child(element, "text") if element is not None else None
    if text is None:
        return "", element.sourceline if element is not None else None
    return (text.text or "").strip(), text.sourceline


def _owner_id(element) -> str | None:
    while element is not None:
        if element.get("id"):
            return element.get("id")
        element = element.getparent()
    return None


def _expression(element, what: str) -> nodes.Node | None:
    text, line = _text_of(element)
    if not text:
        return None
    try:
        return parse_expression(text, _NAMES.get())
    except FeelSyntaxError as exc:
        raise DmnError(f"{what}: {exc}", line, _owner_id(element)) from None


def _unary_tests(element, what: str) -> nodes.UnaryTests:
    text, line = _text_of(element)
    try:
        return parse_unary_tests(text, _NAMES.get())
    except FeelSyntaxError as exc:
        raise DmnError(f"{what}: {exc}", line, _owner_id(element)) from None


def _href(element) -> str:
    return (element.get("href") or "").rpartition("#")[2]


def _item_definition(element) -> ItemDefinition:
    type_ref = _child(element, "typeRef")
    allowed = _child(element, "allowedValues")
    item = ItemDefinition(
        name=element.get("name") or "",
        type_ref=(type_ref.text or "").strip() if type_ref is not None else element.get("typeRef"),
        is_collection=element.get("isCollection") == "true",
        allowed_values=_unary_tests(allowed, "allowed values") if allowed is not None else None,
    )
    for component in _children(element, "itemComponent"):
        item.components[component.get("name") or ""] = _item_definition(component)
    return item


def _boxed(parent, what: str) -> lg.Logic | None:
    for child in parent:
        if _local(child) in _BOXED:
            return _logic(child, what)
    return None


def _logic(element, what: str) -> lg.Logic:
    kind = _local(element)
    if kind == "literalExpression":
        return lg.LiteralLogic(_expression(element, what))
    if kind == "decisionTable":
        return _decision_table(element, what)
    if kind == "context":
        entries = []
        for entry in _children(element, "contextEntry"):
            variable = _child(entry, "variable")
            name = variable.get("name") if variable is not None else None
            type_ref = variable.get("typeRef") if variable is not None else None
            value = _boxed(entry, f"{what}, context entry '{name or 'result'}'") or lg.LiteralLogic(None)
            entries.append((name, value, type_ref))
        return lg.ContextLogic(entries)
    if kind == "invocation":
        called = _boxed(element, what)
        if not isinstance(called, lg.LiteralLogic) or called.node is None:
            raise DmnError(f"{what}: an invocation must name the function it calls", element.sourceline,
                           _owner_id(element))  # fmt: skip
        bindings = []
        for binding in _children(element, "binding"):
            parameter = _child(binding, "parameter")
            name = parameter.get("name") if parameter is not None else ""
            bindings.append((name, _boxed(binding, f"{what}, binding '{name}'")))
        return lg.InvocationLogic(called.node, bindings)
    if kind == "list":
        return lg.ListLogic([_logic(child, what) for child in element if _local(child) in _BOXED])
    if kind == "relation":
        columns = [column.get("name") or "" for column in _children(element, "column")]
        rows = [
            [_logic(cell, what) for cell in row if _local(cell) in _BOXED]
            for row in _children(element, "row")
        ]
        return lg.RelationLogic(columns, rows)
    if kind == "functionDefinition":
        if element.get("kind") not in (None, "FEEL"):
            raise DmnError(
                f"{what}: only FEEL functions are supported", element.sourceline, _owner_id(element)
            )
        params = [(p.get("name") or "", p.get("typeRef")) for p in _children(element, "formalParameter")]
        body = _boxed(element, what) or lg.LiteralLogic(None)
        return lg.FunctionLogic(params, body)
    raise DmnError(f"{what}: unsupported expression <{kind}>", element.sourceline, _owner_id(element))


def _decision_table(element, what: str) -> lg.DecisionTableLogic:
    table_id = element.get("id")
    policy = (element.get("hitPolicy") or "UNIQUE").strip().upper()
    aggregation = (element.get("aggregation") or "").strip().upper() or None
    if policy not in HIT_POLICIES:
        raise DmnError(f"{what}: unknown hit policy '{policy}'", element.sourceline, table_id)
    if aggregation and (aggregation not in AGGREGATIONS or policy != "COLLECT"):
        raise DmnError(
            f"{what}: aggregation '{aggregation}' needs hit policy COLLECT", element.sourceline, table_id
        )
    inputs = []
    for position, column in enumerate(_children(element, "input"), start=1):
        expression = _child(column, "inputExpression")
        node = _expression(expression, f"{what}, input {position}") if expression is not None else None
        if node is None:
            raise DmnError(
                f"{what}: input {position} has no expression", column.sourceline, _owner_id(column)
            )
        allowed = _child(column, "inputValues")
        inputs.append(
            lg.TableInput(
                node,
                expression.get("typeRef"),
                _unary_tests(allowed, f"{what}, input values") if allowed is not None else None,
            )
        )
    outputs = []
    output_elements = _children(element, "output")
    for position, column in enumerate(output_elements, start=1):
        name = column.get("name") or column.get("label")  # bpmn.io writes a label where a name is missing
        if not name and len(output_elements) > 1:
            raise DmnError(
                f"{what}: output {position} of several needs a name", column.sourceline, _owner_id(column)
            )
        values_element = _child(column, "outputValues")
        values: list[nodes.Node] = []
        if values_element is not None:
            tests = _unary_tests(values_element, f"{what}, output values")
            values = [t.expression for t in tests.tests if isinstance(t, nodes.ExpressionTest)]
        default = _child(column, "defaultOutputEntry")
        outputs.append(
            lg.TableOutput(
                name,
                column.get("typeRef"),
                values,
                _expression(default, f"{what}, default output") if default is not None else None,
            )
        )
    if not outputs:
        raise DmnError(f"{what}: the decision table has no output column", element.sourceline, table_id)
    rules = []
    for number, rule in enumerate(_children(element, "rule"), start=1):
        label = f"{what}, rule {number}"
        entries = _children(rule, "inputEntry")
        results = _children(rule, "outputEntry")
        if len(entries) != len(inputs) or len(results) != len(outputs):
            raise DmnError(
                f"{label}: has {len(entries)} input and {len(results)} output cells, the table has "
                f"{len(inputs)} and {len(outputs)} columns",
                rule.sourceline,
                rule.get("id"),
            )
        rules.append(
            lg.TableRule(
                rule.get("id"),
                [_unary_tests(e, label) for e in entries],
                [_expression(r, label) or nodes.Literal(None) for r in results],
            )
        )
    return lg.DecisionTableLogic(table_id, what, policy, aggregation, inputs, outputs, rules)


def _requirements(element) -> tuple[list[str], list[str], list[str]]:
    decisions, inputs, knowledge = [], [], []
    for requirement in _children(element, "informationRequirement"):
        for ref in requirement:
            if _local(ref) == "requiredDecision":
                decisions.append(_href(ref))
            elif _local(ref) == "requiredInput":
                inputs.append(_href(ref))
    for requirement in _children(element, "knowledgeRequirement"):
        for ref in _children(requirement, "requiredKnowledge"):
            knowledge.append(_href(ref))
    return decisions, inputs, knowledge


def read_definitions(content: bytes) -> Definitions:
    """Parse DMN XML. Raises DmnError naming the line and element of the first problem."""
    try:
        root = parse_untrusted(content).getroot()
    except UnsafeXml as exc:
        raise DmnError(exc.message, exc.line) from None
    namespace = etree.QName(root).namespace or ""
    if _local(root) != "definitions" or "DMN" not in namespace.upper():
        raise DmnError("not a DMN file: the root element must be DMN <definitions>", root.sourceline)
    declared = [el.get("name") for el in root.iter() if isinstance(el.tag, str) and _local(el) in _NAMED]
    token = _NAMES.set(special_names(declared))
    try:
        return _read(root)
    finally:
        _NAMES.reset(token)


def _read(root) -> Definitions:
    types = {item.get("name"): _item_definition(item) for item in _children(root, "itemDefinition")}
    inputs: dict[str, InputData] = {}
    for element in _children(root, "inputData"):
        variable = _child(element, "variable")
        inputs[element.get("id") or element.get("name")] = InputData(
            element.get("id") or "",
            element.get("name") or "",
            variable.get("typeRef") if variable is not None else None,
        )
    decisions: dict[str, Decision] = {}
    for element in _children(root, "decision"):
        decision_id = element.get("id") or element.get("name")
        if not decision_id:
            raise DmnError("a decision has neither id nor name", element.sourceline)
        name = element.get("name") or decision_id
        variable = _child(element, "variable")
        required = _requirements(element)
        decisions[decision_id] = Decision(
            decision_id,
            name,
            variable.get("typeRef") if variable is not None else None,
            _boxed(element, f"decision '{name}'"),
            *required,
            line=element.sourceline,
        )
    knowledge: dict[str, Knowledge] = {}
    for element in _children(root, "businessKnowledgeModel"):
        name = element.get("name") or element.get("id") or ""
        logic = _child(element, "encapsulatedLogic")
        params = [(p.get("name") or "", p.get("typeRef")) for p in _children(logic, "formalParameter")] if (
            logic is not None) else []  # fmt: skip
        body = (_boxed(logic, f"business knowledge model '{name}'") if logic is not None else None) or (
            lg.LiteralLogic(None))  # fmt: skip
        knowledge[element.get("id") or name] = Knowledge(
            element.get("id") or name, name, lg.FunctionLogic(params, body, name), _requirements(element)[2]
        )
    definitions = Definitions(root.get("name") or "", types, inputs, decisions, knowledge)
    _check_graph(definitions, root)
    return definitions


def _check_graph(definitions: Definitions, root) -> None:
    """Every requirement points at an element of this file, and no decision requires itself."""
    lines = {el.get("id"): el.sourceline for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    for decision in definitions.decisions.values():
        for ref in decision.required_decisions:
            if ref not in definitions.decisions:
                raise DmnError(
                    f"decision '{decision.name}' requires decision '{ref}', which is not in the file",
                    decision.line, decision.id,
                )  # fmt: skip
        for ref in decision.required_inputs:
            if ref not in definitions.inputs:
                raise DmnError(
                    f"decision '{decision.name}' requires input '{ref}', which is not in the file",
                    decision.line, decision.id,
                )  # fmt: skip
        for ref in decision.required_knowledge:
            if ref not in definitions.knowledge:
                raise DmnError(
                    f"decision '{decision.name}' requires knowledge model '{ref}', which is not in the file",
                    decision.line, decision.id,
                )  # fmt: skip
    state: dict[str, int] = {}

    def visit(decision_id: str, path: list[str]) -> None:
        if state.get(decision_id) == 2:
            return
        if state.get(decision_id) == 1:
            cycle = " -> ".join([*path[path.index(decision_id) :], decision_id])
            raise DmnError(f"required decisions form a cycle: {cycle}", lines.get(decision_id), decision_id)
        state[decision_id] = 1
        for ref in definitions.decisions[decision_id].required_decisions:
            visit(ref, [*path, decision_id])
        state[decision_id] = 2

    for decision_id in definitions.decisions:
        visit(decision_id, [])
