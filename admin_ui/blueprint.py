"""The one blueprint of the web UI; page modules add their routes to it."""

from __future__ import annotations

from flask import Blueprint

blp = Blueprint("admin_ui", __name__, template_folder="templates")
