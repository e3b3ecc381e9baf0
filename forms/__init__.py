"""The form engine: JSON Schema validation with field-level errors."""

from forms.validation import FieldError, validate_form

__all__ = ["FieldError", "validate_form"]
