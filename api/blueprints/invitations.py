"""/api/v1/invitations: Invitations to activate an account."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("invitations", __name__, description="Invitations to activate an account")
