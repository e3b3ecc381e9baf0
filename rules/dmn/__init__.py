"""DMN decision models evaluated with our own FEEL: decision tables with every hit policy,
literal expressions, contexts, knowledge models and required decisions.

    model = load_dmn(content, "bonus.dmn")          # raises DmnError(message, line, element_id)
    result = model.evaluate("bonus_level", {"grade": "A", "rating": 4})
    result.output, result.matched, result.errors
"""

from rules.dmn.errors import DmnError
from rules.dmn.model import DecisionResult, DmnModel, load_dmn

__all__ = ["DecisionResult", "DmnError", "DmnModel", "load_dmn"]
