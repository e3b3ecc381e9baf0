"""The audit trail is a hash chain that the database will not let anyone rewrite, and verify checks it."""

from __future__ import annotations

import itertools
import threading

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

from engine.db import make_engine, make_session_factory, session_scope
from engine.migrate import alembic_config, upgrade_database
from engine.models import AuditChainHead, AuditEvent
from engine.models.audit import APPEND_ONLY_DDL, DROP_APPEND_ONLY_DDL
from engine.services import audit
from tests.conftest import _create_postgres_database, _drop_postgres_database
from tests.engine.helpers import VALID_LEAVE, deploy, leave_request_files, start


def write_events(session_factory, n: int, action: str = "test.event", **details) -> None:
    with session_scope(session_factory) as s:
        for i in range(n):
            audit.record(s, action, number=i, **details)


def chain(session_factory) -> list[AuditEvent]:
    with session_scope(session_factory) as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.chain_seq)))


def verify(session_factory) -> audit.Verification:
    with session_scope(session_factory) as s:
        return audit.verify(s)


def behind_the_engines_back(db_engine, statement: str, **params) -> None:
    """Run SQL on audit_events with the append-only triggers lifted, as a DB owner could."""
    dialect = db_engine.dialect.name
    with db_engine.begin() as conn:
        if dialect == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        else:
            for ddl in DROP_APPEND_ONLY_DDL["sqlite"]:
                conn.exec_driver_sql(ddl)
        conn.execute(sa.text(statement), params)
        if dialect == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
        else:
            for ddl in APPEND_ONLY_DDL["sqlite"]:
                conn.exec_driver_sql(ddl)


def test_events_form_a_chain_in_commit_order(session_factory, org):
    deploy(session_factory, leave_request_files())
    start(session_factory, "leave_request", org["employee_sales_1"], VALID_LEAVE)
    write_events(session_factory, 3)

    rows = chain(session_factory)
    assert [r.chain_seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == audit.GENESIS_HASH
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
    assert all(audit.event_hash(r) == r.hash for r in rows)
    with session_scope(session_factory) as s:
        head = s.get(AuditChainHead, audit.HEAD_ID)
        assert (head.last_seq, head.last_hash) == (rows[-1].chain_seq, rows[-1].hash)
    result = verify(session_factory)
    assert result.intact
    assert result.message == f"audit chain intact: {len(rows)} events"


def test_one_session_committing_twice_continues_the_chain(session_factory):
    with session_scope(session_factory) as s:
        audit.record(s, "test.first")
        s.commit()
        audit.record(s, "test.second")
        s.commit()
        audit.record(s, "test.third")
    assert [(r.action, r.chain_seq) for r in chain(session_factory)] == [
        ("test.first", 1),
        ("test.second", 2),
        ("test.third", 3),
    ]
    assert verify(session_factory).intact


def test_rolled_back_events_never_reach_the_chain(session_factory):
    with pytest.raises(RuntimeError), session_scope(session_factory) as s:
        audit.record(s, "test.lost")
        raise RuntimeError("the step failed")
    with session_scope(session_factory) as s:
        audit.record(s, "test.kept_before")
        with pytest.raises(RuntimeError), s.begin_nested():
            audit.record(s, "test.lost_in_savepoint")
            raise RuntimeError("the savepoint failed")
        with s.begin_nested():
            audit.record(s, "test.kept_in_savepoint")
    actions = [r.action for r in chain(session_factory)]
    assert actions == ["test.kept_before", "test.kept_in_savepoint"]
    assert verify(session_factory).events == 2


def test_details_that_json_cannot_hold_are_refused_when_recorded(session_factory):
    with session_scope(session_factory) as s, pytest.raises(TypeError):
        audit.record(s, "test.bad", when=object())
    assert chain(session_factory) == []


def test_the_database_refuses_update_and_delete(db_engine, session_factory):
    write_events(session_factory, 1)
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), db_engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert [r.action for r in chain(session_factory)] == ["test.event"]


def test_verify_names_an_edited_event(db_engine, session_factory):
    write_events(session_factory, 5, reason="vacation")
    edited = chain(session_factory)[2]
    behind_the_engines_back(
        db_engine, "UPDATE audit_events SET action = 'task.rejected' WHERE id = :id", id=edited.id
    )

    result = verify(session_factory)
    assert not result.intact
    assert (result.seq, result.event_id) == (3, edited.id)
    assert "hash mismatch: the row was edited" in result.message


