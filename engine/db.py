"""Database plumbing: the declarative base, engine creation and the one transaction helper."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import JSON, Engine, MetaData, create_engine, event
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Base of every model; enums are stored by value so both databases read the same strings."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        enum.Enum: SAEnum(
            enum.Enum,
            native_enum=False,
            values_callable=lambda members: [m.value for m in members],
            length=32,
        ),
    }


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and writer-serialising transactions."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _serialise_sqlite_writers(engine)
        return engine
    # No pre-ping: it costs a round trip per request; recycling covers server-side idle timeouts.
    return create_engine(url, pool_recycle=1800, **kwargs)


def _serialise_sqlite_writers(engine: Engine) -> None:
    # pysqlite opens transactions lazily and upgrades read locks to write locks, which makes two
    # concurrent completions fail with "database is locked" instead of queueing. BEGIN IMMEDIATE
    # takes the write lock up front, so SQLite serialises steps the way FOR UPDATE does on PostgreSQL.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, always close."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
