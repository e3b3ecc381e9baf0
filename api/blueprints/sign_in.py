"""/api/v1/auth (module sign_in, beside api.auth): Sign-in: activation, password, OpenID Connect."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("auth", __name__, description="Sign-in: activation, password, OpenID Connect")
