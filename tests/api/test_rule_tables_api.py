"""/api/v1/rule-tables as HR uses it: read, edit with ETags, CSV in and out, row-by-row refusals."""

from __future__ import annotations

import pytest

from tests.api.helpers import assert_error

BASE = "/api/v1/rule-tables"


def _get(client, person, name, *, accept=None, **kwargs):
    headers = {**person.headers, **({"Accept": accept} if accept else {})}
    return client.get(f"{BASE}/{name}", headers=headers, **kwargs)


def _put(client, person, name, body=None, *, etag=None, **kwargs):
    headers = dict(person.headers)
    if etag is not None:
        headers["If-Match"] = etag
    return client.put(f"{BASE}/{name}", json=body, headers=headers, **kwargs)


def _annual_days(rows, days):
    rows = [dict(r) for r in rows]
    next(r for r in rows if r["code"] == "annual")["days_per_year"] = days
    return rows


def test_reading_a_table_gives_rows_schema_and_etag(client, org):
    response = _get(client, org["employee_sales_1"], "leave_types")

    assert response.status_code == 200
    assert response.headers["ETag"] == '"leave_types-v0"'
    body = response.json
    assert body["version"] == 0 and body["key"] == ["code"] and body["writable"] is False
    assert body["schema"]["properties"]["days_per_year"]["type"] == ["integer", "null"]
    annual = next(r for r in body["rows"] if r["code"] == "annual")
    assert annual["days_per_year"] == 28 and annual["title_ru"] == "Ежегодный основной оплачиваемый отпуск"


def test_the_list_shows_each_role_only_the_tables_it_may_read(client, org):
    employee = client.get(BASE, headers=org["employee_sales_1"].headers).json
    manager = client.get(BASE, headers=org["manager_sales"].headers).json

    assert {t["name"] for t in employee} == {
        "leave_types",
        "unpaid_leave_grounds",
        "production_calendar",
        "certificate_slas",
    }
    assert {"department_limits", "bonus_funds"} <= {t["name"] for t in manager}
    assert "bonus_limits" not in {t["name"] for t in manager}  # the caps are DMN decisions
    assert all(t["version"] == 0 and t["updated_by"] is None for t in manager)


@pytest.mark.parametrize(
    ("person", "name", "status"),
    [
        ("employee_sales_1", "department_limits", 403),
        ("employee_sales_1", "bonus_funds", 403),
        ("employee_sales_1", "production_calendar", 200),
        ("manager_sales", "bonus_funds", 200),
        ("designer", "blocked_dates", 200),
        ("hr", "no_such_table", 404),
        ("hr", "bonus_limits", 404),  # bonus caps are the DMN decisions of processes/bonus
    ],
)
def test_who_reads_which_table(client, org, person, name, status):
    response = _get(client, org[person], name)
    assert response.status_code == status
    assert client.get(f"{BASE}/{name}/versions", headers=org[person].headers).status_code == status


def test_hr_edits_with_if_match_and_gets_the_new_version(client, org):
    read = _get(client, org["hr"], "leave_types")
    rows = _annual_days(read.json["rows"], 30)

    response = _put(
        client,
        org["hr"],
        "leave_types",
        {"rows": rows, "comment": "коллективный договор"},
        etag=read.headers["ETag"],
    )

    assert response.status_code == 200, response.json
    assert response.headers["ETag"] == '"leave_types-v1"'
    assert response.json["version"] == 1 and response.json["changed"] is True
    assert response.json["updated_by"] == org["hr"].email
    assert response.json["diff"]["changed"] == [
        {"key": {"code": "annual"}, "changes": {"days_per_year": {"from": 28, "to": 30}}}
    ]
    again = _get(client, org["employee_sales_1"], "leave_types")
    assert again.headers["ETag"] == '"leave_types-v1"'
    assert next(r for r in again.json["rows"] if r["code"] == "annual")["days_per_year"] == 30

    versions = client.get(f"{BASE}/leave_types/versions", headers=org["hr"].headers).json
    assert [(v["version"], v["created_by"], v["changed"]) for v in versions] == [
        (1, org["hr"].email, 1),
        (0, None, 0),
    ]
    assert versions[0]["comment"] == "коллективный договор"
    old = client.get(f"{BASE}/leave_types/versions/0", headers=org["hr"].headers).json
    assert next(r for r in old["rows"] if r["code"] == "annual")["days_per_year"] == 28
    assert client.get(f"{BASE}/leave_types/versions/5", headers=org["hr"].headers).status_code == 404


