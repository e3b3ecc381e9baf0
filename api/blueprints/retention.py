"""/api/v1/retention: Retention classes, purge and legal hold."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("retention", __name__, description="Retention classes, purge and legal hold")
