"""Alembic environment for approute's schema; framework-free (no flask imports).

The database is taken, in order, from ``config.attributes["connection"]`` (an open connection),
``config.attributes["url"]``, the ``sqlalchemy.url`` option, then ``APPROUTE_DATABASE_URL``.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, create_engine, pool

import engine.models  # noqa: F401 - registers every table on Base.metadata
from engine.config import Settings
from engine.db import Base

config = context.config
if config.config_file_name is not None:  # the developers' `alembic` CLI, via alembic.ini
    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = Base.metadata


def _database_url() -> str:
    return (
        config.attributes.get("url")
        or config.get_main_option("sqlalchemy.url")
        or Settings.from_env().database_url
    )


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    dialect = connection.dialect.name if connection is not None else url.split(":", 1)[0]
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=dialect.startswith("sqlite"),
        compare_type=True,
        compare_server_default=True,
        literal_binds=connection is None,
        dialect_opts={"paramstyle": "named"} if connection is None else {},
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``) without a database."""
    _configure(url=_database_url())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a live connection, one transaction for the lot."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    # A plain engine on purpose: make_engine's SQLite hooks (foreign_keys=ON, BEGIN IMMEDIATE)
    # would get in the way of batch-mode table rebuilds.
    db = create_engine(_database_url(), poolclass=pool.NullPool)
    try:
        with db.connect() as conn:
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        db.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
