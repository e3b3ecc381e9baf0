"""Certificates (hr-domain §4, A33, A34): the deadline, the register number, the PDF and HR's task.

Each scenario files the request through the API on the scenario's day (``move_clock``), lets the
background work run (``background()``), and reads the PDF the employee downloads back as text.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from engine.db import session_scope
from engine.models import Document, Notification, ProcessInstance, Timer, User
from engine.services.definitions import deploy_bundle
from engine.services.operators import OperatorCall
from processes import PROCESS_DIR, bundle_files
from tests.acceptance.conftest import adjust, approve, completed, instance, put_table, submitted
from tests.api.helpers import assert_error
from worker.operators.render_document import TemplateMissing, render_document, render_pdf

FILED = datetime(2025, 10, 9, 7, 0, tzinfo=UTC)  # Thu 2025-10-09, 10:00 in Moscow
START = "/api/v1/definitions/certificate/instances"


@pytest.fixture
def certificates(world, session_factory, move_clock):
    """The leave and certificate routes deployed; Anna (employee_sales_1) on record; Thu 2025-10-09."""
    with session_scope(session_factory) as s:
        deploy_bundle(s, bundle_files(PROCESS_DIR / "certificate"), actor=None)
        anna = s.get(User, world["employee_sales_1"].id)
        anna.hire_date = date(2020, 2, 3)
        anna.position = "Менеджер по продажам"
        anna.monthly_salary = Decimal(100_000)
    move_clock(FILED)
    return world


def request(client, person, **data):
    return client.post(START, json={"data": data}, headers=person.headers)


def requested(client, person, **data) -> dict:
    response = request(client, person, **data)
    assert response.status_code == 201, response.json
    return response.json


def documents_of(client, person, instance_id) -> list[dict]:
    response = client.get(f"/api/v1/instances/{instance_id}/documents", headers=person.headers)
    assert response.status_code == 200, response.json
    return response.json


def pdf_text(client, person, instance_id, document_id) -> str:
    response = client.get(f"/api/v1/instances/{instance_id}/documents/{document_id}", headers=person.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.data.startswith(b"%PDF")
    assert response.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_a33_ndfl_is_due_monday_generated_from_the_salary_and_numbered(client, certificates, background):
    anna, hr = certificates["employee_sales_1"], certificates["hr"]

    body = requested(client, anna, certificate_type="ndfl", year=2025)

    data = body["data"]
    assert data["sla_due"] == "2025-10-13"  # Thu filing day is day 1: Thu, Fri, Mon
    assert data["auto_issue"] is True
    assert data["register_number"] == "СПР-2025-00001"
    assert "monthly_salary" not in data and "100000" not in str(data)  # C-04
    assert body["open_tasks"] == []

    assert background() >= 1
    after = instance(client, anna, body["id"])
    assert after["status"] == "completed"
    (document,) = documents_of(client, anna, body["id"])
    assert document["register_number"] == "СПР-2025-00001"
    assert document["media_type"] == "application/pdf"
    text = pdf_text(client, anna, body["id"], document["id"])
    assert "Анна Иванова" in text
    assert "Справка о доходах и суммах налога физического лица за 2025 год" in text
    assert "СПР-2025-00001" in text
    # C-05: January to September, the months closed before the October request; 13 %.
    assert "сентябрь 2000 100 000,00" in text
    assert "октябрь" not in text
    assert "Общая сумма дохода: 900 000,00" in text
    assert "Сумма налога исчисленная: 117 000,00" in text
    # HR can read it too; the employee is told it is ready.
    pdf_text(client, hr, body["id"], document["id"])
    with session_scope(client.application.extensions["approute.sessions"]) as s:
        kinds = s.scalars(select(Notification.kind).where(Notification.user_id == anna.id)).all()
    assert "document_ready" in kinds


def test_a33_next_day_counting_makes_it_tuesday(client, certificates):
    anna, hr = certificates["employee_sales_1"], certificates["hr"]
    rows = client.get("/api/v1/rule-tables/certificate_slas", headers=hr.headers).json["rows"]
    put_table(client, hr, "certificate_slas", [{**row, "count_filing_day": False} for row in rows])

    body = requested(client, anna, certificate_type="ndfl", year=2025)

    assert body["data"]["sla_due"] == "2025-10-14"


def test_employment_certificate_prints_the_facts_in_cyrillic(client, certificates, background):
    anna = certificates["employee_sales_1"]

    body = requested(client, anna, certificate_type="employment", include_salary=True, purpose="в банк")
    background()

    (document,) = documents_of(client, anna, body["id"])
    text = pdf_text(client, anna, body["id"], document["id"])
    assert "Справка с места работы" in text
    assert "Анна Иванова" in text
    assert "«Менеджер по продажам»" in text
    assert "с 03.02.2020" in text
    assert "Исх. № СПР-2025-00001 от 09.10.2025" in text
    assert "Должностной оклад: 100 000,00 руб." in text
    assert "в банк" in text


def test_employment_certificate_without_salary_shows_none(client, certificates, background):
    anna = certificates["employee_sales_1"]

    body = requested(client, anna, certificate_type="employment")
    background()

    (document,) = documents_of(client, anna, body["id"])
    text = pdf_text(client, anna, body["id"], document["id"])
    assert "оклад" not in text and "100 000" not in text
    assert "по месту требования" in text


def test_used_leave_certificate_reads_the_ledger(client, certificates, background):
    anna, hr = certificates["employee_sales_1"], certificates["hr"]

    body = requested(client, anna, certificate_type="used_leave")
    background()

    (document,) = documents_of(client, anna, body["id"])
    text = pdf_text(client, anna, body["id"], document["id"])
    assert "Справка об использованных отпусках" in text
    assert "дата приёма 03.02.2020" in text
    assert "Ежегодный основной оплачиваемый отпуск 28" in text
    pdf_text(client, hr, body["id"], document["id"])


def test_without_a_hire_date_hr_prepares_it_with_a_deadline_and_a_warning(
    client, certificates, session_factory, background
):
    anna, hr = certificates["employee_sales_1"], certificates["hr"]
    with session_scope(session_factory) as s:
        s.get(User, anna.id).hire_date = None

    body = requested(client, anna, certificate_type="employment")

    assert body["data"]["auto_issue"] is False
    (task,) = body["open_tasks"]
    assert task["element_id"] == "hr_preparation"
    # Due at the end of Mon 2025-10-13 in Moscow (18:00 = 15:00 UTC).
    assert task["due_at"].startswith("2025-10-13T15:00:00")
    with session_scope(session_factory) as s:
        warnings = s.scalars(select(Timer).where(Timer.kind == "task_due_warning")).all()
        # One working day before the deadline: Fri 2025-10-10.
        assert [w.due_at.astimezone(UTC).date() for w in warnings] == [date(2025, 10, 10)]
    hr_tasks = client.get("/api/v1/tasks", headers=hr.headers).json
    assert [t["instance_id"] for t in hr_tasks] == [body["id"]]

    # HR cannot issue it while the hire date is still missing: it would print a blank.
    refused = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}, headers=hr.headers)
    assert refused.status_code == 422, refused.json
    assert [e["field"] for e in refused.json["errors"]] == ["data.hire_date"]
    with session_scope(session_factory) as s:
        s.get(User, anna.id).hire_date = date(2020, 2, 3)  # HR fills the record in
    completed(client, hr, task["id"], {"hr_comment": "дата приёма внесена"})
    background()

    assert instance(client, anna, body["id"])["status"] == "completed"
    (document,) = documents_of(client, anna, body["id"])
    assert "с 03.02.2020" in pdf_text(client, anna, body["id"], document["id"])


def test_a34_visa_without_an_approved_leave_goes_to_hr_to_confirm_the_dates(client, certificates, background):
    anna, hr = certificates["employee_sales_1"], certificates["hr"]

    body = requested(
        client,
        anna,
        certificate_type="visa",
        trip_from="2025-11-12",
        trip_to="2025-11-20",
        country="France",
        name_latin="Anna Ivanova",
    )

    assert body["data"]["auto_issue"] is False
    assert "trip dates" in body["data"]["hr_action"]
    (task,) = body["open_tasks"]
    assert task["element_id"] == "hr_preparation"
    background()
    assert documents_of(client, anna, body["id"]) == []  # no auto-issue

    completed(client, hr, task["id"], {"trip_from": "2025-11-12", "trip_to": "2025-11-19"})
    background()

    (document,) = documents_of(client, anna, body["id"])
    text = pdf_text(client, anna, body["id"], document["id"])
    assert "Anna Ivanova" in text
    assert "с 12.11.2025 по 19.11.2025 подтверждены отделом кадров" in text


def test_a34_visa_with_an_approved_leave_is_generated_with_the_latin_name(client, certificates, background):
    anna, manager = certificates["employee_sales_1"], certificates["manager_sales"]
    hr = certificates["hr"]
    adjust(client, hr, anna, 28)
    leave = submitted(client, anna, "annual", "2025-11-10", "2025-11-23")
    approve(client, manager, anna, leave["id"])

    body = requested(
        client,
        anna,
        certificate_type="visa",
        trip_from="2025-11-12",
        trip_to="2025-11-20",
        country="France",
        name_latin="Anna Ivanova",
        leave_instance_id=leave["id"],
    )

    assert body["data"]["auto_issue"] is True
    assert body["open_tasks"] == []
    background()
    (document,) = documents_of(client, anna, body["id"])
    text = pdf_text(client, anna, body["id"], document["id"])
    assert "Справка для визы" in text
    assert "Анна Иванова (Anna Ivanova)" in text
    assert "отпуск с 10.11.2025 по 23.11.2025 с сохранением места работы и заработной платы" in text
    assert "Anna Ivanova is granted annual leave from 10.11.2025 to 23.11.2025" in text


def test_each_type_needs_its_fields(client, certificates):
    anna = certificates["employee_sales_1"]

    ndfl = assert_error(request(client, anna, certificate_type="ndfl"), 422)
    assert {e["field"] for e in ndfl["errors"]} == {"data.year"}
    visa = assert_error(request(client, anna, certificate_type="visa", country="France"), 422)
    assert {e["field"] for e in visa["errors"]} == {"data.trip_from", "data.trip_to", "data.name_latin"}
    future = assert_error(request(client, anna, certificate_type="ndfl", year=2026), 422)
    assert future["errors"][0]["rule"] == "CERT_INVALID_YEAR"
    backwards = assert_error(
        request(
            client,
            anna,
            certificate_type="visa",
            trip_from="2025-11-20",
            trip_to="2025-11-12",
            country="France",
            name_latin="Anna Ivanova",
        ),
        422,
    )
    assert [(e["field"], e["rule"]) for e in backwards["errors"]] == [("data.trip_to", "CERT_INVALID_PERIOD")]
    salary = assert_error(request(client, anna, certificate_type="used_leave", include_salary=True), 422)
    assert salary["errors"][0]["field"] == "data.include_salary"
    # A refused request takes no number: the next one is still the first.
    assert (
        requested(client, anna, certificate_type="employment")["data"]["register_number"] == "СПР-2025-00001"
    )


def test_rendering_again_for_the_same_task_keeps_one_copy(client, certificates, session_factory, background):
    anna = certificates["employee_sales_1"]
    body = requested(client, anna, certificate_type="employment")
    background()

    with session_scope(session_factory) as s:
        row = s.get(ProcessInstance, uuid.UUID(body["id"]))
        document = s.scalars(select(Document)).one()
        call = OperatorCall(
            session=s,
            instance=row,
            task_id=document.source_task_id,
            element_id="render",
            params={"template": "certificate_employment"},
            data=dict(row.data),
        )
        again = render_document(call)  # a job that ran again after a crash
        assert again == {"document_id": str(document.id), "register_number": document.register_number}
        assert s.scalar(select(func.count(Document.id))) == 1
        ready = select(func.count(Notification.id)).where(Notification.kind == "document_ready")
        assert s.scalar(ready) == 1

    with pytest.raises(TemplateMissing):
        render_pdf("../../api/secrets", {})
