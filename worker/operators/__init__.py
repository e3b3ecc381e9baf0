"""Service-task operators and job kinds that need worker-side libraries (templates, PDF, SMTP).

Importing this package registers them; every process that runs jobs imports it (worker.pump).
"""

from __future__ import annotations

from worker.operators import (
    email,  # noqa: F401 - job kind email_notification
    render_document,  # noqa: F401 - operator render_document
)
