"""The staff import from payroll's CSV: people, line managers, roles and the department tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.errors import InvalidData
from engine.models import AuditEvent, Department, User
from engine.services import org as org_service
from engine.services.staff_import import import_staff

STAFF = Path(__file__).resolve().parents[1] / "data" / "staff"
RU_HEADER = (
    "Табельный номер;ФИО;Email;Телефон;Должность;Код подразделения;Подразделение;"
    "Табельный номер руководителя;Дата приема"
)


def run_import(session_factory, source, progress=None):
    """One import in its own transaction, as the CLI and the API run it."""
    if isinstance(source, str) and source.endswith(".csv"):
        source = (STAFF / source).read_bytes()
    with session_scope(session_factory) as s:
        return import_staff(s, source, actor=None, progress=progress)


def people(session_factory) -> dict[str, User]:
    """Imported people by personnel number."""
    with session_scope(session_factory) as s:
        rows = s.scalars(select(User).where(User.personnel_number.is_not(None)))
        return {u.personnel_number: u for u in rows}


def departments(session_factory) -> dict[str, tuple[str, str | None, str | None]]:
    """Department code → (name, parent code, head's personnel number or e-mail)."""
    with session_scope(session_factory) as s:
        result = {}
        for d in s.scalars(select(Department)):
            parent = s.get(Department, d.parent_id) if d.parent_id else None
            head = s.get(User, d.head_id) if d.head_id else None
            result[d.code] = (
                d.name,
                parent.code if parent else None,
                head and (head.personnel_number or head.email),
            )
        return result


def csv(*rows: str, header: str = RU_HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


def test_first_import_creates_people_with_every_column(session_factory):
    report = run_import(session_factory, "ru_semicolon.csv")

    assert report.counts() == {
        "rows": 6,
        "created": 6,
        "updated": 0,
        "unchanged": 0,
        "dismissed": 0,
        "reactivated": 0,
        "rejected": 0,
    }
    staff = people(session_factory)
    director, nurse = staff["0001"], staff["0006"]
    assert director.email == "a.smirnov@corp.example"  # the login, lower-case
    assert director.name == "Смирнов Андрей Петрович"
    assert director.manager_id is None
    assert str(director.hire_date) == "2010-02-01"
    assert str(staff["0003"].hire_date) == "2019-06-01"  # ISO dates too
    assert nurse.position == "Медицинская сестра"
    assert nurse.phone == "+7 900 000-00-06"
    assert nurse.department == "D300"
    assert nurse.manager_id == staff["0005"].id
    assert nurse.flags == {"shift_worker": True, "medical_specialty": "сестринское дело"}
    assert staff["0004"].flags == {}
    assert staff["0004"].phone is None
    assert all(u.is_active and u.password_hash is None for u in staff.values())
    assert nurse.roles == {"employee"}


def test_anyone_with_a_report_becomes_a_manager(session_factory):
    report = run_import(session_factory, "ru_semicolon.csv")

    staff = people(session_factory)
    assert {n for n, u in staff.items() if "manager" in u.roles} == {"0001", "0002", "0005"}
    assert report.manager_role_granted == 3


def test_heads_and_parents_are_derived_from_who_reports_to_whom(session_factory):
    run_import(session_factory, "ru_semicolon.csv")

    assert departments(session_factory) == {
        "D100": ("Дирекция", None, "0001"),
        "D200": ("Коммерческая служба", "D100", "0002"),
        "D300": ("Медицинская служба", "D100", "0005"),
    }


def test_the_head_is_the_member_with_most_reports_when_several_report_outside(session_factory):
    # In D2, 12 reports to the director outside D2 and so does 13; 13 has two reports in D2, 12 none.
    run_import(
        session_factory,
        csv(
            "11;Директор Д;d@x.example;;Директор;D1;Дирекция;;",
            "12;Зам Один;z1@x.example;;Зам;D2;Отдел;11;",
            "13;Начальник Отдела;n@x.example;;Начальник;D2;Отдел;11;",
            "14;Сотрудник Один;s1@x.example;;Специалист;D2;Отдел;13;",
            "15;Сотрудник Два;s2@x.example;;Специалист;D2;Отдел;13;",
        ),
    )

    assert departments(session_factory)["D2"] == ("Отдел", "D1", "13")


def test_a_parent_column_wins_over_the_derived_parent(session_factory):
    report = run_import(session_factory, "en_comma.csv")

    assert report.counts()["created"] == 3
    tree = departments(session_factory)
    assert tree["FIN"] == ("Finance", "HQ2", "E2")
    assert tree["HQ2"] == ("Head office", None, "E1")
    staff = people(session_factory)
    assert staff["E1"].name == "Orlov, Ivan"  # a quoted comma stays in the cell


def test_reimporting_the_same_file_changes_nothing(session_factory):
    run_import(session_factory, "ru_semicolon.csv")
    before = {n: (u.manager_id, u.name, u.roles, u.flags) for n, u in people(session_factory).items()}

    again = run_import(session_factory, "ru_semicolon.csv")

    assert again.counts()["created"] == 0
    assert again.counts()["updated"] == 0
    assert again.counts()["unchanged"] == 6
    assert (again.departments_created, again.departments_updated) == (0, 0)
    after = {n: (u.manager_id, u.name, u.roles, u.flags) for n, u in people(session_factory).items()}
    assert after == before


def test_reimport_updates_dismisses_and_reactivates(session_factory):
    run_import(session_factory, "ru_semicolon.csv")
    lines = (STAFF / "ru_semicolon.csv").read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:]
    # 0003 moves to the medical service; 0004 is gone from the file.
    moved = rows[2].replace(
        "Менеджер по продажам;D200;Коммерческая служба;0002", "Врач;D300;Медицинская служба;0005"
    )
    second = run_import(session_factory, "\n".join([header, rows[0], rows[1], moved, rows[4], rows[5]]))

    assert second.counts()["updated"] == 1
    assert second.counts()["dismissed"] == 1
    assert second.counts()["unchanged"] == 4
    staff = people(session_factory)
    assert staff["0003"].position == "Врач"
    assert staff["0003"].manager_id == staff["0005"].id
    assert not staff["0004"].is_active
    assert staff["0004"].dismissed_at is not None
    # 0002 has no active reports any more: the import took back the role it gave.
    assert "manager" not in staff["0002"].roles
    assert second.manager_role_revoked == 1

    third = run_import(session_factory, "ru_semicolon.csv")

    assert third.counts()["reactivated"] == 1
    staff = people(session_factory)
    assert staff["0004"].is_active
    assert staff["0004"].dismissed_at is None
    assert "manager" in staff["0002"].roles


def test_bad_rows_are_rejected_with_row_numbers_and_good_rows_import(session_factory):
    run_import(session_factory, "ru_semicolon.csv")

    report = run_import(session_factory, "bad_rows.csv")

    assert [(r["row"], r["personnel_number"], r["reason"]) for r in report.rejected] == [
        (3, None, "missing personnel number"),
        (4, "1003", "e-mail is not a valid address"),
        (5, "1004", "hire date is not a date; use dd.mm.yyyy or yyyy-mm-dd"),
        (6, "1001", "personnel number repeats row 2"),
        (7, "1006", "e-mail repeats row 2"),
        (9, "1008", "e-mail is already used by another person (personnel number 0002)"),
    ]
    assert report.counts()["created"] == 2
    assert set(people(session_factory)) >= {"1001", "1007"}
    assert "1003" not in people(session_factory)
    (warning,) = report.warnings
    assert warning["row"] == 8
    assert "9999" in warning["message"] and "without a manager" in warning["message"]
    assert people(session_factory)["1007"].manager_id is None
    # No reason repeats what was in the cell: personal data stays out of reports.
    text = repr(report.as_dict())
    assert "not-an-email" not in text and "31.02.2020" not in text and "Плохая" not in text


def test_a_rejected_row_does_not_dismiss_its_person(session_factory):
    run_import(
        session_factory,
        csv("1;Один Человек;one@x.example;;;D;Отдел;;", "2;Два Человека;two@x.example;;;D;Отдел;1;"),
    )

    report = run_import(
        session_factory,
        csv(
            "1;Один Человек;one@x.example;;;D;Отдел;;", "2;Два Человека;two@x.example;;;D;Отдел;1;99.99.9999"
        ),
    )

    assert report.counts()["rejected"] == 1
    assert report.counts()["dismissed"] == 0
    assert people(session_factory)["2"].is_active


def test_a_header_missing_columns_refuses_the_whole_file(session_factory, org):
    with pytest.raises(InvalidData) as refused:
        run_import(session_factory, "missing_columns.csv")

    missing = {e["field"] for e in refused.value.details}
    assert missing == {"phone", "manager_personnel_number"}
    assert "Телефон" in refused.value.message
    assert "Табельный номер руководителя" in refused.value.message
    assert people(session_factory) == {}
    with session_scope(session_factory) as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "staff.imported")) is None
        assert set(s.scalars(select(Department.code))) == {"HQ", "HR", "SALES", "OPS"}


