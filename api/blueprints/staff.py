"""/api/v1/staff: The staff list from payroll."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api.auth import current_user, require_role
from api.db_session import db
from api.schemas import ApiErrorSchema, StaffImportArgsSchema, StaffImportReportSchema
from engine.errors import InvalidData
from engine.services.staff_import import import_staff

blp = Blueprint("staff", __name__, description="The staff list from payroll")

MAX_FILE_BYTES = 20 * 1024 * 1024


def _too_big() -> None:
    abort(413, message=f"the staff file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")


def limit_body(view: Callable) -> Callable:
    """Refuse a body over MAX_FILE_BYTES with 413 before the multipart form is parsed."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if request.content_length is not None and request.content_length > MAX_FILE_BYTES:
            _too_big()
        return view(*args, **kwargs)

    return wrapper


@blp.route("/import")
class StaffImport(MethodView):
    @require_role("hr", "admin")
    @limit_body
    @blp.arguments(StaffImportArgsSchema, location="files")
    @blp.response(200, StaffImportReportSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="the file is larger than 20 MiB")
    @blp.alt_response(
        422, schema=ApiErrorSchema, description="no file, not UTF-8, or required columns missing"
    )
    def post(self, args):
        """Import payroll's staff CSV (multipart field `file`): create, update and dismiss people.

        The CSV is UTF-8 with a header row and `;` or `,` separators. Rows that cannot be imported
        are listed under `rejected` with their spreadsheet row number; the others still import.
        """
        upload = args.get("file")
        if upload is None or not hasattr(upload, "read"):
            raise InvalidData(
                "upload the staff CSV as multipart field 'file'",
                [{"field": "file", "message": "no file uploaded"}],
            )
        data = upload.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            _too_big()  # a chunked upload sends no Content-Length to check up front
        return import_staff(db(), data, actor=current_user()).as_dict()
