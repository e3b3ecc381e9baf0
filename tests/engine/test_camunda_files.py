"""Files as Camunda Modeler writes them deploy and run without hand-editing, or are refused per element."""

from __future__ import annotations

import pytest

from engine.bpmn import runtime
from engine.bpmn.camunda import cron_to_iso_cycle
from engine.bpmn.juel import JuelError, to_python
from engine.db import session_scope
from engine.errors import InstanceFailed, InvalidBundle, InvalidData
from engine.models import InstanceStatus
from engine.services import definitions, tasks
from tests.engine.helpers import bundle_file, deploy, get_instance, line_of, open_tasks, start, user

BONUS = "camunda/bonus_camunda.bpmn"


@pytest.mark.parametrize(
    ("juel", "python"),
    [
        ("amount > 1000", "amount > 1000"),
        ("amount gt 1000 && !empty approver", "amount > 1000 and not not approver"),
        ("a eq 'x' || b ne null", "a == 'x' or b != None"),
        ("order.total ge 10", 'order["total"] >= 10'),
        ("days_between(start, end) le 14", "days_between(start, end) <= 14"),
        ("x div 2 mod 3", "x / 2 % 3"),
    ],
)
def test_juel_translates_to_sandbox_python(juel, python):
    assert to_python(juel) == python


@pytest.mark.parametrize(
    ("juel", "reason"),
    [
        ('execution.getVariable("a")', "calls the method 'getVariable'"),
        ("a ? b : c", r"\?: operator"),
        ("a ~ b", "cannot be read"),
    ],
)
def test_juel_beyond_simple_expressions_is_refused(juel, reason):
    with pytest.raises(JuelError, match=reason):
        to_python(juel)


def _complete(session_factory, task, person, data):
    with session_scope(session_factory) as s:
        tasks.complete_task(s, task.id, actor=user(s, person), data=data)


def test_a_camunda_route_runs_its_big_path(session_factory, org):
    deploy(session_factory, bundle_file(BONUS))
    anna, director, hr = org["employee_sales_1"], org["manager_ops"], org["hr"]

    instance = start(
        session_factory,
        "bonus_camunda",
        anna,
        {"amount": 5000, "approver": director.email, "reviewers": "legal, finance"},
    )
    (approval,) = open_tasks(session_factory, instance.id)
    assert (approval.element_id, approval.assignee_id) == ("director", director.id)  # ${approver}
    assert approval.form == "director.formData.json"

    with pytest.raises(InvalidData) as refused:
        _complete(session_factory, approval, director, {"decision": "maybe"})
    assert refused.value.details[0]["field"] == "data.decision"
    _complete(session_factory, approval, director, {"decision": "approve"})

    reviews = open_tasks(session_factory, instance.id)
    assert [t.element_id for t in reviews] == ["review", "review"]  # one per item of the collection
    for review in reviews:
        _complete(session_factory, review, hr, {"ok": True})
    assert get_instance(session_factory, instance.id).status == InstanceStatus.COMPLETED


def test_a_camunda_route_takes_its_small_path_and_checks_the_inline_start_form(session_factory, org):
    deploy(session_factory, bundle_file(BONUS))
    anna = org["employee_sales_1"]

    with pytest.raises(InvalidData) as refused:
        start(session_factory, "bonus_camunda", anna, {"amount": 0})
    assert refused.value.details[0]["field"] == "data.amount"

    instance = start(session_factory, "bonus_camunda", anna, {"amount": 300, "reviewers": "legal"})
    (review,) = open_tasks(session_factory, instance.id)
    assert review.element_id == "review"


def test_java_delegates_and_method_calls_are_refused_per_element(session_factory):
    with pytest.raises(InvalidBundle) as refused:
        deploy(session_factory, bundle_file("camunda/java_delegate.bpmn"))

    by_element = {entry["element_id"]: entry for entry in refused.value.details}
    assert "camunda:class calls Java code" in by_element["charge"]["message"]
    assert by_element["charge"]["line"] == line_of("camunda/java_delegate.bpmn", 'id="charge"')
    assert "calls the method 'getVariable'" in by_element["f3"]["message"]


def test_a_runaway_camunda_condition_is_still_sandboxed(session_factory, org):
    files = bundle_file(BONUS)
    ((name, content),) = files.items()
    files[name] = content.replace(b"${amount gt 1000 &amp;&amp; !empty approver}", b"10 ** 10 ** 8 > amount")
    deploy(session_factory, files)

    with pytest.raises(InstanceFailed, match="bits"):
        start(
            session_factory,
            "bonus_camunda",
            org["employee_sales_1"],
            {"amount": 5000, "approver": "x@y", "reviewers": ""},
        )


@pytest.mark.parametrize(
    ("cron", "cycle"),
    [
        ("0/5 0/1 * 1/1 * ?", "R/PT5S"),
        ("0 0/15 * * * ?", "R/PT15M"),
        ("0 0 0/2 * * ?", "R/PT2H"),
        ("0 0 0 */3 * ?", "R/P3D"),
        ("0 0 12 * * ?", None),  # a fixed time of day is not a plain repetition
        ("* 0/15 * * * ?", None),  # every second of every 15th minute
    ],
)
def test_camunda_cron_cycles_become_iso_cycles_or_are_refused(cron, cycle):
    assert cron_to_iso_cycle(cron) == cycle


def test_plain_iso_and_cron_timers_deploy_and_arm(session_factory, org):
    content = bundle_file(BONUS)["bonus_camunda.bpmn"]
    content = content.replace(
        b"<bpmn:timeDuration>PT48H</bpmn:timeDuration>", b"<bpmn:timeCycle>0 0/15 * * * ?</bpmn:timeCycle>"
    )
    deploy(session_factory, {"bonus_camunda.bpmn": content})
    instance = start(
        session_factory,
        "bonus_camunda",
        org["employee_sales_1"],
        {"amount": 5000, "approver": org["hr"].email, "reviewers": ""},
    )
    assert [t.element_id for t in open_tasks(session_factory, instance.id)] == ["director"]
    stored = get_instance(session_factory, instance.id)
    with session_scope(session_factory) as s:
        spec_json = definitions.snapshot(s, stored.definition_id).spec_json
    waiting = runtime.restore_workflow(stored.state, spec_json).waiting_events()
    assert [e.event_type for e in waiting] == ["CycleTimerEventDefinition"]


@pytest.mark.parametrize(("amount", "level"), [(300, "manager"), (5000, "director")])
def test_business_rule_task_calls_the_decision_named_by_decision_ref(session_factory, org, amount, level):
    files = {**bundle_file("camunda/decision_ref.bpmn"), **bundle_file("camunda/bonus_level.dmn")}
    deploy(session_factory, files)

    instance = start(session_factory, "decision_ref", org["employee_sales_1"], {"amount": amount})

    assert get_instance(session_factory, instance.id).data["level"] == level


def test_a_decision_ref_without_its_file_is_refused_on_the_task(session_factory):
    with pytest.raises(InvalidBundle) as refused:
        deploy(session_factory, bundle_file("camunda/decision_ref.bpmn"))
    (entry,) = refused.value.details
    assert entry["element_id"] == "decide"
    assert "bonus_level" in entry["message"]
