"""Leave balances and HR's ledger adjustments over the API (/api/v1/leave)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.models import AuditEvent, LeaveLedgerEntry, User
from tests.api.helpers import assert_error, field_errors

FIGURES = {"entitled", "accrued", "carried", "used", "reserved", "adjustments", "available"}


@pytest.fixture
def anna(session_factory, org):
    """employee_sales_1, hired 2025-03-10."""
    with session_scope(session_factory) as s:
        s.get(User, org["employee_sales_1"].id).hire_date = date(2025, 3, 10)
    return org["employee_sales_1"]


def balance(client, caller, email=None, as_of="2025-08-29"):
    query = {"as_of": as_of} | ({"email": email} if email else {})
    return client.get("/api/v1/leave/balance", query_string=query, headers=caller.headers)


def post(client, caller, body):
    return client.post("/api/v1/leave/ledger", json=body, headers=caller.headers)


def test_own_balance_accrues_from_the_hire_date(client, anna):
    response = balance(client, anna)  # no e-mail: my own
    assert response.status_code == 200, response.json
    body = response.json
    assert body["email"] == anna.email
    assert body["working_year"] == {"start": "2025-03-10", "end": "2026-03-09"}
    annual = body["balances"]["annual"]
    assert set(annual) == FIGURES
    # 5 months + 20 days (10..29 Aug) → 6 months → 6 × 28/12 = 14.00, a JSON number
    assert annual["accrued"] == 14.0 and annual["available"] == 14.0
    assert isinstance(annual["available"], float)
    assert annual["entitled"] == 28.0
    # 5 months + 14 days → 5 months → 11.67
    assert balance(client, anna, as_of="2025-08-23").json["balances"]["annual"]["available"] == 11.67


@pytest.mark.parametrize(
    ("viewer", "status"),
    [
        ("employee_sales_1", 200),
        ("manager_sales", 200),
        ("director", 200),
        ("hr", 200),
        ("employee_sales_2", 404),
        ("manager_ops", 404),
        ("designer", 404),
    ],
)
def test_who_may_read_a_balance(client, org, anna, viewer, status):
    response = balance(client, org[viewer], anna.email)
    if status == 200:
        assert response.status_code == 200, response.json
        assert response.json["balances"]["annual"]["available"] == 14.0
        return
    hidden = assert_error(response, 404)
    missing = assert_error(balance(client, org[viewer], "nobody@demo.approute.test"), 404)
    assert hidden["message"].replace(anna.email, "X") == missing["message"].replace(
        "nobody@demo.approute.test", "X"
    )


def test_hr_posts_an_adjustment_and_gets_the_new_balance(client, org, anna, session_factory):
    response = post(
        client,
        org["hr"],
        {"email": anna.email, "leave_type": "annual", "days": 3.5, "reason": "перенос из 1С"},
    )
    assert response.status_code == 201, response.json
    entry = response.json["entry"]
    assert entry["kind"] == "adjustment" and entry["days"] == 3.5 and entry["leave_type"] == "annual"
    assert entry["created_by"] == org["hr"].email and entry["email"] == anna.email
    new_balance = response.json["balance"]["balances"]["annual"]
    assert new_balance["adjustments"] == 3.5

    taken = post(
        client, org["hr"], {"email": anna.email, "leave_type": "annual", "days": -1.25, "reason": "ошибка"}
    )
    assert taken.status_code == 201, taken.json
    after = balance(client, anna, as_of=None).json["balances"]["annual"]
    assert after["adjustments"] == 2.25
    with session_scope(session_factory) as s:
        rows = s.scalars(select(LeaveLedgerEntry).order_by(LeaveLedgerEntry.id)).all()
        assert [(r.kind.value, str(r.days), r.created_by_id) for r in rows] == [
            ("adjustment", "3.50", org["hr"].id),
            ("adjustment", "-1.25", org["hr"].id),
        ]
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "leave.adjusted")).all()
        assert [e.details["days"] for e in events] == ["3.50", "-1.25"]
        assert all(e.subject_id == anna.id for e in events)
        assert not any("1С" in str(e.details) or "ошибка" in str(e.details) for e in events)


def test_admin_may_adjust(client, org, anna, admin):
    body = {"email": anna.email, "leave_type": "additional", "days": 3, "reason": "ненормированный день"}
    response = post(client, admin, body)
    assert response.status_code == 201, response.json
    assert response.json["balance"]["balances"]["additional"]["available"] == 3.0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"leave_type": "holiday", "days": 1, "reason": "x"}, {"leave_type"}),
        ({"leave_type": "annual", "days": 0, "reason": "x"}, {"days"}),
        ({"leave_type": "annual", "days": "lots", "reason": "x"}, {"days"}),
        ({"leave_type": "annual", "days": 1.005, "reason": "x"}, {"days"}),
        ({"leave_type": "annual", "days": 2}, {"reason"}),
        ({"leave_type": "annual", "days": 2, "reason": "  "}, {"reason"}),
        ({}, {"leave_type", "days", "reason"}),
    ],
)
def test_bad_adjustments_are_422_per_field_and_write_nothing(
    client, org, anna, session_factory, body, fields
):
    response = post(client, org["hr"], {"email": anna.email, **body})
    errors = field_errors(assert_error(response, 422))
    assert set(errors) == fields
    with session_scope(session_factory) as s:
        assert s.scalars(select(LeaveLedgerEntry)).all() == []


def test_unknown_person_is_404_and_other_roles_are_403(client, org, anna):
    body = {"leave_type": "annual", "days": 1, "reason": "x"}
    assert_error(post(client, org["hr"], {"email": "nobody@demo.approute.test", **body}), 404)
    for role in ("employee_sales_1", "manager_sales", "director", "designer"):
        assert_error(post(client, org[role], {"email": anna.email, **body}), 403)
