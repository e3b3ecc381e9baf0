"""Deploying bundles through the API, and reading the deployed versions back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.db import session_scope
from engine.models import AuditEvent, DefinitionFile, ProcessDefinition
from tests.api.helpers import LEAVE, assert_error, bundle_file, leave_bundle, upload


def stored_counts(session_factory) -> tuple[int, int, int]:
    """Definitions, their files and audit events in the database."""
    with session_scope(session_factory) as s:
        return (
            s.scalar(select(func.count()).select_from(ProcessDefinition)),
            s.scalar(select(func.count()).select_from(DefinitionFile)),
            s.scalar(select(func.count()).select_from(AuditEvent)),
        )


def test_a_designer_deploys_the_leave_bundle(client, org, session_factory):
    designer = org["designer"]
    response = upload(client, designer, leave_bundle())
    assert response.status_code == 201, response.json
    deployed = response.json
    assert deployed["key"] == "leave_request"
    assert deployed["version"] == 1
    assert deployed["id"]

    listed = client.get("/api/v1/definitions", headers=org["employee_sales_1"].headers)
    assert listed.status_code == 200, listed.json
    (row,) = listed.json
    assert (row["id"], row["key"], row["version"]) == (deployed["id"], "leave_request", 1)
    assert row["name"] == "Leave request"
    assert row["start_form"] == "leave_request.json"
    assert row["start_form_schema"]["required"] == ["leave_type", "start", "end"]
    assert stored_counts(session_factory)[:2] == (1, len(leave_bundle()))


def test_a_bundle_with_broken_references_is_refused_with_the_element_pinned(client, org, session_factory):
    designer = org["designer"]
    before = client.get("/api/v1/definitions", headers=designer.headers).json
    counts_before = stored_counts(session_factory)

    response = upload(client, designer, bundle_file("broken_reference.bpmn"))

    body = assert_error(response, 422)
    report = body["errors"]
    assert isinstance(report, list) and report
    for entry in report:
        assert set(entry) == {"file", "element_id", "line", "message"}
        assert entry["file"] == "broken_reference.bpmn"
    user_task_line = _line_of(Path(__file__).parent / "bundles" / "broken_reference.bpmn", 'id="approve"')
    missing_form = [e for e in report if "approval.json" in e["message"]]
    assert missing_form == [
        {
            "file": "broken_reference.bpmn",
            "element_id": "approve",
            "line": user_task_line,
            "message": missing_form[0]["message"],
        }
    ]
    missing_target = [e for e in report if e is not missing_form[0]]
    assert missing_target, "the flow to the missing element 'vanished_end' is not reported"
    assert all(e["element_id"] for e in missing_target)

    assert client.get("/api/v1/definitions", headers=designer.headers).json == before == []
    assert_error(client.get("/api/v1/definitions/broken_reference", headers=designer.headers), 404)
    assert stored_counts(session_factory) == counts_before


def test_malformed_xml_is_refused_naming_file_and_line(client, org, session_factory):
    response = upload(client, org["designer"], bundle_file("malformed.bpmn"))
    body = assert_error(response, 422)
    (entry,) = body["errors"]
    assert entry["file"] == "malformed.bpmn"
    assert entry["line"] == 9  # where </bpmn:process> closes the still-open userTask
    assert "malformed" in entry["message"].lower()
    assert stored_counts(session_factory)[:2] == (0, 0)


XXE_IN_TEXT = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE bpmn:definitions [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="xxe_text_definitions" targetNamespace="https://approute.example/tests/xxe">
  <bpmn:process id="xxe_text" name="Leak" isExecutable="true">
    <bpmn:documentation>&xxe;</bpmn:documentation>
    <bpmn:startEvent id="start"><bpmn:outgoing>to_done</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_done" sourceRef="start" targetRef="done"/>
    <bpmn:endEvent id="done"><bpmn:incoming>to_done</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.mark.parametrize(
    "files",
    [bundle_file("xxe.bpmn"), {"xxe_text.bpmn": XXE_IN_TEXT}],
    ids=["entity-in-attribute", "entity-in-text"],
)
def test_an_xxe_bundle_is_refused_without_leaking_the_file(client, org, session_factory, files):
    response = upload(client, org["designer"], files)
    body = assert_error(response, 422)
    (filename,) = files
    assert [e["file"] for e in body["errors"]] == [filename]
    text = response.get_data(as_text=True)
    assert "root:" not in text
    passwd = Path("/etc/passwd")
    if passwd.exists():
        for line in passwd.read_text().splitlines()[:5]:
            assert line not in text
    assert stored_counts(session_factory)[:2] == (0, 0)


def test_an_upload_without_files_is_refused(client, org, session_factory):
    response = client.post(
        "/api/v1/definitions", data={}, content_type="multipart/form-data", headers=org["designer"].headers
    )
    body = assert_error(response, 422)
    assert "files" in body["message"]
    assert body["errors"]
    assert stored_counts(session_factory)[:2] == (0, 0)


def test_a_bundle_without_a_bpmn_file_is_refused(client, org, session_factory):
    forms_only = {n: c for n, c in leave_bundle().items() if n.endswith(".json")}
    body = assert_error(upload(client, org["designer"], forms_only), 422)
    assert any("bpmn" in e["message"] for e in body["errors"])
    assert stored_counts(session_factory)[:2] == (0, 0)


def test_redeploying_makes_version_two_and_keeps_version_one(client, org):
    designer = org["designer"]
    first = upload(client, designer, leave_bundle())
    second = upload(client, designer, leave_bundle())
    assert first.status_code == 201, first.json
    assert second.status_code == 201, second.json
    assert (first.json["version"], second.json["version"]) == (1, 2)
    assert first.json["id"] != second.json["id"]

    (latest,) = client.get("/api/v1/definitions", headers=designer.headers).json
    assert (latest["key"], latest["version"], latest["id"]) == ("leave_request", 2, second.json["id"])

    detail = client.get("/api/v1/definitions/leave_request", headers=designer.headers)
    assert detail.status_code == 200, detail.json
    assert detail.json["version"] == 2
    assert detail.json["id"] == second.json["id"]
    assert [(v["version"], v["id"]) for v in detail.json["versions"]] == [
        (2, second.json["id"]),
        (1, first.json["id"]),
    ]


def test_new_instances_start_on_the_latest_version(client, org, leave_definition):
    upload(client, org["designer"], leave_bundle())
    response = client.post(
        "/api/v1/definitions/leave_request/instances",
        json={"data": {**LEAVE, "leave_type": "study"}},
        headers=org["employee_ops_1"].headers,
    )
    assert response.status_code == 201, response.json
    assert response.json["version"] == 2


def test_the_definition_list_shows_the_latest_of_each_key(client, org, leave_definition):
    # A second, valid key: the leave route under another process id.
    renamed = {
        name: content.replace(b'id="leave_request"', b'id="leave_request_b"').replace(
            b'processRef="leave_request"', b'processRef="leave_request_b"'
        )
        for name, content in leave_bundle().items()
    }
    assert upload(client, org["designer"], renamed).status_code == 201
    assert upload(client, org["designer"], leave_bundle()).status_code == 201
    listed = client.get("/api/v1/definitions", headers=org["hr"].headers).json
    assert [(d["key"], d["version"]) for d in listed] == [("leave_request", 2), ("leave_request_b", 1)]


def test_an_unknown_key_is_not_found(client, org, leave_definition):
    body = assert_error(client.get("/api/v1/definitions/no_such_process", headers=org["hr"].headers), 404)
    assert "no_such_process" in body["message"]


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle} not in {path}")


def test_a_form_key_that_is_not_json_schema_deploys_with_a_warning(client, org):
    response = upload(client, org["designer"], bundle_file("camunda_html_form.bpmn"))

    assert response.status_code == 201, response.json
    (warning,) = response.json["warnings"]
    assert warning["element_id"] == "approve"
    assert warning["line"] == 6
    assert "not a JSON Schema file" in warning["message"]
    detail = client.get("/api/v1/definitions/camunda_html_form", headers=org["designer"].headers).json
    assert detail["warnings"] == response.json["warnings"]

    started = client.post(
        "/api/v1/definitions/camunda_html_form/instances",
        json={"data": {}},
        headers=org["employee_sales_1"].headers,
    )
    (task,) = started.json["open_tasks"]
    assert task["form_schema"] is None
