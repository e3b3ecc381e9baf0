"""Every error leaves the API as JSON ``{code, status, message, errors}``."""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, g
from werkzeug.exceptions import HTTPException

from api.db_session import db
from engine import errors as engine_errors
from engine.services import instances

STATUS_FOR = {
    engine_errors.NotFound: 404,
    engine_errors.Forbidden: 403,
    engine_errors.Conflict: 409,
    engine_errors.InvalidData: 422,
    engine_errors.InvalidBundle: 422,
    engine_errors.InstanceFailed: 422,
}


def error_body(status: int, message: str, errors=None) -> dict:
    """The one error shape of the API."""
    return {
        "code": status,
        "status": HTTPStatus(status).phrase,
        "message": message,
        "errors": errors if errors is not None else {},
    }


def _record_failure(failure) -> None:
    # The failed step is rolled back first; the note that it failed is committed on its own.
    session = db()
    session.rollback()
    instances.record_step_failure(session, failure, actor=g.get("user"))
    session.commit()


def init_app(app: Flask) -> None:
    @app.errorhandler(engine_errors.EngineError)
    def _engine_error(exc: engine_errors.EngineError):
        status = STATUS_FOR.get(type(exc), 400)
        if isinstance(exc, engine_errors.InstanceFailed) and exc.instance_id is not None:
            _record_failure(exc)
        return error_body(status, exc.message, exc.details), status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        data = getattr(exc, "data", None) or {}
        message = data.get("message") or exc.description or HTTPStatus(exc.code).phrase
        errors = data.get("messages") or data.get("errors")
        if errors and exc.code == 422 and "message" not in data:
            message = "the request body is not valid"
        response = app.json.response(error_body(exc.code, message, errors))
        response.status_code = exc.code
        for name, value in exc.get_response().headers.items():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        if exc.code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response
