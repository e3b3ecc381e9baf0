"""BPMN scripts and conditions call the HR calculators through rules.REGISTRY, on both databases.

A tiny bundle counts the days of a leave in a script task, checks the split rule and the
department limit, and picks its path on the outcome in a gateway condition.
"""

from __future__ import annotations

from engine.models import InstanceStatus
from tests.engine.helpers import complete, deploy, get_instance, only_open_task, start

BUNDLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="rules_in_scripts_definitions"
                  targetNamespace="https://approute.example/tests/rules_in_scripts">
  <bpmn:process id="rules_in_scripts" name="Rules in scripts" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_employee" name="Employee">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>evaluate</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>split_ok</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>fix_dates</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>done</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>to_evaluate</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_evaluate" sourceRef="start" targetRef="evaluate"/>
    <bpmn:scriptTask id="evaluate" name="Evaluate the rules">
      <bpmn:incoming>to_evaluate</bpmn:incoming>
      <bpmn:outgoing>to_split_ok</bpmn:outgoing>
      <bpmn:script>count = leave_days_count(start, end)
charged = count['days']
split = check_split_rule(28, taken_parts, charged)
limit = check_department_limit(start, end, 10, {start: 3}, {'max_share': 0.3, 'mode': 'escalate'})
sla = sla_due('2025-10-09', 3)</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_split_ok" sourceRef="evaluate" targetRef="split_ok"/>
    <bpmn:exclusiveGateway id="split_ok" name="Split rule holds?" default="to_fix_dates">
      <bpmn:incoming>to_split_ok</bpmn:incoming>
      <bpmn:outgoing>to_review</bpmn:outgoing>
      <bpmn:outgoing>to_fix_dates</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="to_review" sourceRef="split_ok" targetRef="review">
      <bpmn:conditionExpression>check_split_rule(28, taken_parts, charged)['ok']</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_fix_dates" sourceRef="split_ok" targetRef="fix_dates"/>
    <bpmn:userTask id="fix_dates" name="Fix the dates">
      <bpmn:incoming>to_fix_dates</bpmn:incoming>
      <bpmn:outgoing>fixed_to_done</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="fixed_to_done" sourceRef="fix_dates" targetRef="done"/>
    <bpmn:userTask id="review" name="Review">
      <bpmn:incoming>to_review</bpmn:incoming>
      <bpmn:outgoing>to_done</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="to_done" sourceRef="review" targetRef="done"/>
    <bpmn:endEvent id="done">
      <bpmn:incoming>to_done</bpmn:incoming>
      <bpmn:incoming>fixed_to_done</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def _run(session_factory, person, data):
    deploy(session_factory, {"rules_in_scripts.bpmn": BUNDLE})
    return start(session_factory, "rules_in_scripts", person, data)


def test_a_script_counts_leave_days_and_checks_rules(session_factory, org):
    vera = org["employee_ops_1"]
    instance = _run(session_factory, vera, {"start": "2025-11-01", "end": "2025-11-14", "taken_parts": []})

    stored = get_instance(session_factory, instance.id)
    assert stored.data["charged"] == 13  # A02: 4 Nov is a holiday
    assert stored.data["count"]["holidays_excluded"] == ["2025-11-04"]
    assert stored.data["split"]["ok"] is True  # 28 - 13 = 15 days left can still hold a 14-day part
    assert stored.data["limit"]["text"] == "DEPT_LIMIT{date:2025-11-01, on_leave:3, limit:3}"
    assert stored.data["limit"]["effect"] == "escalate"
    assert stored.data["sla"] == "2025-10-13"  # A33
    assert only_open_task(session_factory, instance.id).element_id == "review"


def test_a_condition_routes_on_an_outcome(session_factory, org):
    vera = org["employee_ops_1"]
    # A06: 7 + 7 taken, 8 more requested → the split rule fails and the route asks to fix the dates.
    instance = _run(
        session_factory, vera, {"start": "2025-07-01", "end": "2025-07-08", "taken_parts": [7, 7]}
    )

    stored = get_instance(session_factory, instance.id)
    assert stored.data["split"]["code"] == "SPLIT_14_RULE"
    assert stored.data["split"]["message"].startswith("after this request 6 days remain")
    task = only_open_task(session_factory, instance.id)
    assert task.element_id == "fix_dates"
    complete(session_factory, task.id, vera, {})
    assert get_instance(session_factory, instance.id).status == InstanceStatus.COMPLETED
