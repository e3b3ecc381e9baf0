"""Authentication (bearer token, or the web session cookie with CSRF) and role checks for the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, g, request
from flask_smorest import abort
from sqlalchemy import select

from admin_ui import session as web_session
from api.db_session import db
from engine.models import User
from engine.services.users import TokenCache

# Sign-in itself must be reachable without credentials.
PUBLIC_PATHS = ("/api/v1/openapi.json", "/api/v1/auth/activate", "/api/v1/auth/token")
TOKENS = TokenCache(ttl=10.0)


def init_app(app: Flask) -> None:
    @app.before_request
    def _authenticate():
        if not request.path.startswith("/api/") or request.path in PUBLIC_PATHS:
            return None
        header = request.headers.get("Authorization", "")
        if not header and web_session.signed_in_user_id() is not None:
            g.user = _cookie_user()
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            abort(401, message="missing bearer token: send 'Authorization: Bearer <token>'")
        user = TOKENS.authenticate(db(), token.strip())
        if user is None:
            abort(401, message="the bearer token is not valid")
        g.user = user
        return None


def _cookie_user() -> User:
    # A browser sends the cookie on its own, so a cookie alone never authorises a change: unsafe
    # methods must also carry the session's CSRF token. Bearer tokens are never sent implicitly.
    user = db().scalar(
        select(User).where(User.id == web_session.signed_in_user_id(), User.is_active.is_(True))
    )
    if user is None:
        abort(401, message="the web session has ended: sign in again")
    if request.method not in web_session.SAFE_METHODS and not web_session.csrf_ok():
        abort(403, message="CSRF token missing or wrong: send the X-CSRF-Token header")
    return user


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
