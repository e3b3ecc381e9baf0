"""`approute audit verify`, `approute retention` and `approute purge` as an operator runs them."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from engine.db import make_engine, make_session_factory, session_scope
from engine.models import User
from engine.services import instances, purge
from tests.cli.test_cli import Shell
from tests.conftest import _create_postgres_database, _drop_postgres_database

LEAVE = {"leave_type": "unpaid_agreed", "start": "2026-12-01", "end": "2026-12-03"}


@pytest.fixture(params=["sqlite", "postgresql"])
def shell(request, tmp_path):
    """A fresh database of each kind, set up with `approute init` (the migrations, with their triggers)."""
    if request.param == "sqlite":
        run = Shell(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    else:
        run = Shell(_create_postgres_database())
    assert run("init").returncode == 0
    yield run
    if request.param == "postgresql":
        _drop_postgres_database(run.database_url)


@pytest.fixture
def db(shell):
    engine = make_engine(shell.database_url)
    yield engine
    engine.dispose()


def tamper(db, statement: str, **params) -> None:
    """Change audit_events as the database owner could, with the append-only trigger lifted."""
    with db.begin() as conn:
        if db.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
            conn.execute(sa.text(statement), params)
            conn.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
            conn.execute(sa.text(statement), params)


def event_ids(db) -> list[int]:
    with db.connect() as conn:
        return list(conn.execute(sa.text("SELECT id FROM audit_events ORDER BY chain_seq")).scalars())


def cancelled_requests(shell, db, n: int) -> list:
    """n leave requests started and cancelled by a user made with the CLI."""
    assert shell("deploy", "processes/leave_request").returncode == 0
    boss = shell("users", "create", "--email", "boss@example.com", "--name", "Boss", "--role", "hr")
    assert boss.returncode == 0, boss.stderr
    made = shell(
        "users", "create", "--email", "anna@example.com", "--name", "Анна", "--role", "employee",
        "--manager", "boss@example.com",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    sessions = make_session_factory(db)
    ids = []
    for _ in range(n):
        with session_scope(sessions) as s:
            anna = s.scalar(sa.select(User).where(User.email == "anna@example.com"))
            instance, _created = instances.start_instance(s, key="leave_request", actor=anna, data=LEAVE)
            instances.cancel_instance(s, instance.id, actor=anna)
            ids.append(instance.id)
    return ids


def test_verify_reports_intact_then_the_edited_event(shell, db):
    assert shell("deploy", "processes/leave_request").returncode == 0
    assert shell("users", "create", "--email", "a@example.com", "--name", "A", "--role", "hr").returncode == 0
    ok = shell("audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "audit chain intact: 1 events"

    (first,) = event_ids(db)
    tamper(db, "UPDATE audit_events SET details = :d WHERE id = :id", d='{"key": "other"}', id=first)
    broken = shell("audit", "verify")
    assert broken.returncode == 1
    assert f"seq 1 (event id {first})" in broken.stderr
    assert "hash mismatch: the row was edited" in broken.stderr


def test_verify_reports_the_gap_of_a_deleted_event(shell, db):
    cancelled_requests(shell, db, 1)
    ids = event_ids(db)
    tamper(db, "DELETE FROM audit_events WHERE id = :id", id=ids[2])
    broken = shell("audit", "verify")
    assert broken.returncode == 1
    assert f"seq 3 to 3 missing before event id {ids[3]}: rows were removed" in broken.stderr


def test_the_database_refuses_to_rewrite_audit_events(shell, db):
    assert shell("deploy", "processes/leave_request").returncode == 0
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET action = 'x'"))


def test_retention_list_and_set(shell):
    assert shell("deploy", "processes/leave_request").returncode == 0
    listed = shell("retention", "list")
    assert listed.returncode == 0, listed.stderr
    assert "personnel-50y" in listed.stdout and "leave_request" in listed.stdout
    assert "(default)" in listed.stdout

    assert shell("retention", "set", "leave_request", "leave-5y").returncode == 0
    assert "leave-5y         (set)" in shell("retention", "list").stdout
    refused = shell("retention", "set", "leave_request", "forever")
    assert refused.returncode == 1
    assert "unknown retention class 'forever'" in refused.stderr


def test_purge_dry_run_then_real_run(shell, db):
    first, second = cancelled_requests(shell, db, 2)
    year = date.today().year
    with session_scope(make_session_factory(db)) as s:
        hr = s.scalar(sa.select(User).where(User.email == "boss@example.com"))
        purge.set_legal_hold(s, instances.lock_instance(s, second), "court case", actor=hr)

    early = shell("purge", "--dry-run", "--as-of", f"{year + 50}-12-31")
    assert early.returncode == 0, early.stderr
    assert "0 to purge, 0 held" in early.stdout

    dry = shell("purge", "--dry-run", "--as-of", f"{year + 51}-01-01")
    assert f"would purge: {first} leave_request closed" in dry.stdout
    assert f"personnel-50y kept until {year + 50}-12-31" in dry.stdout
    assert f"held, would skip: {second}" in dry.stdout
    assert "1 to purge, 1 held" in dry.stdout
    with db.connect() as conn:  # a dry run changes nothing
        assert conn.execute(sa.text("SELECT count(*) FROM purge_records")).scalar() == 0

    done = shell("purge", "--as-of", f"{year + 51}-01-01")
    assert done.returncode == 0, done.stderr
    assert f"purged: {first}" in done.stdout
    assert "1 purged, 1 held" in done.stdout
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM purge_records")).scalar() == 1
        initiators = conn.execute(sa.text("SELECT initiator_id IS NULL FROM process_instances")).scalars()
        assert sorted(initiators) == [False, True]
    assert shell("audit", "verify").returncode == 0

    bad = shell("purge", "--as-of", "next year")
    assert bad.returncode == 2 and "--as-of must be a date YYYY-MM-DD" in bad.stderr
