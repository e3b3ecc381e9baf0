"""Facts about people (engine/services/person_facts.py): who sees a person, HR's changes, and the
staff import's optional «Оклад» and «Квалификации» columns."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.errors import InvalidData, NotFound
from engine.models import AuditEvent, PersonQualification, User
from engine.services import person_facts, visibility
from engine.services.person_facts import Qualification
from engine.services.staff_import import import_staff

HEADER = (
    "Табельный номер;ФИО;Email;Телефон;Должность;Код подразделения;Подразделение;"
    "Табельный номер руководителя;Дата приема;Оклад;Квалификации;Сменный график"
)
HEAD = "0001;Смирнова Ольга Игоревна;o.smirnova@corp.example;;Главврач;D1;Клиника;;01.02.2010;150 000,00;;нет"
NURSE = (
    "0002;Петрова Анна Сергеевна;a.petrova@corp.example;;Медсестра;D1;Клиника;0001;2019-06-01;"
    "85000;NURSE:2027-04-01|ELECTRICAL_SAFETY_II:01.09.2026;да"
)


def csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


def by_email(s, email: str) -> User:
    return s.scalar(select(User).where(User.email == email))


def qualifications(session_factory, email: str) -> dict[str, tuple]:
    with session_scope(session_factory) as s:
        person = by_email(s, email)
        return {
            q.code: (q.credential_number, q.valid_from, q.valid_until)
            for q in person_facts.qualifications_of(s, person.id)
        }


# -- who sees a person ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "seen", "sees", "salary"),
    [
        ("employee_sales_1", "employee_sales_1", True, True),  # oneself
        ("manager_sales", "employee_sales_1", True, False),  # the line manager: not the salary
        ("director", "employee_sales_1", True, False),  # a manager further up the line
        ("hr", "employee_sales_1", True, True),
        ("employee_sales_2", "employee_sales_1", False, False),  # a colleague
        ("manager_ops", "employee_sales_1", False, False),  # another line's manager
        ("designer", "employee_sales_1", False, False),
        ("employee_sales_1", "manager_sales", False, False),  # not upwards
    ],
)
def test_who_sees_a_person_and_their_salary(session, org, viewer, seen, sees, salary):
    who, person = session.get(User, org[viewer].id), session.get(User, org[seen].id)
    assert visibility.can_see_person(session, who, person) is sees
    assert visibility.sees_personal_facts(who, person) is salary
    if not sees:
        with pytest.raises(NotFound) as hidden:
            person_facts.get_person(session, person.email, viewer=who)
        with pytest.raises(NotFound) as missing:
            person_facts.get_person(session, "nobody@demo.approute.test", viewer=who)
        # Hidden and absent people are refused alike.
        assert str(hidden.value).replace(person.email, "X") == str(missing.value).replace(
            "nobody@demo.approute.test", "X"
        )


# -- HR's changes -----------------------------------------------------------------------------------


def test_update_facts_sets_them_and_audits_names_only(session_factory, org):
    with session_scope(session_factory) as s:
        person, hr = s.get(User, org["employee_ops_1"].id), s.get(User, org["hr"].id)
        changed = person_facts.update_facts(
            s,
            person,
            {
                "hire_date": date(2024, 5, 6),
                "monthly_salary": Decimal("91234.50"),
                "shift_worker": True,
                "qualifications": [
                    {"code": "nurse", "credential_number": "A-77", "valid_until": date(2027, 1, 31)},
                    Qualification("ECG"),
                ],
            },
            actor=hr,
        )
    assert changed == ["hire_date", "monthly_salary", "shift_worker", "qualifications"]
    with session_scope(session_factory) as s:
        person = s.get(User, org["employee_ops_1"].id)
        assert (person.hire_date, person.monthly_salary) == (date(2024, 5, 6), Decimal("91234.50"))
        assert person_facts.is_shift_worker(person)
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "person.facts_changed"))
        assert event.subject_id == person.id and event.actor_id == org["hr"].id
        assert event.details == {"fields": ["hire_date", "monthly_salary", "shift_worker", "qualifications"]}
    assert qualifications(session_factory, org["employee_ops_1"].email) == {
        "ECG": (None, None, None),
        "NURSE": ("A-77", None, date(2027, 1, 31)),  # codes are stored upper-case
    }

    # The same values again change nothing and record nothing.
    with session_scope(session_factory) as s:
        person = s.get(User, org["employee_ops_1"].id)
        again = person_facts.update_facts(
            s, person, {"monthly_salary": Decimal("91234.5"), "shift_worker": True}, actor=None
        )
    assert again == []
    with session_scope(session_factory) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "person.facts_changed")).all()
        assert len(events) == 1


def test_bad_facts_are_refused_per_field_and_nothing_changes(session_factory, org):
    with session_scope(session_factory) as s:
        person = s.get(User, org["employee_ops_1"].id)
        with pytest.raises(InvalidData) as refused:
            person_facts.update_facts(
                s,
                person,
                {
                    "hire_date": date(2021, 5, 4),
                    "monthly_salary": Decimal("-5"),
                    "qualifications": [
                        {"code": "NURSE", "valid_from": date(2026, 1, 1), "valid_until": date(2025, 1, 1)},
                        {"code": "nurse"},
                        {"code": "медсестра"},
                    ],
                },
                actor=None,
            )
    problems = {p["field"]: p["message"] for p in refused.value.details}
    assert problems == {
        "monthly_salary": "must be a positive amount in roubles",
        "qualifications[0].valid_until": "is before valid_from",
        "qualifications[1].code": "repeats qualifications[0]",
        "qualifications[2].code": problems["qualifications[2].code"],
    }
    assert "Latin letters" in problems["qualifications[2].code"]
    with session_scope(session_factory) as s:
        person = s.get(User, org["employee_ops_1"].id)
        # The demo seed's hire date stands; nothing of the refused change was stored.
        assert person.hire_date == date(2020, 1, 13) and person.monthly_salary is None
        assert s.scalars(select(PersonQualification)).all() == []


@pytest.mark.parametrize(
    ("text", "amount"),
    [("85000", "85000.00"), ("85 000,50", "85000.50"), ("85\u00a0000.5", "85000.50"), ("1", "1.00")],
)
def test_salary_as_payroll_writes_it(text, amount):
    assert person_facts.parse_salary(text) == Decimal(amount)


@pytest.mark.parametrize("text", ["-85000", "0", "85000.505", "eighty", "1e5", "12345678901", ""])
def test_salary_that_is_not_one(text):
    with pytest.raises(ValueError) as refused:
        person_facts.parse_salary(text)
    assert text not in str(refused.value) or not text


# -- the staff import's optional columns -------------------------------------------------------------


def test_import_reads_salary_qualifications_and_shift_work(session_factory):
    with session_scope(session_factory) as s:
        report = import_staff(s, csv(HEAD, NURSE), actor=None)
    assert report.rejected == []
    with session_scope(session_factory) as s:
        head, nurse = by_email(s, "o.smirnova@corp.example"), by_email(s, "a.petrova@corp.example")
        assert head.monthly_salary == Decimal("150000.00")
        assert nurse.monthly_salary == Decimal("85000.00")
        assert person_facts.is_shift_worker(nurse) and not person_facts.is_shift_worker(head)
    assert qualifications(session_factory, "a.petrova@corp.example") == {
        "ELECTRICAL_SAFETY_II": (None, None, date(2026, 9, 1)),
        "NURSE": (None, None, date(2027, 4, 1)),
    }
    assert qualifications(session_factory, "o.smirnova@corp.example") == {}

    # Re-importing the same file changes nothing.
    with session_scope(session_factory) as s:
        again = import_staff(s, csv(HEAD, NURSE), actor=None)
    assert (again.counts()["updated"], again.counts()["unchanged"]) == (0, 2)


def test_reimport_keeps_hr_credentials_and_follows_the_file(session_factory, org):
    with session_scope(session_factory) as s:
        import_staff(s, csv(HEAD, NURSE), actor=None)
    # HR adds the accreditation's number through the API (same code, same expiry as the file).
    with session_scope(session_factory) as s:
        nurse = by_email(s, "a.petrova@corp.example")
        person_facts.update_facts(
            s,
            nurse,
            {
                "qualifications": [
                    {"code": "NURSE", "credential_number": "0277-2022", "valid_until": date(2027, 4, 1)},
                    {"code": "ELECTRICAL_SAFETY_II", "valid_until": date(2026, 9, 1)},
                ]
            },
            actor=None,
        )
    # Payroll renews the safety group and drops nothing else; the salary column goes.
    renewed = NURSE.replace("01.09.2026", "01.09.2027")
    with session_scope(session_factory) as s:
        report = import_staff(s, csv(HEAD, renewed), actor=None)
    assert report.counts()["updated"] == 1
    assert qualifications(session_factory, "a.petrova@corp.example") == {
        "ELECTRICAL_SAFETY_II": (None, None, date(2027, 9, 1)),
        "NURSE": ("0277-2022", None, date(2027, 4, 1)),  # same expiry: HR's number stays
    }
    # A file without the columns leaves salary and qualifications alone.
    short_header = HEADER.rsplit(";Оклад;", 1)[0]
    short_rows = [";".join(row.split(";")[:9]) for row in (HEAD, NURSE)]
    with session_scope(session_factory) as s:
        import_staff(s, csv(*short_rows, header=short_header), actor=None)
    with session_scope(session_factory) as s:
        assert by_email(s, "a.petrova@corp.example").monthly_salary == Decimal("85000.00")
    assert set(qualifications(session_factory, "a.petrova@corp.example")) == {"NURSE", "ELECTRICAL_SAFETY_II"}


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ("-85000;;нет", "«Оклад»: not an amount in roubles"),
        ("восемьдесят тысяч;;нет", "«Оклад»: not an amount in roubles"),
        ("85000;NURSE:2027-13-45;нет", "«Квалификации» item 1: the date is not a date; use CODE:YYYY-MM-DD"),
        ("85000;ECG|NURSE:завтра;нет", "«Квалификации» item 2: the date is not a date; use CODE:YYYY-MM-DD"),
        ("85000;Медсестра:2027-01-01;нет", "«Квалификации» item 1: the code must be Latin letters"),
        ("85000;NURSE|nurse:2027-01-01;нет", "«Квалификации» item 2: the code repeats an earlier item"),
    ],
    ids=["negative salary", "salary in words", "impossible date", "date in words", "cyrillic code", "repeat"],
)
def test_bad_salary_or_qualification_rejects_the_row_by_number(session_factory, cells, reason):
    bad = "0003;Иванов Иван Иванович;i.ivanov@corp.example;;Врач;D1;Клиника;0001;2020-01-01;" + cells
    with session_scope(session_factory) as s:
        report = import_staff(s, csv(HEAD, bad), actor=None)
    (rejected,) = report.rejected
    assert rejected["row"] == 3 and rejected["personnel_number"] == "0003"
    assert rejected["reason"].startswith(reason)
    for value in cells.split(";")[:2]:  # the cells themselves never appear in the reason
        for part in value.split("|"):
            assert part.split(":")[-1] not in rejected["reason"] or not part
    assert report.counts()["created"] == 1  # the good row still imports
    with session_scope(session_factory) as s:
        assert by_email(s, "i.ivanov@corp.example") is None
