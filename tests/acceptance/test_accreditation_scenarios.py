"""Acceptance scenarios A35-A37 (hr-domain §8): periodic accreditation and mandatory training, and the
accreditation route's stages.

The daily sweeps are called with the scenario's day, as the scheduler calls them; the clock is moved
to that day too, so what the API shows ("today", days left) is the scenario's. The Given part (a
doctor's accreditation and hours, a roster, a training date) is set up directly; what people do
(start, upload, complete tasks, read their status, HR records a date) goes through the API.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine import clock
from engine.db import session_scope
from engine.models import Notification, PersonQualification, ProcessInstance, User
from engine.services import accreditation, trainings
from engine.services.definitions import deploy_bundle
from engine.services.person_facts import Qualification
from processes import PROCESS_DIR, bundle_files
from tests.acceptance.conftest import complete, completed, instance, only_task, rules_of

ACCR = "MEDICAL_ACCREDITATION"
EXPIRY = date(2026, 4, 1)
PDF = b"%PDF-1.4\n% scan\n"
ALL_DOCUMENTS = [code for code, _title in accreditation.CHECKLIST]


@pytest.fixture
def accreditation_route(session_factory, world):
    with session_scope(session_factory) as s:
        deploy_bundle(s, bundle_files(PROCESS_DIR / "accreditation"), actor=None)


@pytest.fixture
def doctor(hire, world, accreditation_route):
    """A doctor in OPS (head: manager_ops), accreditation valid until 2026-04-01, ЗЕТ = 100, with shifts."""
    return hire(
        "doctor",
        department="OPS",
        manager=world["manager_ops"].email,
        flags={
            "shift_worker": True,
            "zet_hours": {ACCR: 100},
            "shifts": [
                {"id": "s1", "start": "2026-03-31T20:00:00", "end": "2026-04-01T08:00:00"},
                {"id": "s2", "start": "2026-04-03T08:00:00", "end": "2026-04-03T20:00:00"},
                {"id": "s3", "start": "2026-04-05T08:00:00", "end": "2026-04-05T20:00:00"},
            ],
        },
        qualifications=[Qualification(ACCR, "ACC-77", date(2021, 4, 1), EXPIRY)],
    )


@pytest.fixture
def sweep(session_factory, move_clock):
    """``sweep(day, fn)``: the clock moves to that day's morning and the sweep runs for it."""

    def run(day: date, fn=accreditation.sweep) -> None:
        move_clock(clock.local_moment(day, 6))
        with session_scope(session_factory) as s:
            fn(s, day)

    return run


def notices(session_factory, user_id: int, kind: str) -> list[dict]:
    with session_scope(session_factory) as s:
        rows = s.scalars(
            select(Notification).where(Notification.user_id == user_id, Notification.kind == kind)
        ).all()
        return [dict(r.params) for r in rows]


def status_of(client, viewer, person) -> dict:
    response = client.get(f"/api/v1/accreditation/status?email={person.email}", headers=viewer.headers)
    assert response.status_code == 200, response.json
    return response.json


