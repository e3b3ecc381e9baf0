"""Who is signed in through the web session cookie, and the CSRF token that goes with it.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure unless turned off). It holds the
user's id, when they signed in and a random per-session CSRF token; nothing personal. Both the web
pages and the API (``api.auth``) read it from here.

Why our own CSRF check rather than Flask-WTF's CSRFProtect: CSRFProtect guards every POST of the app
and would have to be told, request by request, that bearer-token API calls need no token; and its
tokens are time-stamped HMACs where a random per-session value compared with hmac.compare_digest does
the job. Twenty lines here keep the one rule in one place: unsafe method + cookie caller = token.
"""

from __future__ import annotations

import hmac
import secrets
import time

from flask import request, session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
# A signed-in session ends after this long even if the browser keeps the cookie: Flask's cookie
# session has no server-side expiry of its own.
MAX_SESSION_AGE = 12 * 3600

_USER = "uid"
_SINCE = "since"
_CSRF = "csrf"


def csrf_token() -> str:
    """This session's CSRF token, created on first use (signed-out visitors get one for the forms)."""
    if _CSRF not in session:
        session[_CSRF] = secrets.token_urlsafe(32)
    return session[_CSRF]


def csrf_ok() -> bool:
    """True when the request carries this session's CSRF token, as a header or a form field."""
    expected = session.get(_CSRF)
    supplied = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    return bool(expected) and hmac.compare_digest(str(expected).encode(), supplied.encode())


def start(user_id: int) -> None:
    """Sign ``user_id`` in: a fresh session with a new CSRF token (nothing of the old one survives)."""
    session.clear()
    session.permanent = False
    session[_USER] = user_id
    session[_SINCE] = int(time.time())
    session[_CSRF] = secrets.token_urlsafe(32)


def end() -> None:
    """Sign out."""
    session.clear()


def signed_in_user_id() -> int | None:
    """The id of the user signed in through the cookie, or None (also once the session is too old)."""
    user_id, since = session.get(_USER), session.get(_SINCE)
    if not isinstance(user_id, int) or not isinstance(since, int):
        return None
    if time.time() - since > MAX_SESSION_AGE:
        return None
    return user_id


def remember(key: str, value) -> None:
    """Keep a value in the session until ``recall`` takes it (e.g. OpenID Connect state)."""
    session[key] = value


def recall(key: str):
    """Take back (and forget) a value kept with ``remember``; None if there is none."""
    return session.pop(key, None)
