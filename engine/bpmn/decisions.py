"""DMN intake: every decision file is read by approute's own DMN/FEEL evaluator (rules.dmn).

A file that cannot be used becomes a report entry naming the file, the line and the element id
(a FEEL cell that does not parse, a required decision that is missing or circular...). The
decisions it holds are registered with ``DecisionParser`` so business-rule tasks can call them.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser

from engine.bpmn.business_rules import FeelDecisionEngine
from engine.bpmn.service_tasks import AsyncServiceTask
from rules.dmn import DmnError, load_dmn


class DecisionFileRefused(ValueError):
    """The decision file cannot be used; ``line`` and ``element_id`` point at the problem where known."""

    def __init__(self, message: str, line: int | None = None, element_id: str | None = None):
        super().__init__(message)
        self.line = line
        self.element_id = element_id


class DecisionParser(SpiffBpmnParser):
    """SpiffBpmnParser whose business-rule tasks evaluate through rules.dmn, not SpiffWorkflow's DMN.

    Service tasks wait, STARTED, for a background job (engine.bpmn.service_tasks).
    """

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, AsyncServiceTask),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.feel_decisions: dict[str, tuple[str, str, str]] = {}  # id or name -> (id, filename, xml)

    def register(self, decision_id: str, name: str, filename: str, content: bytes) -> None:
        entry = (decision_id, filename, content.decode("utf-8"))
        self.feel_decisions[decision_id] = entry
        self.feel_decisions.setdefault(name, entry)

    def get_engine(self, decision_ref, node):
        """Called by SpiffWorkflow's BusinessRuleTaskParser for each business-rule task."""
        found = self.feel_decisions.get(decision_ref)
        if found is None:
            known = ", ".join(sorted({entry[0] for entry in self.feel_decisions.values()})) or "none"
            raise ValidationException(
                f'No DMN decision with id "{decision_ref}" in the bundle; decisions available: {known}',
                node=node,
                file_name=getattr(self, "filename", None),
            )
        decision_id, filename, content = found
        return FeelDecisionEngine(decision_id, filename, content)


def read_decisions(content: bytes, filename: str, parser: SpiffBpmnParser | None = None) -> list[str]:
    """Read a DMN file; register its decisions with ``parser`` if it is a DecisionParser.

    Returns the decision ids. Raises DecisionFileRefused with a message a designer can act on.
    """
    try:
        model = load_dmn(content, filename)
    except DmnError as exc:
        raise DecisionFileRefused(exc.message, exc.line, exc.element_id) from None
    if not model.decision_ids:
        raise DecisionFileRefused("the DMN file holds no decision")
    if isinstance(parser, DecisionParser):
        for decision_id in model.decision_ids:
            known = parser.feel_decisions.get(decision_id)
            if known is not None and known[0] == decision_id:
                raise DecisionFileRefused(
                    f"decision id '{decision_id}' is also defined in {known[1]}", element_id=decision_id
                )
        for decision_id, name in model.decision_names.items():
            parser.register(decision_id, name, filename, content)
    return model.decision_ids
