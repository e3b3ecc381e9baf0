"""Shared fixtures. Every database test runs twice: on SQLite and on PostgreSQL.

PostgreSQL is reached at APPROUTE_TEST_POSTGRES_URL (default: the local server's `test`
database); each run creates its own database there and drops it afterwards. Where PostgreSQL
cannot be reached, its half of the suite is reported as skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

import engine.models  # noqa: F401 - registers every table on Base.metadata
from engine.db import Base, make_engine, make_session_factory, session_scope
from engine.services.demo import seed_demo

# Background work runs only when a test drives it (the `background` fixture), so that no runner
# thread outlives its test's database; tests of the thread and RQ modes set the mode themselves.
os.environ.setdefault("APPROUTE_JOBS", "manual")

POSTGRES_ADMIN_URL = os.environ.get(
    "APPROUTE_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
)


def _create_postgres_database() -> str:
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"approute_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL unavailable at {POSTGRES_ADMIN_URL}: {exc.orig}")
    finally:
        admin.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """A fresh, empty database of each kind, with the schema created."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'approute.sqlite3'}"
    else:
        url = _create_postgres_database()
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield url
    if request.param == "postgresql":
        _drop_postgres_database(url)


@pytest.fixture(scope="session")
def db_engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(db_engine) -> Iterator[sessionmaker[Session]]:
    """A session factory on a database emptied after the test."""
    yield make_session_factory(db_engine)
    _wipe(db_engine)


def _wipe(db_engine) -> None:
    """Empty every table. audit_events refuses DELETE (append-only), so it is emptied around that:
    TRUNCATE on PostgreSQL (row triggers do not fire), the triggers lifted for the wipe on SQLite."""
    from engine.models.audit import APPEND_ONLY_DDL, DROP_APPEND_ONLY_DDL

    dialect = db_engine.dialect.name
    with db_engine.begin() as conn:
        if dialect == "postgresql":
            # TRUNCATE waits for every open transaction that touched the table; a session a test
            # left open should fail the wipe loudly, not hang it.
            conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            conn.exec_driver_sql("TRUNCATE audit_events")
        else:
            for statement in DROP_APPEND_ONLY_DDL[dialect]:
                conn.exec_driver_sql(statement)
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "audit_events" or dialect != "postgresql":
                conn.execute(table.delete())
        if dialect != "postgresql":
            for statement in APPEND_ONLY_DDL[dialect]:
                conn.exec_driver_sql(statement)


@pytest.fixture
def session(session_factory) -> Iterator[Session]:
    """One session for service-level tests; committed at the end so nothing hides in it."""
    with session_scope(session_factory) as s:
        yield s


@dataclass
class Person:
    """A demo user as the tests see them."""

    id: int
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def org(session_factory) -> dict[str, Person]:
    """The demo organisation: a director over hr, designer and two heads, each with two employees."""
    with session_scope(session_factory) as s:
        return {p.key: Person(u.id, u.email, token) for p, u, token in seed_demo(s)}


@pytest.fixture(scope="session")
def _app_for_database(database_url):
    from api import create_app

    app = create_app({"APPROUTE_DATABASE_URL": database_url, "TESTING": True})
    yield app
    app.extensions["approute.engine"].dispose()


@pytest.fixture
def app(_app_for_database, session_factory):
    """The Flask app on the test database (emptied after each test)."""
    return _app_for_database


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def leave_definition(session_factory):
    """The shipped leave_request bundle, deployed."""
    from engine.services.definitions import deploy_bundle
    from processes import PROCESS_DIR, bundle_files

    with session_scope(session_factory) as s:
        row = deploy_bundle(s, bundle_files(PROCESS_DIR / "leave_request"), actor=None)
        return {"id": row.id, "key": row.key, "version": row.version}


@pytest.fixture
def background(session_factory):
    """``background()`` runs every due job and timer in this thread until none is left; returns the count."""
    from worker.pump import work_until_idle

    return lambda: work_until_idle(session_factory)


@pytest.fixture(autouse=True)
def _real_time_again():
    """A test may move engine.clock forward; the next one starts on real time."""
    from engine import clock

    yield
    clock.reset()


@pytest.fixture
def move_clock():
    """``move_clock(datetime)`` moves engine.clock forward to that moment (aware); returns it."""
    from engine import clock

    def travel(moment):
        clock.travel_to(moment)
        return clock.now()

    return travel
