"""HR's API for facts about people (GET/PATCH /api/v1/users/{email}) and `approute users create` options."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from api.cli import main as approute
from engine import clock
from engine.db import session_scope
from engine.models import AuditEvent, User
from engine.services import person_facts
from tests.api.helpers import assert_error, field_errors

FACTS = {
    "hire_date": "2024-05-06",
    "monthly_salary": 91234.5,
    "shift_worker": True,
    "qualifications": [{"code": "NURSE", "credential_number": "A-77", "valid_until": "2027-01-31"}],
}


def patch(client, caller, email, body):
    return client.patch(f"/api/v1/users/{email}", json=body, headers=caller.headers)


def get(client, caller, email):
    return client.get(f"/api/v1/users/{email}", headers=caller.headers)


@pytest.fixture
def anna(client, org):
    """employee_sales_1 with every fact set by HR."""
    response = patch(client, org["hr"], org["employee_sales_1"].email, FACTS)
    assert response.status_code == 200, response.json
    return org["employee_sales_1"]


def test_hr_sets_facts_and_reads_them_back(client, org, anna, session_factory):
    body = get(client, org["hr"], anna.email).json
    assert body["hire_date"] == "2024-05-06"
    assert body["monthly_salary"] == 91234.5
    assert body["shift_worker"] is True
    assert body["qualifications"] == [
        {"code": "NURSE", "credential_number": "A-77", "valid_from": None, "valid_until": "2027-01-31"}
    ]
    assert body["manager_email"] == org["manager_sales"].email
    with session_scope(session_factory) as s:
        changed = s.scalars(select(AuditEvent).where(AuditEvent.action == "person.facts_changed")).one()
        assert changed.details == {
            "fields": ["hire_date", "monthly_salary", "shift_worker", "qualifications"]
        }
        assert changed.subject_id == anna.id and changed.actor_id == org["hr"].id
        # HR's reads of the salary are on the record too: field names, never the amount.
        reads = s.scalars(select(AuditEvent).where(AuditEvent.action == "person.sensitive_read")).all()
        assert reads and all(e.details == {"fields": ["monthly_salary"]} for e in reads)
        assert not any("91234" in str(e.details) for e in s.scalars(select(AuditEvent)))


@pytest.mark.parametrize(
    ("viewer", "status", "salary"),
    [
        ("employee_sales_1", 200, 91234.5),  # oneself
        ("manager_sales", 200, "*****"),  # the line manager sees the person, not the salary
        ("director", 200, "*****"),  # up the line
        ("hr", 200, 91234.5),
        ("employee_sales_2", 404, None),  # a colleague
        ("manager_ops", 404, None),  # another line
        ("designer", 404, None),
    ],
)
def test_who_sees_a_person_and_the_salary(client, org, anna, viewer, status, salary):
    response = get(client, org[viewer], anna.email)
    if status == 404:
        hidden = assert_error(response, 404)
        missing = assert_error(get(client, org[viewer], "nobody@demo.approute.test"), 404)
        assert hidden["message"].replace(anna.email, "X") == missing["message"].replace(
            "nobody@demo.approute.test", "X"
        )
        assert "91234" not in response.get_data(as_text=True)
        return
    assert response.status_code == 200, response.json
    assert response.json["monthly_salary"] == salary
    if salary == "*****":
        assert "91234" not in response.get_data(as_text=True)


def test_patch_refuses_bad_facts_per_field_and_keeps_what_was_there(client, org, anna):
    response = patch(
        client,
        org["hr"],
        anna.email,
        {
            "monthly_salary": -100,
            "qualifications": [
                {"code": "ECG", "valid_from": "2026-01-01", "valid_until": "2025-01-01"},
                {"code": "ecg"},
            ],
        },
    )
    errors = field_errors(assert_error(response, 422))
    assert errors == {
        "monthly_salary": "must be a positive amount in roubles",
        "qualifications[0].valid_until": "is before valid_from",
        "qualifications[1].code": "repeats qualifications[0]",
    }
    # Type errors come back per field too, from the request schema.
    typed = assert_error(
        patch(client, org["hr"], anna.email, {"hire_date": "06.05.2024", "shift_worker": "yes"}), 422
    )
    assert set(typed["errors"]["json"]) == {"hire_date", "shift_worker"}
    unknown = assert_error(patch(client, org["hr"], anna.email, {"salary": 1}), 422)
    assert "salary" in unknown["errors"]["json"]
    body = get(client, org["hr"], anna.email).json
    assert (body["monthly_salary"], body["hire_date"]) == (91234.5, "2024-05-06")
    assert [q["code"] for q in body["qualifications"]] == ["NURSE"]


def test_null_clears_and_omitted_keys_stay(client, org, anna):
    body = patch(client, org["hr"], anna.email, {"monthly_salary": None, "qualifications": []}).json
    assert body["monthly_salary"] is None and body["qualifications"] == []
    assert body["hire_date"] == "2024-05-06" and body["shift_worker"] is True


@pytest.mark.parametrize("caller", ["employee_sales_1", "manager_sales", "designer"])
def test_only_hr_and_admins_change_facts(client, org, caller):
    # Even about oneself, or one's own report: facts come from HR.
    assert_error(patch(client, org[caller], org["employee_sales_1"].email, {"shift_worker": True}), 403)


def test_admin_changes_facts_and_an_unknown_person_is_404(client, org, admin):
    assert patch(client, admin, org["employee_ops_1"].email, {"shift_worker": True}).status_code == 200
    assert_error(patch(client, admin, "nobody@demo.approute.test", {"shift_worker": True}), 404)


# -- disciplinary sanctions ------------------------------------------------------------------------

REPRIMAND = {"type": "reprimand", "date": "2026-01-12"}
REMARK = {"type": "remark", "date": "2025-03-03", "lifted_on": "2025-09-01"}


def test_hr_records_sanctions_where_the_bonus_route_reads_them(client, org, anna, session_factory):
    response = patch(client, org["hr"], anna.email, {"sanctions": [REPRIMAND, REMARK]})

    assert response.status_code == 200, response.json
    # Oldest first, every key shown.
    assert response.json["sanctions"] == [REMARK, {**REPRIMAND, "lifted_on": None}]
    with session_scope(session_factory) as s:
        assert s.get(User, anna.id).flags["sanctions"] == [REMARK, REPRIMAND]
        (changed,) = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "person.facts_changed", AuditEvent.subject_id == anna.id)
            .order_by(AuditEvent.id.desc())
            .limit(1)
        ).all()
        assert changed.details == {"fields": ["sanctions"]}  # the name of the fact, not what it holds
        assert "reprimand" not in str([e.details for e in s.scalars(select(AuditEvent))])
    # The same list again changes nothing; an empty list clears it.
    assert patch(client, org["hr"], anna.email, {"sanctions": [REMARK, REPRIMAND]}).status_code == 200
    assert patch(client, org["hr"], anna.email, {"sanctions": []}).json["sanctions"] == []
    with session_scope(session_factory) as s:
        fields = [
            e.details["fields"]
            for e in s.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "person.facts_changed", AuditEvent.subject_id == anna.id
                )
            )
        ]
        assert fields[-2:] == [["sanctions"], ["sanctions"]]  # set, then cleared; the repeat wrote nothing


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [("employee_sales_1", True), ("hr", True), ("manager_sales", False), ("director", False)],
)
def test_sanctions_show_only_to_the_person_and_hr(client, org, anna, viewer, sees):
    assert patch(client, org["hr"], anna.email, {"sanctions": [REPRIMAND]}).status_code == 200

    response = get(client, org[viewer], anna.email)

    assert response.status_code == 200, response.json
    if sees:
        assert response.json["sanctions"] == [{**REPRIMAND, "lifted_on": None}]
    else:
        assert response.json["sanctions"] == "*****"
        assert "reprimand" not in response.get_data(as_text=True)
        assert "2026-01-12" not in response.get_data(as_text=True)


def test_hrs_read_of_sanctions_is_audited_by_field_name(client, org, anna, session_factory):
    assert patch(client, org["hr"], anna.email, {"sanctions": [REPRIMAND]}).status_code == 200
    with session_scope(session_factory) as s:
        reads = s.scalars(select(AuditEvent).where(AuditEvent.action == "person.sensitive_read")).all()
        assert reads[-1].details == {"fields": ["monthly_salary", "sanctions"]}
        assert reads[-1].actor_id == org["hr"].id and reads[-1].subject_id == anna.id


def test_bad_sanctions_are_refused_per_field_and_keep_what_was_there(client, org, anna):
    assert patch(client, org["hr"], anna.email, {"sanctions": [REPRIMAND]}).status_code == 200
    response = patch(
        client,
        org["hr"],
        anna.email,
        {
            "monthly_salary": 50_000,
            "sanctions": [
                {"type": "fine", "date": "2026-01-12"},  # no fines in ст. 192
                {"type": "remark", "date": "2026-02-01", "lifted_on": "2026-01-01"},
                {"type": "remark", "date": (clock.today() + timedelta(days=1)).isoformat()},
            ],
        },
    )
    errors = field_errors(assert_error(response, 422))
    assert errors == {
        "sanctions[0].type": "must be one of remark, reprimand, dismissal",
        "sanctions[1].lifted_on": "is before date",
        "sanctions[2].date": "is in the future",
    }
    typed = assert_error(patch(client, org["hr"], anna.email, {"sanctions": [{"type": "remark"}]}), 422)
    assert "sanctions" in typed["errors"]["json"]  # a date is required, said by the request schema
    body = get(client, org["hr"], anna.email).json
    assert body["sanctions"] == [{**REPRIMAND, "lifted_on": None}]
    assert body["monthly_salary"] == 91234.5  # the salary in the refused request did not land either


def test_only_hr_and_admins_record_sanctions(client, org):
    response = patch(client, org["manager_sales"], org["employee_sales_1"].email, {"sanctions": [REPRIMAND]})
    assert_error(response, 403)


# -- approute users create -------------------------------------------------------------------------


def test_users_create_takes_hire_date_salary_and_shift_work(
    database_url, session_factory, monkeypatch, capsys
):
    monkeypatch.setenv("APPROUTE_DATABASE_URL", database_url)
    code = approute(
        [
            "users",
            "create",
            "--email",
            "Nina@Corp.example",
            "--name",
            "Нина",
            "--role",
            "employee",
            "--hire-date",
            "2025-03-10",
            "--salary",
            "85 000,50",
            "--shift-worker",
        ]
    )
    assert code == 0, capsys.readouterr().err
    with session_scope(session_factory) as s:
        nina = s.scalar(select(User).where(User.email == "nina@corp.example"))
        assert (nina.hire_date, nina.monthly_salary) == (date(2025, 3, 10), Decimal("85000.50"))
        assert person_facts.is_shift_worker(nina)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--salary", "-1", "--salary: not an amount"),
        ("--hire-date", "10.03.2025", "--hire-date must be a date"),
    ],
)
def test_users_create_refuses_a_bad_option_and_creates_nobody(
    database_url, session_factory, monkeypatch, capsys, option, value, message
):
    monkeypatch.setenv("APPROUTE_DATABASE_URL", database_url)
    with pytest.raises(SystemExit) as refused:
        approute(
            [
                "users",
                "create",
                "--email",
                "x@corp.example",
                "--name",
                "X",
                "--role",
                "employee",
                option,
                value,
            ]
        )
    assert refused.value.code == 2
    assert message in capsys.readouterr().err
    with session_scope(session_factory) as s:
        assert s.scalar(select(User).where(User.email == "x@corp.example")) is None


def test_hr_records_a_shift_roster_and_bad_entries_are_named(client, org):
    vera = org["employee_ops_1"]
    roster = [
        {"id": "night", "start": "2026-05-12T20:00", "end": "2026-05-13T08:00"},
        {"start": "2026-05-10T08:00", "end": "2026-05-10T20:00"},
    ]
    done = patch(client, org["hr"], vera.email, {"shifts": roster})
    assert done.status_code == 200, done.json
    shown = client.get(f"/api/v1/users/{vera.email}", headers=org["manager_ops"].headers).json["shifts"]
    assert shown == [
        {"id": "2", "start": "2026-05-10T08:00:00", "end": "2026-05-10T20:00:00"},
        {"id": "night", "start": "2026-05-12T20:00:00", "end": "2026-05-13T08:00:00"},
    ]

    bad = patch(
        client,
        org["hr"],
        vera.email,
        {
            "shifts": [
                {"start": "2026-05-12T20:00", "end": "2026-05-12T08:00"},
                {"start": "soon", "end": "later"},
            ]
        },
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json["errors"]}
    assert fields == {"shifts[0].end", "shifts[1].start", "shifts[1].end"}
    assert client.get(f"/api/v1/users/{vera.email}", headers=org["hr"].headers).json["shifts"] == shown

    refused = patch(client, org["manager_ops"], vera.email, {"shifts": []})
    assert refused.status_code == 403
