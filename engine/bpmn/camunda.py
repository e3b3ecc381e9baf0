"""Read what Camunda Modeler writes, by rewriting it into what the SpiffWorkflow parser reads.

The rewrite works on the parsed XML before the spec is built; the stored files stay as uploaded.
Each construct is translated, or reported against its element with the reason:

- ``${...}`` conditions and timer expressions become sandbox Python (``engine.bpmn.juel``);
- plain ISO 8601 timers (``PT48H``, ``R3/PT1H``, ``2026-12-01T09:00:00Z``) become quoted text;
- ``camunda:decisionRef`` on a business-rule task becomes the decision to call;
- ``camunda:collection`` / ``camunda:elementVariable`` become multi-instance input;
- ``camunda:type="external"`` service tasks become operators named by their topic, while
  Java delegates (``camunda:class``, ``delegateExpression``, ``expression``) are refused;
- ``camunda:formData`` becomes a JSON Schema form (see ``form_from_form_data``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lxml import etree

from engine.bpmn.juel import JuelError, is_juel, juel_body, to_python

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_ISO_TIMER = re.compile(
    r"^(R\d*/)?(P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
    r"|\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-]\d\d:?\d\d)?)?)(/.*)?$"
)
JAVA_DELEGATES = ("class", "delegateExpression", "expression")

Report = Callable[[str, Any], None]


def _b(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _c(attribute: str) -> str:
    return f"{{{CAMUNDA_NS}}}{attribute}"


def translate_expression(text: str) -> str:
    """A condition or timer value as sandbox Python: ``${...}`` is translated, Python is kept.

    Raises JuelError for JUEL beyond what approute translates.
    """
    return to_python(juel_body(text)) if is_juel(text) else text


def rewrite(root: etree._Element, report: Report) -> None:
    """Rewrite Camunda constructs in place; ``report(message, element)`` records a refusal."""
    _rewrite_conditions(root, report)
    _rewrite_timers(root, report)
    _rewrite_decision_refs(root)
    _rewrite_multi_instance(root, report)
    _rewrite_service_tasks(root, report)


def _rewrite_conditions(root, report: Report) -> None:
    for condition in root.iter(_b("conditionExpression"), _b("completionCondition"), _b("condition")):
        text = (condition.text or "").strip()
        if not is_juel(text):
            continue
        try:
            condition.text = translate_expression(text)
        except JuelError as exc:
            report(f"condition {exc}", condition.getparent())


def _rewrite_timers(root, report: Report) -> None:
    for timer in root.iter(_b("timeDuration"), _b("timeDate"), _b("timeCycle")):
        text = (timer.text or "").strip()
        if is_juel(text):
            try:
                timer.text = translate_expression(text)
            except JuelError as exc:
                report(f"timer {exc}", timer.getparent().getparent())
        elif _ISO_TIMER.match(text):
            timer.text = repr(text)
        elif timer.tag == _b("timeCycle") and len(text.split()) in (6, 7):
            cycle = cron_to_iso_cycle(text)
            if cycle is None:
                report(
                    f"cron cycle '{text}' is not a plain 'every N seconds/minutes/hours/days'; "
                    "write it as an ISO 8601 cycle such as R/PT5M",
                    timer.getparent().getparent(),
                )
            else:
                timer.text = repr(cycle)


_EVERY = {"*", "?", "0/1", "1/1", "*/1"}
_STEP = re.compile(r"^(?:0|\*)/(\d+)$")
_CRON_UNITS = (("S", True), ("M", True), ("H", True), ("D", False))


def cron_to_iso_cycle(cron: str) -> str | None:
    """A Quartz cron of the form "every N seconds/minutes/hours/days" as an ISO 8601 cycle.

    Camunda accepts cron in timeCycle; SpiffWorkflow reads only ISO 8601 cycles. Any other
    cron (a fixed time of day, a weekday list) gives None, to be refused with the reason.
    """
    fields = cron.split()[:6]
    for position, (unit, in_time) in enumerate(_CRON_UNITS):
        match = _STEP.match(fields[position])
        smaller_fixed = all(f == "0" for f in fields[:position])
        rest_every = all(f in _EVERY for f in fields[position + 1 :])
        if match and smaller_fixed and rest_every:
            every = int(match.group(1))
            return f"R/PT{every}{unit}" if in_time else f"R/P{every}{unit}"
    return None


def _extension_elements(element) -> etree._Element:
    found = element.find(_b("extensionElements"))
    if found is None:
        found = etree.Element(_b("extensionElements"))
        element.insert(0, found)
    return found


def _rewrite_decision_refs(root) -> None:
    for task in root.iter(_b("businessRuleTask")):
        ref = (task.get(_c("decisionRef")) or "").strip()
        if not ref or task.find(f".//{{{SPIFF_NS}}}calledDecisionId") is not None:
            continue
        called = etree.SubElement(_extension_elements(task), f"{{{SPIFF_NS}}}calledDecisionId")
        called.text = ref


def _rewrite_multi_instance(root, report: Report) -> None:
    for loop in root.iter(_b("multiInstanceLoopCharacteristics")):
        collection = (loop.get(_c("collection")) or "").strip()
        if (
            not collection
            or loop.find(_b("loopDataInputRef")) is not None
            or loop.find(_b("loopCardinality")) is not None
        ):
            continue
        if is_juel(collection):
            try:
                collection = juel_body(collection).strip()
            except JuelError as exc:
                report(f"multi-instance collection {exc}", loop.getparent())
                continue
        if not re.fullmatch(r"[A-Za-z_]\w*", collection):
            report(
                f"multi-instance collection '{collection}' must name a variable that holds a list",
                loop.getparent(),
            )
            continue
        ref = etree.SubElement(loop, _b("loopDataInputRef"))
        ref.text = collection
        element = (loop.get(_c("elementVariable")) or "").strip()
        if element:
            etree.SubElement(loop, _b("inputDataItem"), id=element, name=element)


def _rewrite_service_tasks(root, report: Report) -> None:
    for task in root.iter(_b("serviceTask")):
        if task.find(f".//{{{SPIFF_NS}}}serviceTaskOperator") is not None:
            continue
        if task.get(_c("type")) == "external" and task.get(_c("topic")):
            operator = etree.SubElement(_extension_elements(task), f"{{{SPIFF_NS}}}serviceTaskOperator")
            operator.set("id", task.get(_c("topic")))
            continue
        delegates = [a for a in JAVA_DELEGATES if task.get(_c(a))]
        if delegates:
            report(
                f"camunda:{delegates[0]} calls Java code, which approute cannot run; make it an "
                'external task (camunda:type="external" with a topic) or a spiffworkflow operator',
                task,
            )
        else:
            report(
                "the service task names no work to do: give it an external-task topic or an operator", task
            )


_FIELD_TYPES = {
    "string": {"type": "string"},
    "long": {"type": "integer"},
    "integer": {"type": "integer"},
    "double": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
}
_NUMERIC_CONSTRAINTS = {
    "min": "minimum",
    "max": "maximum",
    "minlength": "minLength",
    "maxlength": "maxLength",
}


def form_from_form_data(element) -> dict[str, Any] | None:
    """The JSON Schema of an inline ``camunda:formData`` form, or None when there is none.

    Field types string, long, double, boolean, date and enum are mapped; the constraints
    required, min, max, minlength and maxlength become schema keywords. Raises ValueError for a
    field type approute does not know.
    """
    form = element.find(f".//{_c('formData')}")
    if form is None:
        return None
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in form.iter(_c("formField")):
        name = field.get("id")
        kind = field.get("type") or "string"
        if kind == "enum":
            values = [v.get("id") for v in field.iter(_c("value"))]
            schema: dict[str, Any] = {"type": "string", "enum": values}
        elif kind in _FIELD_TYPES:
            schema = dict(_FIELD_TYPES[kind])
        else:
            raise ValueError(f"form field '{name}' has type '{kind}', which approute forms do not know")
        if field.get("label"):
            schema["title"] = field.get("label")
        for constraint in field.iter(_c("constraint")):
            rule, config = constraint.get("name"), constraint.get("config")
            if rule == "required":
                required.append(name)
            elif rule in _NUMERIC_CONSTRAINTS and config is not None:
                schema[_NUMERIC_CONSTRAINTS[rule]] = float(config) if "." in config else int(config)
        properties[name] = schema
    result: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        result["required"] = required
    return result
