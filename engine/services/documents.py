"""The files of an instance: generated certificates and uploads, and the outgoing register (C-02).

A generated document is stored once per service task (``source_task_id``), so a job that runs again
after a crash finds the first copy instead of making a second one with a second number. Register
numbers come from one locked counter row per register and year: they never repeat, and a number is
only taken inside the transaction that records it, so a rolled-back request gives its number back.

Who sees what: the list of an instance's documents shows to whoever may see the instance; the
bytes of a document only to the person the request is about, HR and admins, and whoever uploaded
it. A line manager sees that a certificate was issued, not the certificate (it may carry a salary,
C-04). Everyone else gets the same 404 as for a document that does not exist.
"""

from __future__ import annotations

import hashlib
import re
import uuid

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Forbidden, InvalidData, NotFound
from engine.models import Document, ProcessInstance, RegisterCounter, User
from engine.services import instances, notifications, visibility

CERTIFICATES = "CERT"
# The outgoing-number prefix of each register: СПР-2025-00001 (справка).
REGISTER_PREFIXES = {CERTIFICATES: "СПР"}
DOCUMENT_READY = "document_ready"


def next_register_number(session: Session, register: str = CERTIFICATES, year: int | None = None) -> str:
    """Take the next outgoing number of ``register`` for ``year`` (C-02), e.g. ``СПР-2025-00001``.

    The counter row is created on first use, then incremented by one UPDATE that holds its row
    lock until the caller's transaction ends: two requests filed at once get two numbers in turn.
    """
    if year is None:
        year = clock.today().year
    _ensure_counter(session, register, year)
    number = session.execute(
        update(RegisterCounter)
        .where(RegisterCounter.register == register, RegisterCounter.year == year)
        .values(last_number=RegisterCounter.last_number + 1)
        .returning(RegisterCounter.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    prefix = REGISTER_PREFIXES.get(register, register)
    return f"{prefix}-{year}-{number:05d}"


def _ensure_counter(session: Session, register: str, year: int) -> None:
    # INSERT ... ON CONFLICT DO NOTHING: the first two callers of a new year may race to create it.
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - approute runs on PostgreSQL and SQLite only
        exists = session.get(RegisterCounter, (register, year))
        if exists is None:
            session.execute(insert(RegisterCounter).values(register=register, year=year, last_number=0))
        return
    statement = dialect_insert(RegisterCounter).values(register=register, year=year, last_number=0)
    session.execute(statement.on_conflict_do_nothing(index_elements=["register", "year"]))


def store(
    session: Session,
    instance: ProcessInstance,
    *,
    kind: str,
    title: str,
    file_name: str,
    media_type: str,
    content: bytes,
    register_number: str | None = None,
    source_task_id: uuid.UUID | None = None,
    created_by: User | None = None,
) -> Document:
    """Keep a file of ``instance``. A generated one (``source_task_id``) is kept once per task.

    A generated document tells the initiator it is ready (in the app and by e-mail), once.
    """
    if source_task_id is not None:
        existing = session.scalar(select(Document).where(Document.source_task_id == source_task_id))
        if existing is not None:
            return existing
    row = Document(
        instance_id=instance.id,
        kind=kind,
        title=title,
        file_name=file_name,
        media_type=media_type,
        content=content,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        register_number=register_number,
        source_task_id=source_task_id,
        created_by_id=created_by.id if created_by is not None else None,
    )
    session.add(row)
    session.flush()
    if source_task_id is not None:
        # Params are ids and plain values; the title is the certificate's name, not personal data.
        notifications.notify(
            session,
            instance.initiator_id,
            DOCUMENT_READY,
            {"document_id": str(row.id), "title": title, "register_number": register_number},
            instance_id=instance.id,
            dedupe_key=f"{DOCUMENT_READY}:{row.id}",
        )
    return row


def list_documents(session: Session, instance_id: uuid.UUID, *, viewer: User) -> list[Document]:
    """The documents of an instance the viewer may see, oldest first. Raises NotFound otherwise."""
    instances.get_instance(session, instance_id, viewer=viewer)
    query = (
        select(Document).where(Document.instance_id == instance_id).order_by(Document.created_at, Document.id)
    )
    return list(session.scalars(query))


def may_download(viewer: User, instance: ProcessInstance, document: Document) -> bool:
    """The subject of the request, HR, admins and the uploader may read a document's bytes."""
    if visibility.sees_sensitive_data(viewer, instance):
        return True
    return document.created_by_id is not None and document.created_by_id == viewer.id


def get_document(
    session: Session, instance_id: uuid.UUID, document_id: uuid.UUID, *, viewer: User
) -> Document:
    """One document with its bytes. Raises NotFound, one message for all, for what the viewer may not read."""
    missing = NotFound(f"document {document_id} not found")
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or not visibility.can_see_instance(session, viewer, instance):
        raise missing
    document = session.get(Document, document_id)
    if document is None or document.instance_id != instance.id:
        raise missing
    if not may_download(viewer, instance, document):
        raise missing
    return document


def may_upload(viewer: User, instance: ProcessInstance) -> bool:
    """The initiator, HR and admins add files to a request (a checklist's scans)."""
    return instance.initiator_id == viewer.id or visibility.sees_everything(viewer)


MAX_UPLOAD_BYTES = 10 * 1024 * 1024
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
# What an upload may be, told by its first bytes rather than by what the browser claims.
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)


def sniff_media_type(content: bytes) -> tuple[str, str] | None:
    """(media type, extension) of a PDF, JPEG or PNG file; None for anything else."""
    for signature, media_type, extension in SIGNATURES:
        if content.startswith(signature):
            return media_type, extension
    return None


def _safe_file_name(name: str, extension: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[\x00-\x1f\x7f\"<>|:*?]+", "", base).strip(" .")[:200]
    return (
        base
        if base.lower().endswith(extension) or base.lower().endswith(".jpeg")
        else f"{base or 'file'}{extension}"
    )


def add_upload(
    session: Session, instance_id: uuid.UUID, *, viewer: User, kind: str, file_name: str, content: bytes
) -> Document:
    """Keep a file the initiator or HR uploads to a request (a checklist item's scan).

    Raises NotFound (the request is not visible), Forbidden (visible, but not theirs to add to)
    and InvalidData naming the field (a bad kind, an empty file, a type other than PDF/JPEG/PNG).
    The size limit is the caller's to enforce before reading the whole body.
    """
    instance = instances.get_instance(session, instance_id, viewer=viewer)
    if not may_upload(viewer, instance):
        raise Forbidden("only the initiator and HR add documents to a request")
    problems = []
    if not isinstance(kind, str) or not KIND_PATTERN.match(kind):
        problems.append({"field": "kind", "message": "a code: lower-case letters, digits, '_', '.', '-'"})
    sniffed = sniff_media_type(content)
    if not content:
        problems.append({"field": "file", "message": "the file is empty"})
    elif sniffed is None:
        problems.append({"field": "file", "message": "only PDF, JPEG and PNG files are accepted"})
    if len(content) > MAX_UPLOAD_BYTES:
        problems.append({"field": "file", "message": f"at most {MAX_UPLOAD_BYTES} bytes"})
    if problems:
        raise InvalidData("the document was not added", problems)
    media_type, extension = sniffed
    name = _safe_file_name(file_name, extension)
    return store(
        session,
        instance,
        kind=kind,
        title=name,
        file_name=name,
        media_type=media_type,
        content=content,
        created_by=viewer,
    )
