"""/api/v1/users: People: me, out of office."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("users", __name__, description="People: me, out of office")
