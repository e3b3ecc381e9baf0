"""Describing a failure for the log without its message: messages may quote personal data.

SQLAlchemy errors carry the statement's parameters, and a script's error may quote task data, so
logs get the exception's type and where it was raised; the full text goes to places with access
control (the job's last_error, the incident's traceback), never to a log line.
"""

from __future__ import annotations

import traceback


def describe(exc: BaseException) -> str:
    """``TypeName at module.py:123``: the type and the innermost frame, no message."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    return f"{type(exc).__name__} at {last.filename.rsplit('/', 1)[-1]}:{last.lineno}"
