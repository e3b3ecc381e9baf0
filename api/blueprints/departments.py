"""/api/v1/departments: The department tree."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("departments", __name__, description="The department tree")
