"""Business-rule tasks evaluated by approute's FEEL/DMN evaluator (rules.dmn).

SpiffWorkflow's BusinessRuleTask calls ``task_spec.dmnEngine.result(task)`` and merges the dict
it returns into the task data. ``FeelDecisionEngine`` is that object for us: it holds the DMN
file's text and the decision id, so the spec stays serializable (see the converter below, which
engine.bpmn.state registers) and is stored once per deployed version.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.spiff.serializer.task_spec import BusinessRuleTaskConverter, SpiffBpmnTaskConverter

from rules.dmn import DmnModel, load_dmn
from rules.dmn.logic import DecisionTableLogic


@lru_cache(maxsize=128)
def _model(content: str, filename: str) -> DmnModel:
    return load_dmn(content.encode("utf-8"), filename)


def to_task_data(value: Any) -> Any:
    """FEEL values to what BPMN scripts and the JSON API expect: whole numbers as int, others float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [to_task_data(v) for v in value]
    if isinstance(value, dict):
        return {k: to_task_data(v) for k, v in value.items()}
    return value


class FeelDecisionEngine:
    """The decision a business-rule task calls; ``result`` gives the data it adds to the task."""

    def __init__(self, decision_id: str, filename: str, content: str):
        self.decision_id = decision_id
        self.filename = filename
        self.content = content

    @property
    def model(self) -> DmnModel:
        return _model(self.content, self.filename)

    def result(self, task) -> dict[str, Any]:
        """Evaluate over the task data. Raises WorkflowTaskException naming the decision on a rule error.

        The value goes under the decision's name; a decision table's output columns are also set by
        name, as SpiffWorkflow's own engine did (a collect table gives a list per column).
        """
        model = self.model
        result = model.evaluate(self.decision_id, dict(task.data))
        if result.errors:
            raise WorkflowTaskException(
                f"decision '{result.decision_name}' in {self.filename} failed: " + "; ".join(result.errors),
                task=task,
            )
        output = to_task_data(result.output)
        data = {result.decision_name: output}
        logic = model.definitions.decisions[result.decision_id].logic
        if isinstance(logic, DecisionTableLogic):
            names = [column.name for column in logic.outputs]
            if len(names) == 1 and names[0]:
                data[names[0]] = output
            elif len(names) > 1 and isinstance(output, dict):
                data.update(output)
            elif len(names) > 1 and isinstance(output, list):
                data.update({name: [row.get(name) for row in output] for name in names})
        return data

    def to_dict(self) -> dict[str, str]:
        return {"decision_id": self.decision_id, "filename": self.filename, "content": self.content}


class FeelBusinessRuleTaskConverter(BusinessRuleTaskConverter):
    """Stores a business-rule task with its decision's DMN text instead of SpiffWorkflow's table."""

    def to_dict(self, spec):
        dct = self.get_default_attributes(spec)
        dct.update(SpiffBpmnTaskConverter.to_dict(self, spec))
        dct["feel_decision"] = spec.dmnEngine.to_dict()
        return dct

    def from_dict(self, dct):
        if "feel_decision" not in dct:  # a version deployed before rules.dmn: SpiffWorkflow's table
            return super().from_dict(dct)
        dct["dmnEngine"] = FeelDecisionEngine(**dct.pop("feel_decision"))
        return self.task_spec_from_dict(dct)
