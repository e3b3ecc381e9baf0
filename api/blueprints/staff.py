"""/api/v1/staff: The staff list from payroll."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("staff", __name__, description="The staff list from payroll")
