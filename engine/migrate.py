"""Schema migrations, run programmatically: no alembic.ini needed, no framework imported."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Any fixed bigint will do: it names the PostgreSQL advisory lock that serialises upgrades.
_MIGRATION_LOCK_KEY = 0x617070726F757465  # "approute"


def alembic_config(url: str | None = None) -> Config:
    """An in-memory Alembic config; env.py reads the database from ``attributes``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute rather than sqlalchemy.url, so that a '%' in a password is not
    # taken for configparser interpolation.
    if url:
        config.attributes["url"] = url
    return config


def upgrade_database(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (``alembic upgrade head``).

    Safe to run from several processes at once (web and worker starting together): on
    PostgreSQL the upgrade holds a transaction-level advisory lock, so the second process waits
    and then finds nothing to do. PostgreSQL runs the whole upgrade in that one transaction.
    """
    db = create_engine(url, poolclass=pool.NullPool)
    try:
        with db.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
    finally:
        db.dispose()


def head_revision() -> str | None:
    """The newest revision shipped in ``engine/migrations/versions``."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None if it was never migrated."""
    db = create_engine(url, poolclass=pool.NullPool)
    try:
        with db.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        db.dispose()
