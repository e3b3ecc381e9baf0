"""The leave ledger in the database (engine/services/leave_ledger.py): balances from the hire date,
HR's adjustments, carry-over, and a request's reservation, release and booking, each idempotent."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from engine.db import session_scope
from engine.errors import Conflict, InvalidData
from engine.models import AuditEvent, LeaveLedgerEntry, LedgerKind, User
from engine.services import leave_ledger
from tests.engine.helpers import bundle_file, deploy, start

HIRED = date(2025, 3, 10)


@pytest.fixture
def anna(session_factory, org):
    """employee_sales_1, hired 2025-03-10."""
    with session_scope(session_factory) as s:
        s.get(User, org["employee_sales_1"].id).hire_date = HIRED
    return org["employee_sales_1"]


@pytest.fixture
def requests(session_factory, org, anna):
    """Make real process instances of ``anna`` (the ledger refers to them)."""
    deploy(session_factory, bundle_file("rework_loop.bpmn"))

    def make() -> uuid.UUID:
        return start(session_factory, "rework_loop", anna, {"rounds": 1}).id

    return make


def annual(session_factory, person, as_of) -> dict[str, Decimal]:
    with session_scope(session_factory) as s:
        return leave_ledger.balance(s, s.get(User, person.id), as_of).balances["annual"].as_dict()


def adjust(session_factory, person, days, *, by=None, leave_type="annual", reason="correction", on=None):
    with session_scope(session_factory) as s:
        actor = s.get(User, by.id) if by else None
        return leave_ledger.adjust(
            s, s.get(User, person.id), leave_type=leave_type, days=days, reason=reason, actor=actor, on=on
        ).id


def entries(session_factory, instance_id=None) -> list[tuple[str, str, Decimal]]:
    with session_scope(session_factory) as s:
        query = select(LeaveLedgerEntry).order_by(LeaveLedgerEntry.id)
        if instance_id is not None:
            query = query.where(LeaveLedgerEntry.instance_id == instance_id)
        return [(e.kind.value, e.leave_type, e.days) for e in s.scalars(query)]


def test_balance_accrues_from_the_hire_date(session_factory, anna):
    # 10 Mar..9 Aug 2025 is 5 months, 10..29 Aug 20 days (≥ 15) → 6 months → 6 × 28/12 = 14.00
    figures = annual(session_factory, anna, date(2025, 8, 29))
    assert figures["accrued"] == Decimal("14.00")
    assert figures["available"] == Decimal("14.00")
    assert figures["entitled"] == Decimal("28.00")
    # 5 months and 14 days → 5 months → 11.67 (11.666… rounded up)
    assert annual(session_factory, anna, date(2025, 8, 23))["available"] == Decimal("11.67")
    with session_scope(session_factory) as s:
        result = leave_ledger.balance(s, s.get(User, anna.id), date(2025, 8, 29))
        assert (result.working_year.start, result.working_year.end) == (HIRED, date(2026, 3, 9))
        # Types that do not accrue start at nothing.
        assert result.balances["additional"].as_dict()["available"] == Decimal("0.00")
        assert set(result.balances) == {"annual", "additional", "unpaid_agreed", "unpaid_mandatory", "study"}


def test_without_a_hire_date_only_adjustments_count(session_factory, org):
    person = org["employee_ops_1"]
    with session_scope(session_factory) as s:
        s.get(User, person.id).hire_date = None  # the demo seed gives everyone one
    adjust(session_factory, person, 5, on=date(2025, 6, 1))
    figures = annual(session_factory, person, date(2025, 8, 29))
    assert (figures["accrued"], figures["available"]) == (Decimal("0.00"), Decimal("5.00"))
    with session_scope(session_factory) as s:
        (entry,) = s.scalars(select(LeaveLedgerEntry))
        assert entry.working_year == date(2025, 1, 1)  # no hire date: the calendar year


def test_adjustments_add_and_take_away_and_are_audited_without_the_reason(session_factory, org, anna):
    adjust(session_factory, anna, "3.5", by=org["hr"], reason="Перенос с прошлого места работы")
    adjust(session_factory, anna, -1, by=org["hr"], reason="ошибка")
    today = leave_ledger.today()
    expected = annual(session_factory, anna, today)
    assert expected["adjustments"] == Decimal("2.50")
    with session_scope(session_factory) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "leave.adjusted")).all()
    assert [e.details["days"] for e in events] == ["3.50", "-1.00"]
    for event in events:
        assert event.subject_id == anna.id and event.actor_id == org["hr"].id
        assert set(event.details) == {"entry_id", "kind", "leave_type", "days"}
        assert "Перенос" not in str(event.details)


@pytest.mark.parametrize(
    ("leave_type", "days", "reason", "fields"),
    [
        ("holiday", 3, "x", {"leave_type"}),
        ("annual", 0, "x", {"days"}),
        ("annual", "1.005", "x", {"days"}),
        ("annual", "many", "x", {"days"}),
        ("annual", 400, "x", {"days"}),
        ("annual", 3, "   ", {"reason"}),
        (None, None, None, {"leave_type", "days", "reason"}),
    ],
)
def test_bad_adjustments_are_refused_per_field(session_factory, anna, leave_type, days, reason, fields):
    with pytest.raises(InvalidData) as refused:
        adjust(session_factory, anna, days, leave_type=leave_type, reason=reason)
    assert {p["field"] for p in refused.value.details} == fields
    assert entries(session_factory) == []


def test_unused_days_carry_over_into_the_next_working_year(session_factory, anna, requests):
    # Year one (10 Mar 2025..9 Mar 2026): 10 days taken.
    taken = requests()
    with session_scope(session_factory) as s:
        leave_ledger.reserve(s, s.get(User, anna.id), "annual", 10, taken, on=date(2025, 7, 1))
        leave_ledger.book(s, taken)
    # First day of year two: 28 − 10 = 18 carried, nothing accrued yet.
    figures = annual(session_factory, anna, date(2026, 3, 10))
    assert (figures["carried"], figures["used"], figures["accrued"]) == (
        Decimal("18.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    # Two years later nothing has expired (L-12): 3 × 28 − 10 = 74 carried.
    assert annual(session_factory, anna, date(2028, 3, 10))["available"] == Decimal("74.00")


def test_reserve_release_and_book_are_idempotent(session_factory, anna, requests):
    pending, approved = requests(), requests()
    as_of = date(2025, 10, 9)  # 7 months → 16.34 accrued
    with session_scope(session_factory) as s:
        person = s.get(User, anna.id)
        first = leave_ledger.reserve(s, person, "annual", 5, pending, on=as_of).id
        again = leave_ledger.reserve(s, person, "annual", "5.00", pending, on=as_of).id
        leave_ledger.reserve(s, person, "annual", 7, approved, on=as_of)
    assert first == again
    held = annual(session_factory, anna, as_of)
    assert (held["reserved"], held["available"]) == (Decimal("12.00"), Decimal("4.34"))

    with session_scope(session_factory) as s:
        assert len(leave_ledger.release(s, pending)) == 1
        assert leave_ledger.release(s, pending) == []  # twice = once
        assert len(leave_ledger.book(s, approved)) == 1
        assert leave_ledger.book(s, approved) == []  # twice = once
        assert leave_ledger.release(s, approved) == []  # booked days are not released
        assert leave_ledger.release(s, uuid.uuid4()) == []  # nothing held: nothing to do
    figures = annual(session_factory, anna, as_of)
    assert (figures["reserved"], figures["used"], figures["available"]) == (
        Decimal("0.00"),
        Decimal("7.00"),
        Decimal("9.34"),
    )
    assert entries(session_factory, pending) == [
        ("reservation", "annual", Decimal("5.00")),
        ("release", "annual", Decimal("5.00")),
    ]
    assert entries(session_factory, approved) == [
        ("reservation", "annual", Decimal("7.00")),
        ("release", "annual", Decimal("7.00")),
        ("use", "annual", Decimal("7.00")),
    ]
    with session_scope(session_factory) as s:
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("leave.%")).order_by(AuditEvent.chain_seq)
        ).all()
    assert actions == ["leave.reserved", "leave.reserved", "leave.released", "leave.booked"]


def test_a_released_hold_cannot_be_booked_and_holds_do_not_change(session_factory, anna, requests):
    cancelled, held, bare, other = requests(), requests(), requests(), requests()
    with session_scope(session_factory) as s:
        person = s.get(User, anna.id)
        leave_ledger.reserve(s, person, "annual", 5, cancelled)
        leave_ledger.release(s, cancelled)
        leave_ledger.reserve(s, person, "annual", 3, held)
    with session_scope(session_factory) as s, pytest.raises(Conflict, match="released"):
        leave_ledger.book(s, cancelled)
    with session_scope(session_factory) as s, pytest.raises(Conflict, match="released or used"):
        leave_ledger.reserve(s, s.get(User, anna.id), "annual", 5, cancelled)
    with session_scope(session_factory) as s, pytest.raises(Conflict, match="different reservation"):
        leave_ledger.reserve(s, s.get(User, anna.id), "annual", 4, held)
    with session_scope(session_factory) as s, pytest.raises(Conflict, match="no reserved days"):
        leave_ledger.book(s, bare)
    with session_scope(session_factory) as s, pytest.raises(InvalidData):
        leave_ledger.reserve(s, s.get(User, anna.id), "annual", -2, other)
    with session_scope(session_factory) as s:
        count = s.scalar(select(func.count()).select_from(LeaveLedgerEntry))
    assert count == 3  # two reservations and one release; nothing from the refused calls


def test_a_racing_duplicate_row_is_absorbed_by_its_savepoint(session_factory, anna, requests):
    """What a retry racing the first call meets: the unique row refuses the copy, and the
    transaction carries on (the savepoint, not the whole unit of work, is rolled back)."""
    instance_id = requests()
    with session_scope(session_factory) as s:
        first = leave_ledger.reserve(s, s.get(User, anna.id), "annual", 5, instance_id)
        copy = LeaveLedgerEntry(
            user_id=anna.id,
            leave_type="annual",
            kind=LedgerKind.RESERVATION,
            days=Decimal(5),
            working_year=first.working_year,
            instance_id=instance_id,
        )
        assert leave_ledger._insert_once(s, [copy]) is False
        assert leave_ledger.reserve(s, s.get(User, anna.id), "annual", 5, instance_id).id == first.id
    assert entries(session_factory, instance_id) == [("reservation", "annual", Decimal("5.00"))]


def test_unpaid_leave_beyond_14_days_moves_the_working_year(session_factory, anna, requests):
    unpaid = requests()
    with session_scope(session_factory) as s:
        leave_ledger.reserve(s, s.get(User, anna.id), "unpaid_agreed", 20, unpaid, on=date(2025, 6, 1))
        leave_ledger.book(s, unpaid)
    with session_scope(session_factory) as s:
        # 20 − 14 = 6 days: year one ends 2026-03-15 instead of 2026-03-09 (L-05, A09)
        result = leave_ledger.balance(s, s.get(User, anna.id), date(2026, 3, 12))
        assert result.working_year.end == date(2026, 3, 15)
        assert result.balances["annual"].as_dict()["carried"] == Decimal("0.00")
        after = leave_ledger.balance(s, s.get(User, anna.id), date(2026, 3, 16))
        assert after.working_year.start == date(2026, 3, 16)
        assert after.balances["annual"].as_dict()["carried"] == Decimal("28.00")
        # Unpaid leave needs no balance; its use shows, and nothing accrues for it.
        assert after.balances["unpaid_agreed"].as_dict()["carried"] == Decimal("-20.00")
