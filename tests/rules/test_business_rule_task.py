"""Business-rule tasks run on approute's FEEL/DMN evaluator, end to end through deploy and start,
on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from engine.db import session_scope
from engine.errors import InstanceFailed, InvalidBundle
from engine.models import ProcessInstance
from engine.services import definitions
from tests.engine.helpers import bundle_file, count, deploy, get_instance, line_of, start


def _route_files(dmn: str = "dmn/bonus_rules.dmn") -> dict[str, bytes]:
    return {**bundle_file("dmn/bonus_route.bpmn"), **bundle_file(dmn)}


@pytest.mark.parametrize(
    ("amount", "bonus_type", "role", "rule"),
    [
        (20_000, "kpi", "manager", "r_small"),
        (70_000, "kpi", "director", "r_big"),
        (90_000, "one_off", "ceo", "r_one_off"),
    ],
)
def test_the_decision_table_and_its_required_decision_set_the_task_data(
    session_factory, org, amount, bonus_type, role, rule
):
    deploy(session_factory, _route_files())

    instance = start(
        session_factory, "bonus_route", org["manager_sales"], {"amount": amount, "bonus type": bonus_type}
    )

    data = get_instance(session_factory, instance.id).data
    # under the decision's name, and under the table's output column, as SpiffWorkflow did
    assert data["approver"] == role
    assert data["approver_role"] == role


def test_the_spec_stored_for_the_version_carries_the_decision_not_a_python_table(session_factory, org):
    definition = deploy(session_factory, _route_files())
    with session_scope(session_factory) as s:
        spec_json = definitions.snapshot(s, definition.id).spec_json
    assert '"feel_decision"' in spec_json
    assert '"decision_table"' not in spec_json


def test_a_unique_table_with_two_matching_rules_fails_the_step_naming_the_decision(session_factory, org):
    deploy(session_factory, _route_files())

    with pytest.raises(InstanceFailed) as failure:
        start(
            session_factory, "bonus_route", org["manager_sales"], {"amount": 80_000, "bonus type": "project"}
        )

    assert failure.value.details == {"element_id": "decide"}
    assert "decision 'approver'" in failure.value.message
    assert "UNIQUE but rules 2, 3 all match" in failure.value.message
    assert count(session_factory, ProcessInstance) == 0


def test_a_cell_that_is_not_feel_is_refused_at_deploy_with_file_line_and_element(session_factory):
    with pytest.raises(InvalidBundle) as refused:
        deploy(session_factory, _route_files("dmn/bad_cell.dmn"))

    (entry,) = refused.value.details
    assert entry["file"] == "bad_cell.dmn"
    assert entry["element_id"] == "cell_evil"
    assert entry["line"] == line_of("dmn/bad_cell.dmn", "__import__")
    assert "rule 2" in entry["message"]


def test_a_required_decision_missing_from_the_file_is_refused_at_deploy(session_factory):
    with pytest.raises(InvalidBundle) as refused:
        deploy(session_factory, _route_files("dmn/broken_drd.dmn"))

    (entry,) = refused.value.details
    assert entry["file"] == "broken_drd.dmn"
    assert entry["element_id"] == "approver"
    assert entry["line"] == line_of("dmn/broken_drd.dmn", '<decision id="approver"')
    assert "requires decision 'limit', which is not in the file" in entry["message"]