def test_the_second_of_two_editors_gets_412_and_nothing_is_written(client, org, make_person):
    second_hr = make_person("hr2", "hr")
    first_read = _get(client, org["hr"], "leave_types")
    second_read = _get(client, second_hr, "leave_types")
    assert first_read.headers["ETag"] == second_read.headers["ETag"]

    first = _put(
        client,
        org["hr"],
        "leave_types",
        {"rows": _annual_days(first_read.json["rows"], 30)},
        etag=first_read.headers["ETag"],
    )
    assert first.status_code == 200
    second = _put(
        client,
        second_hr,
        "leave_types",
        {"rows": _annual_days(second_read.json["rows"], 35)},
        etag=second_read.headers["ETag"],
    )

    error = assert_error(second, 412)
    assert f"changed by {org['hr'].email}" in error["message"] and "since you read it" in error["message"]
    current = _get(client, org["hr"], "leave_types")
    assert current.headers["ETag"] == '"leave_types-v1"'
    assert next(r for r in current.json["rows"] if r["code"] == "annual")["days_per_year"] == 30


def test_without_if_match_the_answer_is_428_and_nothing_is_written(client, org):
    rows = _annual_days(_get(client, org["hr"], "leave_types").json["rows"], 30)

    error = assert_error(_put(client, org["hr"], "leave_types", {"rows": rows}), 428)
    assert "If-Match" in error["message"]
    assert assert_error(_put(client, org["hr"], "leave_types", {"rows": rows}, etag='"bonus_funds-v0"'), 412)
    assert _get(client, org["hr"], "leave_types").headers["ETag"] == '"leave_types-v0"'


def test_only_hr_and_admin_write(client, org, admin):
    for person in (org["employee_sales_1"], org["manager_sales"], org["designer"]):
        assert (
            _put(client, person, "department_limits", {"rows": []}, etag='"department_limits-v0"').status_code
            == 403
        )
    rows = [{"department": "*", "max_share": 0.3, "mode": "block"}]
    response = _put(client, admin, "department_limits", {"rows": rows}, etag='"department_limits-v0"')
    assert response.status_code == 200 and response.json["version"] == 1


def test_bad_rows_get_422_with_every_row_and_nothing_is_written(client, org):
    rows = [
        {"department": "*", "max_share": 2, "mode": "block"},
        {"department": "SALES", "max_share": 0.3, "mode": "block"},
        {"department": "OPS", "max_share": 0.3, "mode": "maybe", "colour": "red"},
    ]
    response = _put(client, org["hr"], "department_limits", {"rows": rows}, etag='"department_limits-v0"')

    error = assert_error(response, 422)
    assert "nothing was saved" in error["message"]
    assert {(e["row"], e["field"]) for e in error["errors"]} == {(1, "max_share"), (3, "colour"), (3, "mode")}
    assert all(e["message"] for e in error["errors"])
    assert _get(client, org["hr"], "department_limits").json["version"] == 0


def test_annual_leave_below_the_legal_28_days_is_refused(client, org):
    read = _get(client, org["hr"], "leave_types")
    response = _put(
        client,
        org["hr"],
        "leave_types",
        {"rows": _annual_days(read.json["rows"], 21)},
        etag=read.headers["ETag"],
    )

    error = assert_error(response, 422)
    (problem,) = error["errors"]
    assert problem["field"] == "days_per_year" and "may not be below 28" in problem["message"]


