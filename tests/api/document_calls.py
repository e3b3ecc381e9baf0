"""How the access matrix calls the documents endpoints of an instance (tests/api/test_access_matrix.py)."""

from __future__ import annotations

import io
import uuid

from engine.db import session_scope
from engine.models import Document, ProcessInstance

# One document id for every call, moved to whichever request is asked about: a 404 for a request
# that does not exist then names the same document as one for a request the caller may not see.
MATRIX_DOCUMENT_ID = uuid.UUID("00000000-0000-4000-8000-00000000d0c5")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def download_document(client, headers, target):
    """GET the matrix document of ``target``'s request, putting it there first when the request exists."""
    factory = client.application.extensions["approute.sessions"]
    instance_id = uuid.UUID(target.instance_id)
    with session_scope(factory) as s:
        if s.get(ProcessInstance, instance_id) is not None:
            document = s.get(Document, MATRIX_DOCUMENT_ID)
            if document is None:
                document = Document(
                    id=MATRIX_DOCUMENT_ID,
                    kind="employment",
                    title="Справка",
                    file_name="matrix.pdf",
                    media_type="application/pdf",
                    content=b"%PDF-1.4\n",
                    size=9,
                    sha256="0" * 64,
                )
                s.add(document)
            document.instance_id = instance_id
    return client.get(f"/api/v1/instances/{instance_id}/documents/{MATRIX_DOCUMENT_ID}", headers=headers)


def upload_document(client, headers, target):
    """POST a small PNG to ``target``'s request."""
    return client.post(
        f"/api/v1/instances/{target.instance_id}/documents",
        data={"kind": "scan", "file": (io.BytesIO(PNG), "scan.png")},
        content_type="multipart/form-data",
        headers=headers,
    )
