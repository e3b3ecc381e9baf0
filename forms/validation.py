"""Validate submitted form data against a form's JSON Schema, reporting errors per field."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

_FORMATS = FormatChecker()


@dataclass(frozen=True)
class FieldError:
    """One problem with one field; ``field`` is a dotted path, empty for the whole form."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@lru_cache(maxsize=512)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json), format_checker=_FORMATS)


def validate_form(schema: dict[str, Any], data: Any, *, schema_key: str | None = None) -> list[FieldError]:
    """Return every problem in ``data``; an empty list means the data is valid.

    ``schema_key`` is a stable text form of the schema used to cache the compiled validator.
    """
    if schema_key is None:
        schema_key = json.dumps(schema, sort_keys=True)
    validator = _validator(schema_key)
    errors = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path.append(missing)
            message = "this field is required"
        elif error.validator == "additionalProperties":
            extras = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            for extra in extras:
                errors.append(FieldError(".".join([*path, extra]), "this field is not part of the form"))
            continue
        else:
            message = error.message
        errors.append(FieldError(".".join(path), message))
    return errors