def test_a_malformed_body_is_a_clear_422(client, org):
    etag = '"leave_types-v0"'
    assert (
        assert_error(_put(client, org["hr"], "leave_types", {"lines": []}, etag=etag), 422)["errors"][0][
            "field"
        ]
        == "rows"
    )
    assert (
        assert_error(_put(client, org["hr"], "leave_types", {"rows": {}}, etag=etag), 422)["errors"][0][
            "field"
        ]
        == "rows"
    )
    assert (
        assert_error(_put(client, org["hr"], "leave_types", {"rows": [1]}, etag=etag), 422)["errors"][0][
            "row"
        ]
        == 1
    )


def test_csv_export_then_import_gives_the_same_rows_with_cyrillic_intact(client, org):
    exported = _get(client, org["hr"], "unpaid_leave_grounds", query_string={"format": "csv"})
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert exported.data.startswith(b"\xef\xbb\xbf")
    assert "Регистрация брака" in exported.data.decode("utf-8-sig")
    by_accept = _get(client, org["hr"], "unpaid_leave_grounds", accept="text/csv")
    assert by_accept.data == exported.data

    edited = exported.data.decode("utf-8-sig").replace(
        ";Working disabled person;60;", ";Working disabled person;90;"
    )
    response = client.put(
        f"{BASE}/unpaid_leave_grounds",
        data=("\ufeff" + edited).encode(),
        content_type="text/csv",
        query_string={"comment": "коллективный договор п. 5"},
        headers={**org["hr"].headers, "If-Match": exported.headers["ETag"]},
    )
    assert response.status_code == 200, response.json
    assert response.json["version"] == 1
    assert response.json["diff"]["changed"] == [
        {"key": {"code": "disabled"}, "changes": {"cap_days": {"from": 60, "to": 90}}}
    ]

    again = _get(client, org["hr"], "unpaid_leave_grounds", query_string={"format": "csv"})
    assert again.data.decode("utf-8-sig") == edited
    unchanged = client.put(
        f"{BASE}/unpaid_leave_grounds",
        data=again.data,
        content_type="text/csv",
        headers={**org["hr"].headers, "If-Match": again.headers["ETag"]},
    )
    assert (
        unchanged.status_code == 200 and unchanged.json["changed"] is False and unchanged.json["version"] == 1
    )


def test_csv_import_refusal_names_the_file_lines(client, org):
    data = (
        "department;from;to;reason;allow\n"
        "*;2026-12-25;2026-12-31;Закрытие года;\n"
        "SALES;2026-12-31;2026-12-01;x;\n"
        "*;31.12.2026;2027-01-01;y;\n"
    )
    response = client.put(
        f"{BASE}/blocked_dates",
        data=data.encode(),
        content_type="text/csv",
        headers={**org["hr"].headers, "If-Match": '"blocked_dates-v0"'},
    )
    error = assert_error(response, 422)
    assert {(e["row"], e["field"]) for e in error["errors"]} == {(3, "to"), (4, "from")}
    assert _get(client, org["hr"], "blocked_dates").json["rows"] == []


def test_a_change_shows_in_the_audit_trail_without_row_contents(client, org, session_factory):
    from sqlalchemy import select

    from engine.db import session_scope
    from engine.models import AuditEvent

    rows = [
        {
            "department": "SALES",
            "from": "2026-12-25",
            "to": "2026-12-31",
            "reason": "x",
            "allow": [org["manager_sales"].email],
        }
    ]
    assert (
        _put(client, org["hr"], "blocked_dates", {"rows": rows}, etag='"blocked_dates-v0"').status_code == 200
    )
    with session_scope(session_factory) as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "rule_table.changed"))
        assert event.details["table"] == "blocked_dates" and event.details["version"] == 1
        assert org["manager_sales"].email not in str(event.details)
