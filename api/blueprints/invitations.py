"""/api/v1/invitations: Invitations to activate an account."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_user, require_role
from api.db_session import db
from api.schemas import ApiErrorSchema, InvitationArgsSchema, InvitationSchema
from engine.services import credentials

blp = Blueprint("invitations", __name__, description="Invitations to activate an account")


@blp.route("")
class Invitations(MethodView):
    @require_role("hr", "admin")
    @blp.arguments(InvitationArgsSchema)
    @blp.response(201, InvitationSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="no user has this e-mail")
    @blp.alt_response(422, schema=ApiErrorSchema, description="the person is dismissed")
    def post(self, args):
        """Invite an existing, active person to set a password (HR or admin).

        The answer holds the one-time code, valid for 7 days; it is not stored and not shown again.
        Earlier unused codes of the person stop working. The person is also e-mailed the link
        when SMTP is configured (APPROUTE_SMTP_HOST).
        """
        issued = credentials.invite(db(), email=args["email"], actor=current_user())
        # The code goes after '#': browsers do not send the fragment, so it stays out of access logs.
        page = url_for("admin_ui.activate", _external=True)
        return {
            "email": issued.user.email,
            "code": issued.code,
            "expires_at": issued.expires_at,
            "activation_url": f"{page}#code={issued.code}",
        }
