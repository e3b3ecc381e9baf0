"""The web side: Flask app factory, the v1 REST API and the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from engine.config import Settings, web_secret_key


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the WSGI app. ``overrides`` may set APPROUTE_DATABASE_URL and friends (tests do)."""
    import admin_ui
    from api import auth, db_session, errors
    from api.blueprints import (
        accreditation,
        audit,
        coordinators,
        decisions,
        definitions,
        departments,
        incidents,
        instances,
        invitations,
        leave,
        notifications,
        retention,
        rule_tables,
        sign_in,
        staff,
        tasks,
        users,
    )
    from api.extensions import api

    app = Flask(__name__)
    environ = dict(__import__("os").environ)
    environ.update({k: str(v) for k, v in (overrides or {}).items() if k.startswith("APPROUTE_")})
    settings = Settings.from_env(environ)
    app.config.update(
        SECRET_KEY=web_secret_key(settings),
        APPROUTE_SETTINGS=settings,
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,
        API_TITLE="approute",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
        # The web session cookie (admin_ui): not readable by scripts, not sent on cross-site POSTs.
        SESSION_COOKIE_NAME="approute_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
    )
    app.config.update({k: v for k, v in (overrides or {}).items() if not k.startswith("APPROUTE_")})
    # Names are Cyrillic more often than not: send them as UTF-8, not as \u escapes.
    app.json.ensure_ascii = False
    db_session.init_app(app, settings)
    from worker.runtime import install as install_background_work

    app.extensions["approute.runner"] = install_background_work(settings, app.extensions["approute.sessions"])
    api.init_app(app)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    blueprints = (
        accreditation,
        definitions,
        instances,
        tasks,
        users,
        staff,
        departments,
        coordinators,
        invitations,
        sign_in,
        audit,
        retention,
        rule_tables,
        decisions,
        leave,
        incidents,
        notifications,
    )
    for module in blueprints:
        api.register_blueprint(module.blp, url_prefix=f"/api/v1/{module.blp.name}")
    app.register_blueprint(admin_ui.blp)
    auth.init_app(app)
    errors.init_app(app)
    return app
