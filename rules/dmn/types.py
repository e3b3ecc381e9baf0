"""typeRef checks: a value that does not conform to the declared type becomes null (DMN 1.5 §7.3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rules.feel import nodes
from rules.feel.interpreter import Scope, test_value
from rules.feel.values import type_name

_BASE_TYPES = {
    "number": "number",
    "string": "string",
    "boolean": "boolean",
    "date": "date",
    "time": "time",
    "dateTime": "date and time",
    "date and time": "date and time",
    "dayTimeDuration": "days and time duration",
    "days and time duration": "days and time duration",
    "yearMonthDuration": "years and months duration",
    "years and months duration": "years and months duration",
    "context": "context",
    "list": "list",
}


@dataclass
class ItemDefinition:
    name: str
    type_ref: str | None = None
    is_collection: bool = False
    allowed_values: nodes.UnaryTests | None = None
    components: dict[str, ItemDefinition] = field(default_factory=dict)


def _local(type_ref: str) -> str:
    # "feel:number" or "ns:tLoan": the prefix names a namespace, the type is after it
    return type_ref.rpartition(":")[2] if ":" in type_ref and " " not in type_ref else type_ref


def coerce(value: Any, type_ref: str | None, types: dict[str, ItemDefinition], warnings: list[str]) -> Any:
    """Return ``value`` if it conforms to ``type_ref``, else null with a warning."""
    if value is None or not type_ref:
        return value
    name = _local(type_ref)
    if name == "Any":
        return value
    if name in types:
        return _coerce_item(value, types[name], types, warnings)
    expected = _BASE_TYPES.get(name)
    if expected is None:
        return value  # an unknown type name: not ours to judge
    actual = type_name(value)
    if actual == expected:
        return value
    if isinstance(value, list) and len(value) == 1 and type_name(value[0]) == expected:
        return value[0]  # a singleton list stands for its element
    warnings.append(f"a {actual} is not a {expected}")
    return None


def _coerce_item(value: Any, item: ItemDefinition, types: dict, warnings: list[str]) -> Any:
    if item.is_collection:
        if not isinstance(value, list):
            value = [value]
        single = ItemDefinition(item.name, item.type_ref, False, item.allowed_values, item.components)
        return [_coerce_item(v, single, types, warnings) for v in value]
    if item.components:
        if not isinstance(value, dict):
            warnings.append(f"a {type_name(value)} is not a {item.name}")
            return None
        result = dict(value)
        for key, component in item.components.items():
            if key in result:
                result[key] = _coerce_item(result[key], component, types, warnings)
        return result
    if item.type_ref:
        value = coerce(value, item.type_ref, types, warnings)
    allowed = item.allowed_values
    if value is not None and allowed is not None and test_value(allowed, value, Scope()) is not True:
        warnings.append(f"a value is not among the allowed values of {item.name}")
        return None
    return value
