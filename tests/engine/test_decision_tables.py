"""DMN decisions HR edits: versions, the runtime lookup, decision records and the side-effect-free
preview, on SQLite and PostgreSQL; and the production calendar's default rows."""

from __future__ import annotations

import pytest

from engine.db import session_scope
from engine.errors import InvalidData, NotFound
from engine.models import AuditEvent, DecisionRecord, ProcessInstance, RuleTable, RuleTableVersion
from engine.services import decision_records, decision_tables, rule_tables
from engine.services.rule_tables import StaleVersion
from rules.tables import TABLES
from tests.engine.helpers import (
    BUNDLES,
    bundle_file,
    complete,
    count,
    deploy,
    get_instance,
    only_open_task,
    start,
    user,
)

BONUS = {"amount": 20_000, "bonus type": "kpi"}  # the bundle's table: rule r_small, "manager"
DMN = (BUNDLES / "dmn/bonus_rules.dmn").read_text()
HR_DMN = DMN.replace('"manager"</text>', '"hr_partner"</text>')


def _deploy(session_factory, bpmn: str = "dmn/bonus_route.bpmn"):
    return deploy(session_factory, {**bundle_file(bpmn), **bundle_file("dmn/bonus_rules.dmn")})


def _edit(session_factory, person, text: str, expected: int | None, decision_id: str = "approver"):
    with session_scope(session_factory) as s:
        return decision_tables.replace_dmn(
            s, decision_id, text.encode(), actor=user(s, person), expected_version=expected
        )


def _records(session_factory, instance_id) -> list[DecisionRecord]:
    with session_scope(session_factory) as s:
        return decision_records.decisions_for_instance(s, instance_id)


def test_a_deployed_decision_reads_as_version_0_with_its_bundle(session_factory, org):
    _deploy(session_factory)

    with session_scope(session_factory) as s:
        listed = {d.decision_id: d for d in decision_tables.list_decisions(s)}
        state = decision_tables.current(s, "approver")

    assert set(listed) == {"approver", "share"}
    assert (state.version, state.name, state.content) == (0, "approver", DMN)
    assert (state.source.key, state.source.version, state.source.filename) == (
        "bonus_route",
        1,
        "bonus_rules.dmn",
    )
    assert count(session_factory, RuleTable) == 0  # reading writes nothing


def test_a_new_instance_uses_hrs_version_and_an_earlier_one_keeps_its_decision(session_factory, org):
    _deploy(session_factory)
    before = start(session_factory, "bonus_route", org["manager_sales"], BONUS)

    state, changed = _edit(session_factory, org["hr"], HR_DMN, expected=0)
    after = start(session_factory, "bonus_route", org["manager_sales"], BONUS)

    assert changed and state.version == 1 and state.created_by == org["hr"].email
    assert get_instance(session_factory, before.id).data["approver"] == "manager"
    assert get_instance(session_factory, after.id).data["approver_role"] == "hr_partner"
    (old,) = _records(session_factory, before.id)
    (new,) = _records(session_factory, after.id)
    assert (old.rule, old.tables, old.output, old.element_id) == (
        "approver",
        {"dmn:approver": 0},
        "manager",
        "decide",
    )
    assert (new.tables, new.output) == ({"dmn:approver": 1}, "hr_partner")
    assert new.inputs == BONUS  # the fields the DMN reads, not the whole task data
    assert "version 1" in new.message and "r_small" in new.message


def test_a_running_instance_uses_the_version_in_force_at_its_next_evaluation(session_factory, org):
    _deploy(session_factory, "dmn/review_then_decide.bpmn")
    running = start(session_factory, "review_then_decide", org["manager_sales"], BONUS)
    assert _records(session_factory, running.id) == []  # waiting at the review, nothing decided yet

    _edit(session_factory, org["hr"], HR_DMN, expected=0)
    review = only_open_task(session_factory, running.id)
    complete(session_factory, review.id, org["manager_sales"], {})

    assert get_instance(session_factory, running.id).data["approver"] == "hr_partner"
    (record,) = _records(session_factory, running.id)
    assert record.tables == {"dmn:approver": 1}


def test_a_later_version_never_rewrites_a_recorded_decision(session_factory, org):
    _deploy(session_factory)
    _edit(session_factory, org["hr"], HR_DMN, expected=0)
    first = start(session_factory, "bonus_route", org["manager_sales"], BONUS)

    _edit(session_factory, org["hr"], DMN.replace('"manager"</text>', '"director"</text>'), expected=1)
    second = start(session_factory, "bonus_route", org["manager_sales"], BONUS)

    assert [r.output for r in _records(session_factory, first.id)] == ["hr_partner"]
    assert [r.output for r in _records(session_factory, second.id)] == ["director"]
    with session_scope(session_factory) as s:
        versions = [v.version for v in decision_tables.list_versions(s, "approver")]
    assert versions == [2, 1, 0]


def test_the_same_text_again_makes_no_version(session_factory, org):
    _deploy(session_factory)

    state, changed = _edit(session_factory, org["hr"], DMN, expected=0)

    assert not changed and state.version == 0
    assert count(session_factory, RuleTableVersion) == 0


