"""Bearer-token authentication and role checks for the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, g, request
from flask_smorest import abort

from api.db_session import db
from engine.models import User
from engine.services.users import TokenCache

PUBLIC_PATHS = ("/api/v1/openapi.json",)
TOKENS = TokenCache(ttl=10.0)


def init_app(app: Flask) -> None:
    @app.before_request
    def _authenticate():
        if not request.path.startswith("/api/") or request.path in PUBLIC_PATHS:
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            abort(401, message="missing bearer token: send 'Authorization: Bearer <token>'")
        user = TOKENS.authenticate(db(), token.strip())
        if user is None:
            abort(401, message="the bearer token is not valid")
        g.user = user
        return None


def current_user() -> User:
    """The authenticated caller of this request."""
    return g.user


def require_role(*roles: str) -> Callable:
    """Allow the view only to callers holding one of ``roles``; others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user().has_role(*roles):
                abort(403, message=f"this needs one of the roles: {', '.join(roles)}")
            return view(*args, **kwargs)

        return wrapper

    return decorator
