"""Deploying bundles: immutable versions, and refusals that report where and store nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.errors import InvalidBundle
from engine.models import AuditEvent, DefinitionFile, ProcessDefinition
from engine.services import definitions
from tests.engine.helpers import (
    BUNDLES,
    bundle_file,
    count,
    deploy,
    leave_request_files,
    line_of,
)


def test_leave_request_deploys_as_version_1_then_2(session_factory, org):
    first = deploy(session_factory, leave_request_files(), actor=org["designer"])
    assert (first.key, first.version, first.name) == ("leave_request", 1, "Leave request")

    with session_scope(session_factory) as s:
        stored = s.get(ProcessDefinition, first.id)
        before = {
            "checksum": stored.checksum,
            "spec_json": stored.spec_json,
            "task_meta": stored.task_meta,
            "forms": stored.forms,
            "start_form": stored.start_form,
            "deployed_at": stored.deployed_at,
            "files": sorted((f.filename, f.content) for f in stored.files),
        }
    assert before["start_form"] == "leave_request.json"
    assert [name for name, _ in before["files"]] == [
        "director_approval.json",
        "hr_registration.json",
        "leave_request.bpmn",
        "leave_request.json",
        "manager_approval.json",
        "replacement_acceptance.json",
    ]

    second = deploy(session_factory, leave_request_files(), actor=org["designer"])
    assert (second.key, second.version) == ("leave_request", 2)
    assert second.id != first.id

    with session_scope(session_factory) as s:
        stored = s.get(ProcessDefinition, first.id)
        after = {
            "checksum": stored.checksum,
            "spec_json": stored.spec_json,
            "task_meta": stored.task_meta,
            "forms": stored.forms,
            "start_form": stored.start_form,
            "deployed_at": stored.deployed_at,
            "files": sorted((f.filename, f.content) for f in stored.files),
        }
        assert after == before
        assert [d.version for d in definitions.list_versions(s, "leave_request")] == [2, 1]
        assert definitions.get_latest(s, "leave_request").id == second.id
        deployed = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "definition.deployed").order_by(AuditEvent.id)
        ).all()
        assert [(e.details["version"], e.actor_id) for e in deployed] == [
            (1, org["designer"].id),
            (2, org["designer"].id),
        ]


def _refused(session_factory, files: dict[str, bytes]) -> list[dict]:
    """Deploy ``files`` expecting a refusal; check nothing was stored; return the report."""
    definitions_before = count(session_factory, ProcessDefinition)
    files_before = count(session_factory, DefinitionFile)
    events_before = count(session_factory, AuditEvent)
    # Caught inside the unit of work, so the scope commits whatever the service left behind.
    with session_scope(session_factory) as s, pytest.raises(InvalidBundle) as refused:
        definitions.deploy_bundle(s, files, actor=None)
    assert count(session_factory, ProcessDefinition) == definitions_before
    assert count(session_factory, DefinitionFile) == files_before
    assert count(session_factory, AuditEvent) == events_before
    report = refused.value.details
    assert isinstance(report, list) and report, report
    for entry in report:
        assert set(entry) == {"file", "element_id", "line", "message"}, entry
    return report


def test_flow_to_a_missing_element_is_refused_naming_it(session_factory):
    report = _refused(session_factory, bundle_file("invalid/missing_target.bpmn"))

    # The designer must learn which reference is broken: the missing target's id has to
    # appear, pinned to the flow or to the task it leaves from.
    assert len(report) == 1, report
    entry = report[0]
    assert entry["file"] == "missing_target.bpmn"
    assert entry["element_id"] in {"to_nowhere", "act"}
    assert isinstance(entry["line"], int)
    assert "vanished_end" in entry["message"], entry


@pytest.mark.parametrize(
    ("fixture", "reference"),
    [
        ("invalid/missing_form_spiff.bpmn", "approval.json"),
        ("invalid/missing_form_camunda.bpmn", "approval.json"),
    ],
    ids=["spiffworkflow-formJsonSchemaFilename", "camunda-formKey"],
)
def test_user_task_naming_a_missing_form_is_refused_at_its_line(session_factory, fixture, reference):
    report = _refused(session_factory, bundle_file(fixture, name="missing_form.bpmn"))

    assert report == [
        {
            "file": "missing_form.bpmn",
            "element_id": "approve",
            "line": line_of(fixture, '<bpmn:userTask id="approve"'),
            "message": report[0]["message"],
        }
    ]
    assert reference in report[0]["message"]
    assert "not in the bundle" in report[0]["message"]


def test_malformed_xml_is_refused_with_file_and_line(session_factory):
    report = _refused(session_factory, bundle_file("invalid/malformed.bpmn"))

    assert len(report) == 1, report
    assert report[0]["file"] == "malformed.bpmn"
    # libxml2 notices the unclosed userTask where the process closes.
    assert report[0]["line"] == line_of("invalid/malformed.bpmn", "</bpmn:process>")
    assert "malformed XML" in report[0]["message"]


def test_doctype_with_external_entity_is_refused(session_factory):
    report = _refused(session_factory, bundle_file("invalid/xxe.bpmn"))

    assert len(report) == 1, report
    assert report[0]["file"] == "xxe.bpmn"
    assert re.search(r"DOCTYPE|entit", report[0]["message"], re.IGNORECASE), report
    # The entity was never expanded: nothing of the local file leaks into the report.
    assert "root:" not in repr(report)


def test_form_that_is_not_json_is_refused_with_file_and_line(session_factory):
    files = leave_request_files()
    files["manager_approval.json"] = (BUNDLES / "invalid/not_json.json").read_bytes()

    report = _refused(session_factory, files)

    assert len(report) == 1, report
    assert report[0]["file"] == "manager_approval.json"
    assert report[0]["line"] == line_of("invalid/not_json.json", '"approved"')
    assert "not valid JSON" in report[0]["message"]


def test_script_importing_os_is_refused_by_the_sandbox(session_factory):
    report = _refused(session_factory, bundle_file("invalid/script_import.bpmn"))

    entries = [e for e in report if e["element_id"] == "escape"]
    assert entries, report
    assert entries[0]["file"] == "script_import.bpmn"
    assert "refused" in entries[0]["message"]
    assert "import" in entries[0]["message"].lower()


def test_two_bpmn_files_are_refused(session_factory):
    files = {**leave_request_files(), **bundle_file("assignment/lane_hr.bpmn")}

    report = _refused(session_factory, files)

    assert [e["message"] for e in report] == ["a bundle holds exactly one .bpmn file, found 2"]


def test_unknown_file_extension_is_refused_naming_the_file(session_factory):
    files = {**leave_request_files(), "notes.txt": b"remember to ask HR"}

    report = _refused(session_factory, files)

    assert len(report) == 1, report
    assert report[0]["file"] == "notes.txt"
    assert "unsupported file type" in report[0]["message"]


def test_refusal_after_a_good_version_leaves_that_version_alone(session_factory, org):
    """A refused upload does not burn a version number or touch the stored one."""
    deploy(session_factory, leave_request_files(), actor=org["designer"])
    broken = leave_request_files()
    broken["hr_registration.json"] = b"{"

    _refused(session_factory, broken)

    again = deploy(session_factory, leave_request_files())
    assert again.version == 2
    with session_scope(session_factory) as s:
        assert [d.version for d in definitions.list_versions(s, "leave_request")] == [2, 1]
