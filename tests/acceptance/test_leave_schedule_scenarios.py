"""A23 (hr-domain §8): the leave schedule's notice, due two weeks before the start (ст. 123 ч.3).

Schedule start 2025-07-14 → notice due 2025-06-30. The daily sweep sends the notice a week before
it is due (from 06-23); the due day itself is still in time; unsigned after it, the employee may
demand the leave be moved (ст. 124 ч.2) and is told so. A signed notice opens no such right.
"""

from __future__ import annotations

from datetime import date

from engine import clock
from engine.db import session_scope
from engine.services import leave_schedule
from tests.acceptance.conftest import adjust, only_task, put_table, submitted

NOTICES = "/api/v1/leave/schedule/notices"


def _sweep(session_factory, move_clock, day: date) -> leave_schedule.SweepResult:
    """The daily sweep as the scheduler runs it: at 07:00 company time on ``day``."""
    move_clock(clock.local_moment(day, 7))
    with session_scope(session_factory) as s:
        return leave_schedule.send_notices(s, clock.today())


def _notices(client, person, **query) -> list[dict]:
    response = client.get(NOTICES, query_string=query, headers=person.headers)
    assert response.status_code == 200, response.json
    return response.json


def _kinds(client, person) -> list[str]:
    return [n["kind"] for n in client.get("/api/v1/notifications", headers=person.headers).json]


def test_a23_unsigned_notice_lets_the_employee_demand_a_move(client, world, session_factory, move_clock):
    hr, anna, boris = world["hr"], world["employee_sales_1"], world["employee_sales_2"]
    put_table(
        client,
        hr,
        "leave_schedule",
        [
            {"email": anna.email, "start": "2025-07-14", "days": 14, "leave_type": "annual"},
            {"email": boris.email, "start": "2025-07-14", "days": 14, "leave_type": "annual"},
            {"email": "left.long.ago@demo.approute.test", "start": "2025-07-14", "days": 7},
        ],
    )

    assert _sweep(session_factory, move_clock, date(2025, 6, 20)).sent == []  # more than 3 weeks ahead
    assert _notices(client, anna) == []

    first = _sweep(session_factory, move_clock, date(2025, 6, 23))
    assert len(first.sent) == 2 and first.unknown_people == 1
    (notice,) = _notices(client, anna)
    assert notice["start"] == "2025-07-14" and notice["notice_due"] == "2025-06-30"
    assert notice["may_move"] is False and notice["acknowledged_at"] is None
    assert _kinds(client, anna) == ["leave_schedule_notice"]
    (told,) = client.get("/api/v1/notifications", headers=anna.headers).json
    assert told["subject"] == "Уведомление о начале отпуска 14.07.2025"
    assert "не позднее 30.06.2025" in told["body"]

    # Boris signs on the due day itself: in time.
    move_clock(clock.local_moment(date(2025, 6, 30), 12))
    (his,) = _notices(client, boris)
    signed = client.post(f"{NOTICES}/{his['id']}/acknowledge", headers=boris.headers)
    assert signed.status_code == 200 and signed.json["acknowledged_at"] is not None

    assert _sweep(session_factory, move_clock, date(2025, 6, 30)).may_move == []  # the due day is in time
    late = _sweep(session_factory, move_clock, date(2025, 7, 1))
    assert late.sent == [] and late.may_move == [notice["id"]]

    assert _notices(client, anna)[0]["may_move"] is True
    assert _notices(client, boris)[0]["may_move"] is False
    assert _kinds(client, anna) == ["leave_schedule_may_move", "leave_schedule_notice"]
    assert _kinds(client, boris) == ["leave_schedule_notice"]
    # Running again tells nobody twice.
    again = _sweep(session_factory, move_clock, date(2025, 7, 2))
    assert again.sent == [] and again.may_move == []
    assert len(_kinds(client, anna)) == 2


def test_hr_sees_every_notice_and_others_only_their_own(client, world, session_factory, move_clock):
    hr, anna, boris = world["hr"], world["employee_sales_1"], world["employee_sales_2"]
    put_table(
        client,
        hr,
        "leave_schedule",
        [
            {"email": anna.email, "start": "2025-07-14", "days": 14},
            {"email": boris.email, "start": "2025-08-04", "days": 7},
        ],
    )
    late = _sweep(session_factory, move_clock, date(2025, 7, 8))  # Anna's notice goes out late
    assert len(late.sent) == 1 and late.may_move == late.sent  # late at once: she may demand a move
    _sweep(session_factory, move_clock, date(2025, 7, 14))  # Boris's goes out; Anna's leave has begun

    assert {n["email"] for n in _notices(client, hr)} == {anna.email, boris.email}
    assert [n["email"] for n in _notices(client, hr, email=boris.email)] == [boris.email]
    assert [n["email"] for n in _notices(client, anna)] == [anna.email]
    refused = client.get(NOTICES, query_string={"email": boris.email}, headers=anna.headers)
    unknown = client.get(NOTICES, query_string={"email": "nobody@demo.approute.test"}, headers=anna.headers)
    assert refused.status_code == unknown.status_code == 404
    (hers,) = _notices(client, anna)
    not_his = client.post(f"{NOTICES}/{hers['id']}/acknowledge", headers=boris.headers)
    assert not_his.status_code == 404 and not_his.json["message"] == f"no leave schedule notice {hers['id']}"
    assert _notices(client, anna)[0]["acknowledged_at"] is None


def test_the_schedule_table_is_checked_like_any_rule_table(client, world):
    response = client.put(
        "/api/v1/rule-tables/leave_schedule",
        json={"rows": [{"email": "a@b.c", "start": "14.07.2025", "days": 0}], "comment": "typo"},
        headers={**world["hr"].headers, "If-Match": "*"},
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json["errors"]}
    assert {"start", "days"} <= {f.split(".")[-1] for f in fields}
    employee = client.get("/api/v1/rule-tables/leave_schedule", headers=world["employee_sales_1"].headers)
    assert employee.status_code == 403


def test_a23_the_move_by_right_skips_the_managers_refusal(client, world, session_factory, move_clock, clock):
    hr, anna, boris = world["hr"], world["employee_sales_1"], world["employee_sales_2"]
    put_table(
        client,
        hr,
        "leave_schedule",
        [
            {"email": p.email, "start": "2025-07-14", "days": 14, "leave_type": "annual"}
            for p in (anna, boris)
        ],
    )
    _sweep(session_factory, move_clock, date(2025, 6, 23))
    (his,) = _notices(client, boris)
    assert client.post(f"{NOTICES}/{his['id']}/acknowledge", headers=boris.headers).status_code == 200
    _sweep(session_factory, move_clock, date(2025, 7, 1))
    clock(date(2025, 7, 1))
    for person in (anna, boris):
        adjust(client, hr, person, 28)

    moved = submitted(client, anna, "annual", "2025-08-04", "2025-08-17", moves_scheduled_start="2025-07-14")
    assert moved["data"]["scheduled_move_by_right"] is True
    assert only_task(client, anna, moved["id"])["element_id"] == "hr_registration"  # no manager step

    # Boris signed in time: moving his leave is agreed with his manager as usual.
    agreed = submitted(
        client, boris, "annual", "2025-08-04", "2025-08-17", moves_scheduled_start="2025-07-14"
    )
    assert "scheduled_move_by_right" not in agreed["data"]
    assert only_task(client, boris, agreed["id"])["element_id"] == "manager_approval"
