"""/api/v1/coordinators: Who receives each kind of request."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("coordinators", __name__, description="Who receives each kind of request")
