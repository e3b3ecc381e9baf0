"""The Alembic migrations build exactly the schema the models declare, on SQLite and PostgreSQL.

Each test makes its own empty database (not the shared ``database_url`` fixture, whose schema
comes from ``create_all``), so the migrations are what is being checked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import engine.models  # noqa: F401 - registers every table on Base.metadata
from engine.db import Base
from engine.migrate import alembic_config, current_revision, head_revision, upgrade_database
from tests.conftest import _create_postgres_database, _drop_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> Iterator[str]:
    """A fresh database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    url = _create_postgres_database()  # skips, with the reason, if PostgreSQL is unreachable
    try:
        yield url
    finally:
        _drop_postgres_database(url)


def _schema_differences(url: str) -> list:
    db = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with db.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            return compare_metadata(context, Base.metadata)
    finally:
        db.dispose()


def _table_names(url: str) -> set[str]:
    db = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(db).get_table_names())
    finally:
        db.dispose()


def test_upgrade_builds_the_model_schema(empty_database_url):
    assert current_revision(empty_database_url) is None

    upgrade_database(empty_database_url)

    assert _schema_differences(empty_database_url) == []
    head = ScriptDirectory.from_config(alembic_config(empty_database_url)).get_current_head()
    assert head is not None
    assert head_revision() == head
    assert current_revision(empty_database_url) == head


def test_upgrade_is_idempotent_and_downgrade_removes_everything(empty_database_url):
    upgrade_database(empty_database_url)
    upgrade_database(empty_database_url)  # already at head: nothing to do, no error
    assert _table_names(empty_database_url) >= set(Base.metadata.tables)

    command.downgrade(alembic_config(empty_database_url), "base")
    assert _table_names(empty_database_url) == {"alembic_version"}
    assert current_revision(empty_database_url) is None

    upgrade_database(empty_database_url)
    assert _schema_differences(empty_database_url) == []
