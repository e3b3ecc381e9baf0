"""Decision records: what a rule decided, on which table versions; immutable, shown in the API and history."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.errors import InvalidData
from engine.models import AuditEvent, DecisionRecord
from engine.services import decision_records, rule_tables
from tests.engine.helpers import bundle_file, start, user
from tests.engine.helpers import deploy as deploy_bundle

BALANCE_INPUTS = {"employee": "employee_sales_1", "available": 10, "requested": 14}


@pytest.fixture
def leave(session_factory, org):
    """A request of employee_sales_1 waiting for their manager (manager_sales).

    A route without hooks, so the records in these tests are the only ones (the shipped leave
    route records its own checks).
    """
    deploy_bundle(session_factory, bundle_file("assignment/lane_manager.bpmn"))
    return start(session_factory, "lane_manager", org["employee_sales_1"], {})


def _record_balance(factory, instance_id, **kwargs):
    with session_scope(factory) as s:
        version, rows = decision_records.table_rows(s, "leave_types")
        annual = next(r for r in rows if r["code"] == "annual")
        record = decision_records.record_decision(
            s,
            instance_id,
            "leave.balance",
            {**BALANCE_INPUTS, "days_per_year": annual["days_per_year"]},
            {"ok": False, "available": 10, "requested": 14},
            "INSUFFICIENT_BALANCE",
            "balance 10, requested 14: insufficient",
            {"leave_types": version},
            element_id="check_balance",
            **kwargs,
        )
        return record.id


def test_a_rule_table_change_never_touches_a_recorded_decision(session_factory, org, leave):
    record_id = _record_balance(session_factory, leave.id)

    with session_scope(session_factory) as s:
        _version, rows = rule_tables.table_rows(s, "leave_types")
        rows = [dict(r) for r in rows]
        next(r for r in rows if r["code"] == "annual")["days_per_year"] = 31
        state, _ = rule_tables.replace_rows(
            s, "leave_types", rows, actor=user(s, org["hr"]), expected_version=0
        )
        assert state.version == 1

    with session_scope(session_factory) as s:
        (record,) = decision_records.decisions_for_instance(s, leave.id)
        assert record.id == record_id
        assert record.tables == {"leave_types": 0}
        assert record.inputs["days_per_year"] == 28
        assert record.output == {"ok": False, "available": 10, "requested": 14}
        assert record.outcome == "INSUFFICIENT_BALANCE"
        assert record.message == "balance 10, requested 14: insufficient"
        # The version it names still reads as it was.
        assert rule_tables.get_version(s, "leave_types", 0).rows[0]["days_per_year"] == 28


def test_a_decision_cannot_be_edited(session_factory, leave):
    _record_balance(session_factory, leave.id)

    with session_scope(session_factory) as s:
        record = s.scalar(select(DecisionRecord))
        record.outcome = "OK"
        with pytest.raises(ValueError, match="immutable"):
            s.flush()
        s.rollback()
    with session_scope(session_factory) as s:
        assert s.scalar(select(DecisionRecord.outcome)) == "INSUFFICIENT_BALANCE"


def test_each_decision_is_audited_with_rule_outcome_and_versions_but_no_inputs(session_factory, leave):
    record_id = _record_balance(session_factory, leave.id)

    with session_scope(session_factory) as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "decision.recorded"))
        assert event.instance_id == leave.id
        assert event.details == {
            "decision_id": record_id,
            "rule": "leave.balance",
            "outcome": "INSUFFICIENT_BALANCE",
            "element_id": "check_balance",
            "tables": {"leave_types": 0},
        }


def test_malformed_decisions_are_refused(session_factory, leave):
    with session_scope(session_factory) as s, pytest.raises(InvalidData) as refused:
        decision_records.record_decision(s, leave.id, "", [1], None, "", "", {"leave_types": "latest"})
    assert {p["field"] for p in refused.value.details} == {"rule", "outcome", "inputs", "tables"}


# --- the instance API ------------------------------------------------------------------------------


def _salary_decision(factory, instance_id):
    with session_scope(factory) as s:
        decision_records.record_decision(
            s,
            instance_id,
            "bonus.limit",
            {"amount": 60000, "salary": 123457, "bonus_type": "kpi"},
            {"result": "REJECT", "ratio": 0.49},
            "REJECT",
            "KPI bonus 60000 exceeds 50% of salary 123457",
            {"bonus_limits": 0},
            sensitive_fields=["salary"],
        )


def test_the_instance_api_shows_decisions_to_whoever_sees_the_request(client, session_factory, org, leave):
    _record_balance(session_factory, leave.id)
    path = f"/api/v1/instances/{leave.id}/decisions"

    own = client.get(path, headers=org["employee_sales_1"].headers)
    assert own.status_code == 200
    (decision,) = own.json
    assert decision["rule"] == "leave.balance" and decision["outcome"] == "INSUFFICIENT_BALANCE"
    assert decision["message"] == "balance 10, requested 14: insufficient"
    assert decision["tables"] == {"leave_types": 0} and decision["inputs"]["available"] == 10
    assert client.get(path, headers=org["manager_sales"].headers).status_code == 200
    assert client.get(path, headers=org["hr"].headers).status_code == 200
    assert client.get(path, headers=org["employee_ops_1"].headers).status_code == 404
    assert client.get(path, headers=org["manager_ops"].headers).status_code == 404

    history = client.get(
        f"/api/v1/instances/{leave.id}/history", headers=org["employee_sales_1"].headers
    ).json
    recorded = [e for e in history if e["action"] == "decision.recorded"]
    assert len(recorded) == 1
    assert recorded[0]["details"]["outcome"] == "INSUFFICIENT_BALANCE"
    assert recorded[0]["details"]["tables"] == {"leave_types": 0}


def test_sensitive_inputs_are_masked_for_those_who_may_not_see_them(client, session_factory, org, leave):
    _salary_decision(session_factory, leave.id)
    path = f"/api/v1/instances/{leave.id}/decisions"

    (for_manager,) = client.get(path, headers=org["manager_sales"].headers).json
    assert for_manager["masked"] is True
    assert for_manager["inputs"]["salary"] == "*****" and for_manager["inputs"]["amount"] == 60000
    assert "123457" not in for_manager["message"] and "60000" in for_manager["message"]

    for viewer in ("employee_sales_1", "hr"):
        (shown,) = client.get(path, headers=org[viewer].headers).json
        assert shown["masked"] is False and shown["inputs"]["salary"] == 123457
        assert "123457" in shown["message"]

    history = client.get(f"/api/v1/instances/{leave.id}/history", headers=org["manager_sales"].headers)
    assert "123457" not in history.get_data(as_text=True)


def test_purge_can_erase_the_decisions_of_an_instance(session_factory, leave):
    _record_balance(session_factory, leave.id)
    with session_scope(session_factory) as s:
        assert decision_records.erase_for_instance(s, leave.id) == 1
    with session_scope(session_factory) as s:
        assert decision_records.decisions_for_instance(s, leave.id) == []