def test_english_headers_in_any_case_and_a_bom(session_factory):
    header = (
        "\ufeffPERSONNEL_NUMBER,Full Name,E-mail,phone,Position,department_code,Department_Name,"
        "manager_personnel_number,Hire_Date"
    )
    report = run_import(
        session_factory, (header + "\n7,Семёнов Семён,s@x.example,,,D,Отдел,,07.07.2017\n").encode()
    )

    assert report.counts()["created"] == 1
    assert people(session_factory)["7"].name == "Семёнов Семён"


def test_a_file_that_is_not_utf8_is_refused(session_factory):
    with pytest.raises(InvalidData) as refused:
        run_import(session_factory, csv("1;Иванов Иван;i@x.example;;;D;Отдел;;").decode().encode("cp1251"))

    assert refused.value.details[0]["field"] == "file"
    assert "UTF-8" in refused.value.message


@pytest.mark.parametrize("rows", [(), ("1;Иванов;not-an-email;;;D;Отдел;;",)])
def test_a_file_without_an_importable_row_changes_nothing(session_factory, rows):
    run_import(session_factory, "ru_semicolon.csv")

    with pytest.raises(InvalidData):
        run_import(session_factory, csv(*rows))

    assert all(u.is_active for u in people(session_factory).values())


def test_a_manager_cycle_is_cut_and_reported(session_factory):
    report = run_import(
        session_factory,
        csv(
            "1;Первый;a@x.example;;;D;Отдел;3;",
            "2;Второй;b@x.example;;;D;Отдел;1;",
            "3;Третий;c@x.example;;;D;Отдел;2;",
        ),
    )

    staff = people(session_factory)
    assert staff["3"].manager_id is None  # the last row of the loop
    assert staff["1"].manager_id == staff["3"].id
    assert staff["2"].manager_id == staff["1"].id
    (warning,) = report.warnings
    assert warning["row"] == 4 and "rows 2, 3, 4" in warning["message"]
    assert departments(session_factory)["D"][2] == "3"