def upload(client, person, instance_id, kinds) -> None:
    for kind in kinds:
        response = client.post(
            f"/api/v1/instances/{instance_id}/documents",
            data={"kind": kind, "file": (io.BytesIO(PDF), f"{kind}.pdf")},
            headers=person.headers,
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.json


def started(client, doctor, sweep) -> str:
    """The window opens on 2025-04-01: the sweep starts the doctor's accreditation; its id."""
    sweep(date(2025, 4, 1))
    (accreditation_status,) = status_of(client, doctor, doctor)["accreditations"]
    return accreditation_status["instance_id"]


# --- A35 -----------------------------------------------------------------------------------------------


def test_a35_the_window_opens_a_year_before_expiry(client, world, doctor, sweep, session_factory):
    sweep(date(2025, 3, 31))  # a day early: nothing yet
    assert notices(session_factory, doctor.id, "accreditation_window_open") == []

    sweep(date(2025, 4, 1))

    (notice,) = notices(session_factory, doctor.id, "accreditation_window_open")
    assert notice["hours_to_go"] == 44 and notice["zet_required"] == 144
    assert notice["summary"] == "44 hours to go to 144"
    assert notice["expiry"] == "2026-04-01"
    (shown,) = status_of(client, doctor, doctor)["accreditations"]
    assert shown["status"] == "window_open" and shown["summary"] == "44 hours to go to 144"
    assert shown["stage"] == "preparing" and shown["instance_id"]
    # The request is the doctor's own, and its first task is theirs: draft the report (then the head).
    body = instance(client, doctor, shown["instance_id"])
    assert body["data"]["hours_to_go"] == 44 and body["data"]["expiry_date"] == "2026-04-01"
    task = only_task(client, doctor, shown["instance_id"])
    assert task["element_id"] == "draft_report" and task["assignee"] == doctor.email

    sweep(date(2025, 4, 1))  # the job runs again: nothing twice
    assert len(notices(session_factory, doctor.id, "accreditation_window_open")) == 1
    with session_scope(session_factory) as s:
        assert len(s.scalars(select(ProcessInstance)).all()) == 1


def test_a35_through_the_scheduler(client, world, doctor, background, move_clock, session_factory):
    move_clock(clock.local_moment(date(2025, 3, 31), 7))
    background()  # the scheduler writes each sweep's next run: 06:00 tomorrow
    assert notices(session_factory, doctor.id, "accreditation_window_open") == []

    move_clock(
        clock.local_moment(
            date(2025, 4, 1),
            6,
        )
        + timedelta(minutes=5)
    )
    background()

    (notice,) = notices(session_factory, doctor.id, "accreditation_window_open")
    assert notice["summary"] == "44 hours to go to 144"
    assert status_of(client, doctor, doctor)["accreditations"][0]["stage"] == "preparing"


def test_reminders_go_once_at_each_offset(client, world, doctor, sweep, session_factory):
    started(client, doctor, sweep)
    sweep(date(2025, 10, 1))  # 6 months before
    sweep(date(2025, 10, 2))
    sweep(date(2026, 3, 18))  # 14 days before: the 3- and 1-month ones were missed, only this one goes
    reminders = notices(session_factory, doctor.id, "accreditation_reminder")
    assert [(r["before_expiry"], r["days_left"], r["hours_to_go"]) for r in reminders] == [
        ("6m", 182, 44),
        ("14d", 14, 44),
    ]


# --- A36 -----------------------------------------------------------------------------------------------


def test_a36_not_filed_by_expiry(client, world, doctor, sweep, session_factory):
    started(client, doctor, sweep)
    sweep(date(2026, 4, 1))  # the last valid day
    assert notices(session_factory, doctor.id, "accreditation_expired") == []

    sweep(date(2026, 4, 2))

    head, hr = world["manager_ops"], world["hr"]
    shown = status_of(client, head, doctor)["accreditations"][0]
    assert shown["status"] == "expired"
    assert [s["id"] for s in shown["shifts_after_expiry"]] == ["s2", "s3"]  # s1 ends on 04-01
    assert status_of(client, hr, doctor)["accreditations"][0]["status"] == "expired"
    for person in (doctor, head, hr):
        (alert,) = notices(session_factory, person.id, "accreditation_expired")
        assert alert["shift_dates"] == ["2026-04-03", "2026-04-05"] and alert["person_id"] == doctor.id
    with session_scope(session_factory) as s:
        assert s.get(User, doctor.id).flags["accreditation_expired"] == [ACCR]
    sweep(date(2026, 4, 3))
    assert len(notices(session_factory, head.id, "accreditation_expired")) == 1


def test_the_status_is_hidden_from_people_outside_the_line(client, world, doctor):
    response = client.get(
        f"/api/v1/accreditation/status?email={doctor.email}", headers=world["manager_sales"].headers
    )
    assert response.status_code == 404


# --- A37 -----------------------------------------------------------------------------------------------


def test_a37_labour_safety_training_due_soon_then_overdue_then_recorded(
    client, world, hire, sweep, session_factory
):
    worker = hire(
        "fitter",
        department="OPS",
        manager=world["manager_ops"].email,
        qualifications=[Qualification("LABOUR_SAFETY", None, date(2023, 2, 10), None)],
    )
    sweep(date(2026, 1, 10), trainings.sweep)  # 31 days before: ok, no notice
    assert status_of(client, worker, worker)["trainings"][0]["status"] == "ok"

    sweep(date(2026, 1, 11), trainings.sweep)

    (shown,) = status_of(client, worker, worker)["trainings"]
    assert (shown["status"], shown["due"], shown["days_left"]) == ("due_soon", "2026-02-10", 30)
    (notice,) = notices(session_factory, worker.id, "training_due_soon")
    assert notice["due"] == "2026-02-10" and notice["code"] == "LABOUR_SAFETY"

    sweep(date(2026, 2, 10), trainings.sweep)  # the due day itself is not overdue yet
    assert status_of(client, worker, worker)["admission"] is True
    sweep(date(2026, 2, 11), trainings.sweep)

    body = status_of(client, world["manager_ops"], worker)
    assert body["trainings"][0]["status"] == "overdue"
    assert body["admission"] is False and body["admission_blocked_by"] == ["LABOUR_SAFETY"]
    assert len(notices(session_factory, worker.id, "training_overdue")) == 1
    assert len(notices(session_factory, world["manager_ops"].id, "training_overdue")) == 1
    assert len(notices(session_factory, worker.id, "training_due_soon")) == 1  # once per due date
    with session_scope(session_factory) as s:
        flags = s.get(User, worker.id).flags
        assert flags["admission"] is False and flags["admission_blocked_by"] == ["LABOUR_SAFETY"]

    # HR records the new training: admission is back on at once, the next one due in 3 years.
    response = client.patch(
        f"/api/v1/users/{worker.email}",
        json={"qualifications": [{"code": "LABOUR_SAFETY", "valid_from": "2026-02-12"}]},
        headers=world["hr"].headers,
    )
    assert response.status_code == 200, response.json
    assert response.json["qualifications"][0]["valid_until"] == "2029-02-12"
    with session_scope(session_factory) as s:
        flags = s.get(User, worker.id).flags
        assert flags["admission"] is True and "admission_blocked_by" not in flags
    body = status_of(client, worker, worker)
    assert body["admission"] is True and body["trainings"][0]["status"] == "ok"


# --- the route's stages --------------------------------------------------------------------------------


def test_the_portfolio_is_refused_while_hours_or_documents_are_missing(client, world, doctor, sweep):
    instance_id = started(client, doctor, sweep)
    task = only_task(client, doctor, instance_id)

    response = complete(client, doctor, task["id"], {"zet_hours": 100, "report_summary": "5 years of work"})

    assert response.status_code == 422
    problems = rules_of(response.json)
    assert problems["ZET_HOURS_SHORT"]["params"] == {"hours": 100, "required": 144, "to_go": 44}
    assert problems["ZET_HOURS_SHORT"]["message"] == "44 hours to go to 144"
    assert problems["DOCUMENTS_MISSING"]["params"]["missing"] == ALL_DOCUMENTS

    upload(client, doctor, instance_id, ALL_DOCUMENTS[:-2])
    response = complete(client, doctor, task["id"], {"zet_hours": 150, "report_summary": "5 years of work"})
    assert response.status_code == 422
    assert set(rules_of(response.json)) == {"DOCUMENTS_MISSING"}
    assert rules_of(response.json)["DOCUMENTS_MISSING"]["params"]["missing"] == ["std_r", "snils"]
    assert "std_r, snils" in rules_of(response.json)["DOCUMENTS_MISSING"]["message"]


def _portfolio_sent(client, world, doctor, sweep, hours=150) -> str:
    instance_id = started(client, doctor, sweep)
    upload(client, doctor, instance_id, ALL_DOCUMENTS)
    task = only_task(client, doctor, instance_id)
    completed(client, doctor, task["id"], {"zet_hours": hours, "report_summary": "5 years of work"})
    return instance_id


def test_the_head_may_refuse_with_a_reason_and_it_goes_back(client, world, doctor, sweep):
    instance_id = _portfolio_sent(client, world, doctor, sweep)
    head = world["manager_ops"]
    task = only_task(client, doctor, instance_id)
    assert task["element_id"] == "head_approval" and task["assignee"] == head.email

    assert complete(client, head, task["id"], {"head_decision": "refuse"}).status_code == 422  # no reason
    completed(client, head, task["id"], {"head_decision": "refuse", "head_comment": "add the 2024 cases"})

    again = only_task(client, doctor, instance_id)
    assert again["element_id"] == "draft_report" and again["assignee"] == doctor.email
    assert instance(client, doctor, instance_id)["data"]["head_comment"] == "add the 2024 cases"


def test_accredited_moves_the_expiry_five_years_from_the_decision(
    client, world, doctor, sweep, session_factory, move_clock
):
    instance_id = _portfolio_sent(client, world, doctor, sweep)
    head, hr = world["manager_ops"], world["hr"]
    completed(client, head, only_task(client, doctor, instance_id)["id"], {"head_decision": "approve"})
    move_clock(clock.local_moment(date(2025, 6, 2), 10))
    submission = only_task(client, doctor, instance_id)
    assert submission["element_id"] == "record_submission"
    future = complete(client, doctor, submission["id"], {"submitted_on": "2025-06-03"})
    assert future.status_code == 422 and "DATE_IN_FUTURE" in rules_of(future.json)
    completed(client, doctor, submission["id"], {"submitted_on": "2025-06-02"})
    assert status_of(client, doctor, doctor)["accreditations"][0]["stage"] == "submitted"

    move_clock(clock.local_moment(date(2025, 7, 15), 10))
    result = only_task(client, doctor, instance_id)
    assert result["element_id"] == "record_result"
    assert complete(
        client, doctor, result["id"], {"result": "accredited", "decision_date": "2025-07-14"}
    ).status_code in (
        403,
        404,
    )  # HR records it, not the specialist
    completed(
        client,
        hr,
        result["id"],
        {"result": "accredited", "decision_date": "2025-07-14", "credential_number": "R-9"},
    )

    assert instance(client, doctor, instance_id)["status"] == "completed"
    with session_scope(session_factory) as s:
        row = s.scalar(select(PersonQualification).where(PersonQualification.user_id == doctor.id))
        assert (row.valid_from, row.valid_until, row.credential_number) == (
            date(2025, 7, 14),
            date(2030, 7, 14),
            "R-9",
        )
        assert s.get(User, doctor.id).flags["zet_hours"] == {ACCR: 0}  # a new cycle starts
    (shown,) = status_of(client, doctor, doctor)["accreditations"]
    assert shown["status"] == "valid" and shown["expiry"] == "2030-07-14" and shown["instance_id"] is None


def test_not_accredited_goes_back_to_preparing(client, world, doctor, sweep, move_clock):
    instance_id = _portfolio_sent(client, world, doctor, sweep)
    head, hr = world["manager_ops"], world["hr"]
    completed(client, head, only_task(client, doctor, instance_id)["id"], {"head_decision": "approve"})
    completed(client, doctor, only_task(client, doctor, instance_id)["id"], {"submitted_on": "2025-04-01"})
    completed(
        client,
        hr,
        only_task(client, doctor, instance_id)["id"],
        {"result": "not_accredited", "decision_date": "2025-04-01"},
    )
    task = only_task(client, doctor, instance_id)
    assert task["element_id"] == "draft_report" and task["assignee"] == doctor.email


def test_hr_starts_it_for_a_specialist_who_then_owns_it(client, world, doctor, move_clock):
    move_clock(clock.local_moment(date(2025, 5, 1), 10))
    hr = world["hr"]
    response = client.post(
        "/api/v1/definitions/accreditation/instances",
        json={"data": {"email": doctor.email}},
        headers=hr.headers,
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["data"]["specialty"] == ACCR and body["data"]["zet_hours"] == 100
    task = only_task(client, doctor, body["id"])
    assert task["element_id"] == "draft_report" and task["assignee"] == doctor.email
    # The doctor finds it among their own requests, as its initiator.
    mine = client.get("/api/v1/instances?key=accreditation", headers=doctor.headers)
    assert mine.status_code == 200, mine.json
    assert [(i["id"], i["initiator"]) for i in mine.json] == [(body["id"], doctor.email)]

    again = client.post(
        "/api/v1/definitions/accreditation/instances",
        json={"data": {"email": doctor.email}},
        headers=hr.headers,
    )
    assert again.status_code == 409  # one running accreditation per specialist and code


def test_only_hr_starts_one_for_someone_else(client, world, doctor):
    response = client.post(
        "/api/v1/definitions/accreditation/instances",
        json={"data": {"email": doctor.email}},
        headers=world["employee_ops_2"].headers,
    )
    assert response.status_code == 422
    assert "ACCREDITATION_FOR_OTHERS" in rules_of(response.json)
    nothing = client.post(
        "/api/v1/definitions/accreditation/instances",
        json={"data": {}},
        headers=world["employee_ops_2"].headers,
    )
    assert nothing.status_code == 422 and "ACCREDITATION_NONE" in rules_of(nothing.json)


def test_hr_records_zet_hours_as_a_person_fact(client, world, doctor):
    hr = world["hr"]
    bad = client.patch(f"/api/v1/users/{doctor.email}", json={"zet_hours": {ACCR: -5}}, headers=hr.headers)
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json["errors"]] == [f"zet_hours.{ACCR}"]
    response = client.patch(
        f"/api/v1/users/{doctor.email}", json={"zet_hours": {ACCR: 120}}, headers=hr.headers
    )
    assert response.status_code == 200 and response.json["zet_hours"] == {ACCR: 120}
    (shown,) = status_of(client, doctor, doctor)["accreditations"]
    assert shown["summary"] == "24 hours to go to 144"
