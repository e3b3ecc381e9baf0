"""POST /api/v1/staff/import and `approute import-staff`: the staff list from payroll."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.blueprints.staff import MAX_FILE_BYTES
from api.cli import main
from engine.db import session_scope
from engine.models import User
from tests.api.helpers import assert_error, field_errors

STAFF = Path(__file__).resolve().parents[1] / "data" / "staff"


def post_file(client, person, content: bytes | None, *, field: str = "file"):
    data = {} if content is None else {field: (io.BytesIO(content), "staff.csv")}
    headers = person.headers if person is not None else {}
    return client.post("/api/v1/staff/import", data=data, content_type="multipart/form-data", headers=headers)


def imported_count(session_factory) -> int:
    with session_scope(session_factory) as s:
        return s.scalar(select(func.count()).select_from(User).where(User.personnel_number.is_not(None)))


@pytest.mark.parametrize("who", ["hr", "admin"])
def test_hr_or_admin_imports_and_gets_the_report(client, org, admin, session_factory, who):
    person = admin if who == "admin" else org["hr"]

    response = post_file(client, person, (STAFF / "ru_semicolon.csv").read_bytes())

    assert response.status_code == 200, response.json
    assert response.json["counts"]["created"] == 6
    assert response.json["rejected"] == []
    assert response.json["departments"] == {"created": 3, "updated": 0}
    assert imported_count(session_factory) == 6


def test_rejected_rows_come_back_with_row_numbers(client, org, session_factory):
    post_file(client, org["hr"], (STAFF / "ru_semicolon.csv").read_bytes())

    response = post_file(client, org["hr"], (STAFF / "bad_rows.csv").read_bytes())

    assert response.status_code == 200, response.json
    assert response.json["counts"]["rejected"] == 6
    assert [r["row"] for r in response.json["rejected"]] == [3, 4, 5, 6, 7, 9]
    assert response.json["rejected"][1] == {
        "row": 4,
        "personnel_number": "1003",
        "reason": "e-mail is not a valid address",
    }


@pytest.mark.parametrize("who", ["employee_sales_1", "manager_sales", "designer"])
def test_others_may_not_import(client, org, session_factory, who):
    response = post_file(client, org[who], (STAFF / "ru_semicolon.csv").read_bytes())

    body = assert_error(response, 403)
    assert "hr" in body["message"]
    assert imported_count(session_factory) == 0


def test_without_a_token_401(client, org):
    assert_error(post_file(client, None, (STAFF / "ru_semicolon.csv").read_bytes()), 401)


def test_no_file_is_a_422_naming_file(client, org):
    for response in (post_file(client, org["hr"], None), post_file(client, org["hr"], b"x", field="upload")):
        body = assert_error(response, 422)
        assert set(field_errors(body)) == {"file"}


def test_missing_columns_refuse_the_file_and_import_nothing(client, org, session_factory):
    response = post_file(client, org["hr"], (STAFF / "missing_columns.csv").read_bytes())

    body = assert_error(response, 422)
    assert set(field_errors(body)) == {"phone", "manager_personnel_number"}
    assert "Телефон" in body["message"]
    assert imported_count(session_factory) == 0


def test_a_file_over_20_mib_is_413(client, org, session_factory):
    big = (STAFF / "ru_semicolon.csv").read_bytes() + b"#" * MAX_FILE_BYTES

    body = assert_error(post_file(client, org["hr"], big), 413)

    assert "20 MiB" in body["message"]
    assert imported_count(session_factory) == 0


def test_the_endpoint_is_in_openapi_as_a_multipart_upload(client):
    spec = client.get("/api/v1/openapi.json").json
    post = spec["paths"]["/api/v1/staff/import"]["post"]

    ref = post["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    upload = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]["file"]
    assert (upload["type"], upload["format"]) == ("string", "binary")
    assert {"200", "413", "422"} <= set(post["responses"])


@pytest.fixture
def approute(database_url, monkeypatch, session_factory):
    """`approute ...` in this process, on the test database."""
    monkeypatch.setenv("APPROUTE_DATABASE_URL", database_url)
    return main


def test_cli_prints_progress_then_the_report(approute, capsys, tmp_path, session_factory):
    header = (STAFF / "bad_rows.csv").read_text(encoding="utf-8").splitlines()[0]
    rows = [f"{n};Сотрудник {n};u{n}@x.example;;;D;Отдел;;" for n in range(1, 1201)]
    rows.insert(10, "77;Плохая Почта;broken-address;;;D;Отдел;;")
    path = tmp_path / "staff.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")

    assert approute(["import-staff", str(path)]) == 0

    out, err = capsys.readouterr()
    assert "imported 500/1200 rows" in err
    assert "imported 1200/1200 rows" in err
    assert "created 1200" in out and "rejected 1" in out
    assert "rejected row 12 (personnel number 77): e-mail is not a valid address" in out
    assert "broken-address" not in out + err
    assert imported_count(session_factory) == 1200


def test_cli_refuses_a_bad_header_with_exit_1(approute, capsys, session_factory):
    assert approute(["import-staff", str(STAFF / "missing_columns.csv")]) == 1

    _out, err = capsys.readouterr()
    assert "refused" in err and "Телефон" in err
    assert imported_count(session_factory) == 0
