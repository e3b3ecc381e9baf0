"""Web sign-in pages: password form, activation, OpenID Connect, sign-out and the signed-in home page.

Each view owns one unit of work (``session_scope``); the API's per-request session is not used here.
Every unsafe method needs the session's CSRF token (checked before any view runs).
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from admin_ui import session as web_session
from admin_ui.blueprint import blp
from admin_ui.oidc import OidcClient, OidcError, Pending, new_pending
from engine.config import Settings
from engine.db import session_scope
from engine.errors import Conflict, Forbidden, InvalidData
from engine.models import User
from engine.services import credentials

_OIDC_PENDING = "oidc_pending"


def _sessions() -> sessionmaker[Session]:
    return current_app.extensions["approute.sessions"]


def _settings() -> Settings:
    return current_app.config["APPROUTE_SETTINGS"]


def _page(template: str, status: int = 200, **context):
    """Render a page of this UI; every page gets the CSRF token and whether OIDC is on."""
    context.setdefault("oidc_enabled", _oidc_client() is not None)
    return render_template(template, csrf_token=web_session.csrf_token(), **context), status


def _message(status: int, title: str, message: str):
    return _page("admin_ui/auth/message.html", status, title=title, message=message)


@blp.before_request
def _check_csrf():
    if request.method not in web_session.SAFE_METHODS and not web_session.csrf_ok():
        return _message(403, "Request refused", "CSRF token missing or wrong: reload the page and try again.")
    return None


def signed_in_user(session: Session) -> User | None:
    """The active user of the web session, or None."""
    user_id = web_session.signed_in_user_id()
    if user_id is None:
        return None
    return session.scalar(select(User).where(User.id == user_id, User.is_active.is_(True)))


@blp.get("/")
def home():
    """The signed-in home page; the inbox comes with a later issue."""
    with session_scope(_sessions()) as session:
        user = signed_in_user(session)
        if user is None:
            return redirect(url_for("admin_ui.login"))
        return _page("admin_ui/home.html", user_name=user.name, user_email=user.email)


@blp.get("/login")
def login():
    """The password sign-in form."""
    with session_scope(_sessions()) as session:
        if signed_in_user(session) is not None:
            return redirect(url_for("admin_ui.home"))
    notice = "Your password is set. Sign in with it." if request.args.get("activated") else None
    return _page("admin_ui/auth/login.html", notice=notice)


@blp.post("/login")
def login_submit():
    """Check the password; on success start the session and go home."""
    email = request.form.get("email", "")
    try:
        with session_scope(_sessions()) as session:
            try:
                user_id = credentials.sign_in(
                    session,
                    email=email,
                    password=request.form.get("password", ""),
                    remote_addr=request.remote_addr,
                ).id
            except credentials.SignInFailed:
                user_id = None  # leave the scope normally: the failed attempt must be committed
    except credentials.TooManyAttempts as exc:
        body, status = _page("admin_ui/auth/login.html", 429, error=exc.message, email=email)
        return body, status, {"Retry-After": str(exc.retry_after)}
    if user_id is None:
        return _page("admin_ui/auth/login.html", 401, error=credentials.WRONG_CREDENTIALS, email=email)
    web_session.start(user_id)
    return redirect(url_for("admin_ui.home"))


@blp.post("/logout")
def logout():
    """End the web session."""
    web_session.end()
    return redirect(url_for("admin_ui.login"))


@blp.get("/activate")
def activate():
    """The form to set a first password with an activation code (the link carries it after '#')."""
    return _page("admin_ui/auth/activate.html")


@blp.post("/activate")
def activate_submit():
    """Set the password, then send the person to sign in with it."""
    code, password = request.form.get("code", ""), request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        errors = [{"field": "password_again", "message": "the two passwords differ"}]
        return _page("admin_ui/auth/activate.html", 422, errors=errors, code=code)
    try:
        with session_scope(_sessions()) as session:
            credentials.activate(session, code=code, password=password)
    except InvalidData as exc:
        return _page("admin_ui/auth/activate.html", 422, message=exc.message, errors=exc.details, code=code)
    except Conflict as exc:
        return _page("admin_ui/auth/activate.html", 409, message=exc.message)
    return redirect(url_for("admin_ui.login", activated=1))


# --- OpenID Connect --------------------------------------------------------------------------


def _oidc_client() -> OidcClient | None:
    """The app's OIDC client, or None when APPROUTE_OIDC_ISSUER is not set."""
    settings = _settings()
    if not settings.oidc_issuer or not settings.oidc_client_id:
        return None
    client = current_app.extensions.get("approute.oidc")
    if client is None:
        client = OidcClient(
            settings.oidc_issuer,
            settings.oidc_client_id,
            settings.oidc_client_secret,
            settings.oidc_roles_claim,
        )
        current_app.extensions["approute.oidc"] = client
    return client


def _callback_url() -> str:
    return url_for("admin_ui.oidc_callback", _external=True)


@blp.get("/auth/oidc/login")
def oidc_login():
    """Send the browser to the identity provider, remembering state, nonce and PKCE verifier."""
    client = _oidc_client()
    if client is None:
        return _message(404, "Not available", "Sign-in through an identity provider is not set up.")
    pending = new_pending()
    try:
        target = client.authorization_url(_callback_url(), pending)
    except OidcError as exc:
        return _message(502, "Sign-in failed", str(exc))
    web_session.remember(_OIDC_PENDING, pending.as_dict())
    return redirect(target)


@blp.get("/auth/oidc/callback")
def oidc_callback():
    """Finish the provider's sign-in: check it, find the approute user, start the session."""
    client = _oidc_client()
    if client is None:
        return _message(404, "Not available", "Sign-in through an identity provider is not set up.")
    kept = web_session.recall(_OIDC_PENDING)
    if not isinstance(kept, dict):
        return _message(400, "Sign-in failed", "This sign-in was not started here, or already finished.")
    if request.args.get("error"):
        # The provider's error code is a fixed token (access_denied, ...), not personal data.
        reason = request.args["error"][:64]
        return _message(403, "Sign-in refused", f"The identity provider refused the sign-in ({reason}).")
    code, state = request.args.get("code", ""), request.args.get("state", "")
    if not code or not state:
        return _message(400, "Sign-in failed", "The identity provider's answer lacks the code or the state.")
    try:
        claims = client.finish(code=code, state=state, pending=Pending(**kept), redirect_uri=_callback_url())
    except OidcError as exc:
        return _message(403, "Sign-in refused", str(exc))
    try:
        with session_scope(_sessions()) as session:
            user_id = credentials.sign_in_external(
                session, email=claims["email"], roles=claims.get(client.roles_claim)
            ).id
    except Forbidden:
        return _message(403, "Sign-in refused", "There is no approute account for this sign-in. Ask HR.")
    web_session.start(user_id)
    return redirect(url_for("admin_ui.home"))