def test_people_without_a_personnel_number_survive_imports(session_factory, org):
    run_import(session_factory, "ru_semicolon.csv")
    run_import(session_factory, "en_comma.csv")

    with session_scope(session_factory) as s:
        demo = {u.email: u for u in s.scalars(select(User).where(User.personnel_number.is_(None)))}
    assert len(demo) == len(org)
    assert all(u.is_active for u in demo.values())
    assert "manager" in demo[org["manager_sales"].email].roles
    assert departments(session_factory)["SALES"] == ("Отдел продаж", "HQ", org["manager_sales"].email)


def test_a_row_with_the_email_of_a_user_without_a_number_takes_over_that_user(session_factory, org):
    anna = org["employee_sales_1"]
    report = run_import(
        session_factory, csv(f"555;Анна Иванова;{anna.email.upper()};;Менеджер;SALES;Отдел продаж;;")
    )

    assert report.counts()["updated"] == 1 and report.counts()["created"] == 0
    staff = people(session_factory)
    assert staff["555"].id == anna.id
    assert staff["555"].position == "Менеджер"


def test_progress_is_reported_in_chunks(session_factory):
    rows = [f"{n};Сотрудник {n};u{n}@x.example;;;D;Отдел;;" for n in range(1, 1201)]
    calls = []

    run_import(session_factory, csv(*rows), progress=lambda done, total: calls.append((done, total)))

    assert calls == [(500, 1200), (1000, 1200), (1200, 1200)]


def test_one_audit_event_with_counts_and_no_personal_data(session_factory):
    run_import(session_factory, "ru_semicolon.csv")

    with session_scope(session_factory) as s:
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "staff.imported"))
        assert event.details["created"] == 6
        assert event.details["rejected"] == 0
        assert "corp.example" not in repr(event.details)


def test_a_parent_set_by_hr_survives_a_reimport_and_a_head_outside_is_replaced(session_factory):
    run_import(session_factory, "ru_semicolon.csv")
    with session_scope(session_factory) as s:
        org_service.update_department(
            s, "D300", actor=None, parent_code="D200", head_email="i.popov@corp.example"
        )

    run_import(session_factory, "ru_semicolon.csv")

    _name, parent, head = departments(session_factory)["D300"]
    assert parent == "D200"  # HR's parent is kept: the file has no parent column
    assert head == "0005"  # 0003 is not in D300 per the file, so the derived head replaces them
