"""/api/v1/instances/{id}/documents: the files of a request (certificates, checklist uploads).

Mounted on the instances blueprint (imported at the end of api.blueprints.instances), so the paths
sit under the instance they belong to.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

from flask import Response, request
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields

from api.auth import current_user
from api.blueprints.instances import blp
from api.db_session import db
from api.schemas import ApiErrorSchema, multipart_body
from engine.errors import InvalidData
from engine.models import Document
from engine.services import documents

UPLOAD_DOC = multipart_body(
    {
        "file": {"type": "string", "format": "binary"},
        "kind": {"type": "string", "description": "checklist item code, e.g. diploma"},
    },
    ["file", "kind"],
)


class DocumentSchema(Schema):
    id = fields.UUID()
    kind = fields.String(metadata={"description": "certificate type, or checklist item code"})
    title = fields.String()
    file_name = fields.String()
    media_type = fields.String()
    size = fields.Integer(metadata={"description": "bytes"})
    sha256 = fields.String()
    register_number = fields.String(allow_none=True, metadata={"description": "outgoing № (C-02)"})
    created_at = fields.DateTime()


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


@blp.route("/<uuid:instance_id>/documents")
class InstanceDocuments(MethodView):
    @blp.response(200, DocumentSchema(many=True))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, instance_id: uuid.UUID):
        """The documents of a request, oldest first (whoever may see the request)."""
        return documents.list_documents(db(), instance_id, viewer=current_user())

    @blp.doc(**UPLOAD_DOC)
    @blp.response(201, DocumentSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    def post(self, instance_id: uuid.UUID):
        """Add a file (PDF, JPEG or PNG, at most 10 MB) to a request: its initiator, HR or an admin."""
        viewer = current_user()
        upload = request.files.get("file")
        if upload is None:
            documents.list_documents(db(), instance_id, viewer=viewer)  # a hidden request stays a 404
            raise InvalidData(
                "upload the file as multipart field 'file'",
                [{"field": "file", "message": "no file uploaded"}],
            )
        content = upload.read(documents.MAX_UPLOAD_BYTES + 1)
        if len(content) > documents.MAX_UPLOAD_BYTES:
            abort(413, message=f"the file is larger than {documents.MAX_UPLOAD_BYTES} bytes")
        return documents.add_upload(
            db(),
            instance_id,
            viewer=viewer,
            kind=request.form.get("kind", ""),
            file_name=upload.filename or "",
            content=content,
        )


@blp.route("/<uuid:instance_id>/documents/<uuid:document_id>")
class InstanceDocument(MethodView):
    @blp.response(200, description="the file's bytes, as an attachment")
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, instance_id: uuid.UUID, document_id: uuid.UUID):
        """Download a document: the person the request is about, HR, admins and its uploader."""
        document: Document = documents.get_document(db(), instance_id, document_id, viewer=current_user())
        response = Response(document.content, mimetype=document.media_type)
        response.headers["Content-Disposition"] = content_disposition(document.file_name)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
