"""The one error type of the DMN package."""

from __future__ import annotations


class DmnError(Exception):
    """A DMN file that cannot be used: names the line and the element id where known."""

    def __init__(self, message: str, line: int | None = None, element_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.element_id = element_id

    def __str__(self) -> str:
        where = []
        if self.element_id:
            where.append(f"element '{self.element_id}'")
        if self.line:
            where.append(f"line {self.line}")
        return self.message + (f" ({', '.join(where)})" if where else "")
