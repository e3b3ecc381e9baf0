"""/api/v1/auth (module sign_in, beside api.auth): Sign-in: activation, password, OpenID Connect.

The OpenID Connect redirect flow is a browser affair and lives in admin_ui (/auth/oidc/...).
"""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from werkzeug.exceptions import TooManyRequests

from admin_ui import session as web_session
from api.auth import current_user
from api.db_session import db
from api.schemas import (
    ActivateArgsSchema,
    ActivatedSchema,
    ApiErrorSchema,
    SessionSchema,
    TokenArgsSchema,
    TokenSchema,
)
from engine.services import credentials
from engine.services.users import create_token

blp = Blueprint("auth", __name__, description="Sign-in: activation, password, OpenID Connect")


@blp.route("/activate")
class Activate(MethodView):
    @blp.arguments(ActivateArgsSchema)
    @blp.response(200, ActivatedSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="the code was already used")
    @blp.alt_response(422, schema=ApiErrorSchema, description="unknown or expired code; refused password")
    def post(self, args):
        """Set your first password with the activation code from your invitation (no sign-in needed)."""
        user = credentials.activate(db(), code=args["code"], password=args["password"])
        return {"email": user.email}


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(TokenArgsSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, schema=ApiErrorSchema, description="wrong e-mail or password")
    @blp.alt_response(429, schema=ApiErrorSchema, description="too many failed attempts; see Retry-After")
    def post(self, args):
        """Exchange an e-mail and password for a bearer token, for API clients."""
        session = db()
        try:
            user = credentials.sign_in(
                session, email=args["email"], password=args["password"], remote_addr=request.remote_addr
            )
        except credentials.TooManyAttempts as exc:
            raise TooManyRequests(exc.message, retry_after=exc.retry_after) from None
        except credentials.SignInFailed as exc:
            # An error answer rolls the request back; the failed attempt must count, so keep it now.
            session.commit()
            abort(401, message=exc.message)
        return {"token": create_token(session, email=user.email)}


@blp.route("/session")
class CurrentSession(MethodView):
    @blp.response(200, SessionSchema)
    def get(self):
        """Who is calling; for a web-session caller also the CSRF token to send with unsafe calls."""
        user = current_user()
        signed_in_by_cookie = not request.headers.get("Authorization")
        return {
            "email": user.email,
            "name": user.name,
            "roles": sorted(user.roles),
            "csrf_token": web_session.csrf_token() if signed_in_by_cookie else None,
        }
