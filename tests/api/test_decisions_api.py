"""/api/v1/decisions: HR edits a DMN decision a route calls, with ETags; the preview writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.models import AuditEvent, DecisionRecord, ProcessInstance, RuleTable, RuleTableVersion
from tests.api.helpers import assert_error, upload
from tests.engine.helpers import count

DMN_DIR = Path(__file__).resolve().parents[1] / "bundles" / "dmn"
DMN = (DMN_DIR / "bonus_rules.dmn").read_text()
HR_DMN = DMN.replace('"manager"</text>', '"hr_partner"</text>')
BONUS = {"amount": 20_000, "bonus type": "kpi"}
XML = {"Content-Type": "application/xml"}


@pytest.fixture
def bonus_route(client, org):
    files = {name: (DMN_DIR / name).read_bytes() for name in ("bonus_route.bpmn", "bonus_rules.dmn")}
    response = upload(client, org["designer"], files)
    assert response.status_code == 201, response.json
    return response.json


def _put(
    client, person, text: str, if_match: str | None = '"approver-v0"', decision_id="approver", **headers
):
    headers = {**person.headers, **XML, **headers}
    if if_match is not None:
        headers["If-Match"] = if_match
    return client.put(f"/api/v1/decisions/{decision_id}", data=text.encode(), headers=headers)


def _start(client, person) -> dict:
    response = client.post(
        "/api/v1/definitions/bonus_route/instances", json={"data": BONUS}, headers=person.headers
    )
    assert response.status_code == 201, response.json
    return response.json


def _decisions_of(client, person, instance_id) -> list[dict]:
    response = client.get(f"/api/v1/instances/{instance_id}/decisions", headers=person.headers)
    assert response.status_code == 200, response.json
    return response.json


def test_hr_lists_the_decisions_of_the_deployed_bundles(client, org, bonus_route):
    response = client.get("/api/v1/decisions", headers=org["hr"].headers)

    assert response.status_code == 200
    approver = next(d for d in response.json if d["decision_id"] == "approver")
    assert approver["version"] == 0 and approver["name"] == "approver"
    assert approver["source"] == {"key": "bonus_route", "version": 1, "filename": "bonus_rules.dmn"}
    assert {d["decision_id"] for d in response.json} == {"approver", "share"}


def test_get_answers_the_dmn_in_force_with_its_etag(client, org, bonus_route):
    response = client.get("/api/v1/decisions/approver", headers=org["hr"].headers)

    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.headers["ETag"] == '"approver-v0"'
    assert response.get_data(as_text=True) == DMN


def test_hrs_version_decides_new_instances_and_the_old_decision_stays(client, org, bonus_route):
    before = _start(client, org["manager_sales"])

    saved = _put(client, org["hr"], HR_DMN)
    after = _start(client, org["manager_sales"])

    assert saved.status_code == 200, saved.json
    assert saved.headers["ETag"] == '"approver-v1"'
    assert saved.json["version"] == 1 and saved.json["changed"] is True
    assert saved.json["created_by"] == org["hr"].email
    current = client.get("/api/v1/decisions/approver", headers=org["hr"].headers)
    assert current.get_data(as_text=True) == HR_DMN and current.headers["ETag"] == '"approver-v1"'
    assert after["data"]["approver"] == "hr_partner"
    (old,) = _decisions_of(client, org["hr"], before["id"])
    (new,) = _decisions_of(client, org["hr"], after["id"])
    assert (old["tables"], old["output"]) == ({"dmn:approver": 0}, "manager")
    assert (new["tables"], new["output"]) == ({"dmn:approver": 1}, "hr_partner")
    versions = client.get("/api/v1/decisions/approver/versions", headers=org["hr"].headers).json
    assert [v["version"] for v in versions] == [1, 0]
    assert versions[0]["lines_added"] == 1 and versions[0]["lines_removed"] == 1


def test_without_if_match_the_change_is_refused_with_428(client, org, bonus_route):
    response = _put(client, org["hr"], HR_DMN, if_match=None)

    assert "If-Match" in assert_error(response, 428)["message"]
    assert count(client.application.extensions["approute.sessions"], RuleTableVersion) == 0


def test_a_stale_etag_is_refused_with_412_naming_who_changed_it(client, org, bonus_route):
    assert _put(client, org["hr"], HR_DMN).status_code == 200

    response = _put(client, org["hr"], DMN.replace('"manager"</text>', '"director"</text>'))

    body = assert_error(response, 412)
    assert org["hr"].email in body["message"] and "version 1" in body["message"]
    current = client.get("/api/v1/decisions/approver", headers=org["hr"].headers)
    assert current.get_data(as_text=True) == HR_DMN


def test_a_bad_feel_cell_is_refused_with_422_naming_line_and_element(client, org, bonus_route):
    bad = HR_DMN.replace("<text>&lt; 0.5</text>", "<text>[0.5..</text>")
    line = next(i for i, text in enumerate(bad.splitlines(), 1) if "[0.5..<" in text)

    response = _put(client, org["hr"], bad)

    body = assert_error(response, 422)
    (problem,) = body["errors"]
    assert (problem["line"], problem["element_id"]) == (line, "r_small")
    assert f"line {line}" in body["message"]
    assert (
        client.get("/api/v1/decisions/approver", headers=org["hr"].headers).headers["ETag"] == '"approver-v0"'
    )


def test_a_file_without_the_decision_is_refused_with_422(client, org, bonus_route):
    response = _put(client, org["hr"], DMN.replace('id="approver"', 'id="approver_2"'))

    assert "no longer holds the decision approver" in assert_error(response, 422)["message"]


def test_a_body_that_is_not_xml_is_refused_with_415(client, org, bonus_route):
    response = _put(client, org["hr"], HR_DMN, **{"Content-Type": "application/json"})

    assert_error(response, 415)


def test_the_preview_evaluates_without_writing_anything(client, org, bonus_route):
    assert _put(client, org["hr"], HR_DMN).status_code == 200
    sessions = client.application.extensions["approute.sessions"]
    tables = (AuditEvent, DecisionRecord, ProcessInstance, RuleTable, RuleTableVersion)
    before = {model: count(sessions, model) for model in tables}

    now = client.post(
        "/api/v1/decisions/approver/evaluate", json={"inputs": BONUS}, headers=org["hr"].headers
    )
    then = client.post(
        "/api/v1/decisions/approver/evaluate",
        json={"inputs": BONUS, "version": 0},
        headers=org["designer"].headers,
    )

    assert now.status_code == 200, now.json
    assert now.json == {
        "decision_id": "approver",
        "version": 1,
        "output": "hr_partner",
        "matched_rules": ["r_small"],
        "errors": [],
    }
    assert (then.status_code, then.json["version"], then.json["output"]) == (200, 0, "manager")
    assert {model: count(sessions, model) for model in tables} == before


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v1/decisions/nobody/evaluate", {"inputs": {}}, 404),
        ("/api/v1/decisions/approver/evaluate", {"inputs": [1, 2]}, 422),
        ("/api/v1/decisions/approver/evaluate", {"inputs": {}, "version": 9}, 404),
        ("/api/v1/decisions/approver/evaluate", {}, 422),
    ],
)
def test_the_preview_refuses_unknown_decisions_and_bad_inputs(client, org, bonus_route, path, body, status):
    response = client.post(path, json=body, headers=org["hr"].headers)

    assert_error(response, status)


@pytest.mark.parametrize("person", ["employee_sales_1", "manager_sales"])
def test_employees_and_managers_may_not_read_change_or_try_decisions(client, org, bonus_route, person):
    caller = org[person]

    assert_error(client.get("/api/v1/decisions", headers=caller.headers), 403)
    assert_error(client.get("/api/v1/decisions/approver", headers=caller.headers), 403)
    assert_error(_put(client, caller, HR_DMN), 403)
    evaluate = client.post(
        "/api/v1/decisions/approver/evaluate", json={"inputs": BONUS}, headers=caller.headers
    )
    assert_error(evaluate, 403)


def test_a_designer_reads_and_tries_but_may_not_change(client, org, bonus_route):
    assert client.get("/api/v1/decisions/approver", headers=org["designer"].headers).status_code == 200

    assert_error(_put(client, org["designer"], HR_DMN), 403)


def test_unknown_decisions_are_404(client, org, bonus_route):
    assert_error(client.get("/api/v1/decisions/nobody", headers=org["hr"].headers), 404)
    assert_error(client.get("/api/v1/decisions/nobody/versions", headers=org["hr"].headers), 404)