def test_verify_catches_an_edit_whose_hash_was_recomputed(db_engine, session_factory):
    write_events(session_factory, 4)
    rows = chain(session_factory)
    forged = rows[1]
    forged.details = {"number": 99}
    behind_the_engines_back(
        db_engine,
        "UPDATE audit_events SET details = :details, hash = :hash WHERE id = :id",
        details='{"number": 99}',
        hash=audit.event_hash(forged),
        id=forged.id,
    )

    result = verify(session_factory)
    assert (result.seq, result.event_id) == (3, rows[2].id)
    assert "prev_hash does not match" in result.problem


def test_verify_reports_the_gap_a_deleted_event_leaves(db_engine, session_factory):
    write_events(session_factory, 5)
    rows = chain(session_factory)
    behind_the_engines_back(db_engine, "DELETE FROM audit_events WHERE id = :id", id=rows[1].id)

    result = verify(session_factory)
    assert not result.intact
    assert result.seq == 2
    assert f"seq 2 to 2 missing before event id {rows[2].id}: rows were removed" in result.message


def test_verify_reports_removed_last_events_and_foreign_rows(db_engine, session_factory):
    write_events(session_factory, 3)
    rows = chain(session_factory)
    behind_the_engines_back(db_engine, "DELETE FROM audit_events WHERE id = :id", id=rows[2].id)
    result = verify(session_factory)
    assert (result.seq, result.problem) == (3, "the head says 3 events: the last ones were removed")

    behind_the_engines_back(db_engine, "DELETE FROM audit_events")
    with db_engine.begin() as conn:
        conn.execute(sa.delete(AuditChainHead))
        conn.execute(sa.insert(AuditEvent).values(action="forged", at=rows[0].at, details={}, chain_seq=None))
    result = verify(session_factory)
    assert "head row is missing" in result.problem


def test_an_event_inserted_without_a_seq_is_reported(db_engine, session_factory):
    write_events(session_factory, 2)
    at = chain(session_factory)[0].at
    with db_engine.begin() as conn:
        forged_id = conn.execute(
            sa.insert(AuditEvent).values(action="forged", at=at, details={}).returning(AuditEvent.id)
        ).scalar_one()
    result = verify(session_factory)
    assert result.event_id == forged_id
    assert "1 events carry no seq" in result.problem


def test_concurrent_writers_leave_no_gaps_and_no_duplicates(session_factory):
    # The race is real on PostgreSQL; on SQLite BEGIN IMMEDIATE queues the writers instead.
    threads, per_thread = 8, 15
    barrier = threading.Barrier(threads)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with session_scope(session_factory) as s:
                    audit.record(s, "test.concurrent", thread=number, i=i)
                    audit.record(s, "test.concurrent.second", thread=number, i=i)
        except BaseException as exc:
            failures.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    assert failures == []
    seqs = [r.chain_seq for r in chain(session_factory)]
    assert seqs == list(range(1, threads * per_thread * 2 + 1))
    result = verify(session_factory)
    assert result.intact, result.message
    assert result.events == threads * per_thread * 2


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'chain.sqlite3'}"
        return
    url = _create_postgres_database()
    try:
        yield url
    finally:
        _drop_postgres_database(url)


def test_migration_chains_the_events_written_before_it(empty_database_url):
    command.upgrade(alembic_config(empty_database_url), "0001")
    db = make_engine(empty_database_url)
    try:
        with db.begin() as conn:
            for action in ("definition.deployed", "instance.started"):
                conn.execute(
                    sa.text("INSERT INTO audit_events (at, action, details) VALUES (:at, :action, :details)"),
                    {"at": "2026-01-05 10:00:00.123456+00:00", "action": action, "details": '{"key": "k"}'},
                )
        upgrade_database(empty_database_url)

        factory = make_session_factory(db)
        with session_scope(factory) as s:
            audit.record(s, "after.migration")
        with session_scope(factory) as s:
            result = audit.verify(s)
            assert result.intact, result.message
            assert result.events == 3
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.begin() as conn:
            conn.execute(sa.text("DELETE FROM audit_events"))
    finally:
        db.dispose()


def test_events_of_a_session_closed_without_commit_do_not_leak_into_its_next_transaction(session_factory):
    s = session_factory()
    audit.record(s, "test.abandoned")
    s.execute(select(1))
    s.close()
    audit.record(s, "test.kept")
    s.commit()
    s.close()
    assert [r.action for r in chain(session_factory)] == ["test.kept"]
