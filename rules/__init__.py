"""The rules engine: functions and tables that BPMN expressions may consult.

``REGISTRY`` is the allow-list of callables exposed to the sandbox. Issue #5 fills it with the
HR calculators; the foundation ships date helpers only.
"""

from rules.registry import REGISTRY

__all__ = ["REGISTRY"]
