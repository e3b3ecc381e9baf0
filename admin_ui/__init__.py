"""The Jinja2 web UI for all four roles: a blueprint that api/ mounts.

For now it holds sign-in: the password form, activation, OpenID Connect and a home page that says
who is signed in. ``admin_ui.session`` is the web session (also read by the API for cookie callers).
"""

from admin_ui import sign_in as _sign_in  # noqa: F401 - registers the sign-in pages on the blueprint
from admin_ui.blueprint import blp

__all__ = ["blp"]