def test_a_stale_version_is_refused_and_nothing_is_written(session_factory, org):
    _deploy(session_factory)
    _edit(session_factory, org["hr"], HR_DMN, expected=0)

    with pytest.raises(StaleVersion) as stale:
        _edit(session_factory, org["director"], DMN, expected=0)

    assert stale.value.current == 1
    assert org["hr"].email in stale.value.message
    assert count(session_factory, RuleTableVersion) == 1


def test_a_bad_feel_cell_is_refused_with_its_line_and_element(session_factory, org):
    _deploy(session_factory)
    bad = HR_DMN.replace("<text>&lt; 0.5</text>", "<text>[0.5..</text>")
    line = next(i for i, text in enumerate(bad.splitlines(), 1) if "[0.5..<" in text)

    with pytest.raises(InvalidData) as refused:
        _edit(session_factory, org["hr"], bad, expected=0)

    (problem,) = refused.value.details
    assert problem["line"] == line
    assert problem["element_id"] == "r_small"
    assert count(session_factory, RuleTableVersion) == 0


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (('id="approver"', 'id="approver_2"'), "no longer holds the decision approver"),
        (('name="approver">', 'name="who approves">'), "name must stay 'approver'"),
        (('name="approver_role"', 'name="role"'), "missing: approver_role"),
    ],
)
def test_a_file_that_no_longer_fits_the_routes_is_refused(session_factory, org, change, says):
    _deploy(session_factory)

    with pytest.raises(InvalidData) as refused:
        _edit(session_factory, org["hr"], DMN.replace(*change), expected=0)

    assert says in refused.value.message + " ".join(p["message"] for p in refused.value.details)
    assert count(session_factory, RuleTableVersion) == 0


def test_hr_may_keep_a_decision_no_bundle_holds(session_factory, org):
    own = DMN.replace('id="approver"', 'id="hr_only"')

    state, changed = _edit(session_factory, org["hr"], own, expected=0, decision_id="hr_only")

    assert changed and state.version == 1 and state.source is None
    with session_scope(session_factory) as s:
        assert "hr_only" in {d.decision_id for d in decision_tables.list_decisions(s)}
        with pytest.raises(NotFound):
            decision_tables.get_version(s, "hr_only", 0)


def test_the_preview_evaluates_any_version_and_writes_nothing(session_factory, org):
    _deploy(session_factory)
    _edit(session_factory, org["hr"], HR_DMN, expected=0)
    tables = (AuditEvent, DecisionRecord, ProcessInstance, RuleTable, RuleTableVersion)
    before = {model: count(session_factory, model) for model in tables}

    with session_scope(session_factory) as s:
        now = decision_tables.evaluate(s, "approver", BONUS)
        then = decision_tables.evaluate(s, "approver", BONUS, version=0)
        clash = decision_tables.evaluate(s, "approver", {"amount": 80_000, "bonus type": "project"})

    assert now == {
        "decision_id": "approver",
        "version": 1,
        "output": "hr_partner",
        "matched_rules": ["r_small"],
        "errors": [],
    }
    assert (then["version"], then["output"]) == (0, "manager")
    assert clash["output"] is None and "UNIQUE" in clash["errors"][0]
    assert {model: count(session_factory, model) for model in tables} == before


def test_the_preview_refuses_inputs_that_are_not_an_object_and_unknown_decisions(session_factory, org):
    _deploy(session_factory)
    with session_scope(session_factory) as s:
        with pytest.raises(InvalidData):
            decision_tables.evaluate(s, "approver", [1, 2])
        with pytest.raises(NotFound):
            decision_tables.evaluate(s, "nobody", {})
        with pytest.raises(NotFound):
            decision_tables.evaluate(s, "approver", {}, version=7)


def test_dmn_versions_stay_out_of_the_rule_table_catalog(session_factory, org):
    _deploy(session_factory)
    _edit(session_factory, org["hr"], HR_DMN, expected=0)

    with session_scope(session_factory) as s:
        names = {state.name for state in rule_tables.list_current(s, list(TABLES.values()))}

    assert names == set(TABLES)


# --- the production calendar's default rows --------------------------------------------------------


def test_the_calendars_default_rows_cover_2025_from_the_holidays_package(session_factory):
    with session_scope(session_factory) as s:
        version, rows = rule_tables.table_rows(s, "production_calendar")

    kinds = {(r["date"], r["kind"]) for r in rows}
    assert version == 0
    # ПП РФ от 04.10.2024 № 1335: 2 and 8 May, 3 November, 31 December 2025 off; Sat 1 November worked.
    for day in ("2025-05-02", "2025-05-08", "2025-11-03", "2025-12-31"):
        assert (day, "day_off") in kinds
    assert ("2025-11-01", "working_day") in kinds
    assert ("2025-06-12", "holiday") in kinds
    assert all(r["region"] == "" for r in rows)  # the federal calendar, as the table writes it
    assert {r["date"][:4] for r in rows} == {"2025", "2026", "2027"}
