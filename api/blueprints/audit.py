"""/api/v1/audit: The audit trail: verification and export."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("audit", __name__, description="The audit trail: verification and export")
