"""Checks every submitted form payload passes before it reaches a workflow."""

from __future__ import annotations

import json
from typing import Any

from engine.bpmn.sandbox import MAX_DATA_BYTES
from engine.bpmn.state import reserved_key_paths
from engine.errors import InvalidData
from forms import validate_form


def check_submission(data: Any, schema: dict[str, Any] | None, *, what: str) -> None:
    """Refuse data that is not an object, is over the size limit, uses a reserved key, or fails the form.

    Field paths in the errors start with ``data.``, as the API body nests them. Raises InvalidData.
    """
    if not isinstance(data, dict):
        raise InvalidData("data must be an object", [{"field": "data", "message": "must be an object"}])
    size = len(json.dumps(data, default=str))
    if size > MAX_DATA_BYTES:
        raise InvalidData(
            "the data is too large",
            [{"field": "data", "message": f"{size:,} bytes; at most {MAX_DATA_BYTES:,} are accepted"}],
        )
    reserved = reserved_key_paths(data)
    if reserved:
        raise InvalidData(
            "the data uses a reserved field name",
            [{"field": path, "message": "'typename' is reserved; rename this field"} for path in reserved],
        )
    if schema is None:
        return
    errors = validate_form(schema, data)
    if errors:
        raise InvalidData(
            f"{what} has errors",
            [{**e.as_dict(), "field": f"data.{e.field}".rstrip(".")} for e in errors],
        )
