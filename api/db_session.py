"""One database session per request: committed when the answer is a success, else rolled back."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.db import make_engine, make_session_factory


def init_app(app: Flask, settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    app.extensions["approute.engine"] = engine
    app.extensions["approute.sessions"] = make_session_factory(engine)

    @app.after_request
    def _finish(response):
        session = g.pop("db", None)
        if session is not None:
            try:
                if response.status_code < 400:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()
        return response

    @app.teardown_request
    def _close(_exc):
        session = g.pop("db", None)
        if session is not None:
            session.rollback()
            session.close()


def db() -> Session:
    """The request's session, opened on first use."""
    if "db" not in g:
        g.db = current_app.extensions["approute.sessions"]()
    return g.db
