"""Rule tables as data: defaults, versions and diffs, all-or-nothing validation, legal limits, CSV."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.errors import InvalidData, NotFound
from engine.models import AuditEvent, RuleTable, RuleTableVersion
from engine.services import rule_tables
from engine.services.rule_tables import StaleVersion
from rules.tables import TABLES
from tests.engine.helpers import count, user


def _replace(factory, name, rows, actor=None, **kwargs):
    with session_scope(factory) as s:
        return rule_tables.replace_rows(s, name, rows, actor=user(s, actor) if actor else None, **kwargs)


def _current(factory, name):
    with session_scope(factory) as s:
        return rule_tables.current(s, name)


def _leave_types(factory):
    return [dict(r) for r in _current(factory, "leave_types").rows]


# --- the catalog ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_catalog_table_accepts_its_own_defaults(name):
    spec = TABLES[name]
    assert spec.validate(spec.default_rows()) == []
    assert spec.key and set(spec.key) <= set(spec.columns)


def test_the_shipped_calendar_has_the_federal_holidays_and_their_moved_days_off():
    rows = {(r["date"], r["kind"]) for r in TABLES["production_calendar"].default_rows()}
    for day in ("2026-01-01", "2026-01-07", "2026-02-23", "2026-03-08", "2026-05-09", "2027-11-04"):
        assert (day, "holiday") in rows
    # 8 March 2026 is a Sunday and 9 May 2026 a Saturday: the next Monday becomes a day off (L-03).
    assert ("2026-03-09", "day_off") in rows
    assert ("2026-05-11", "day_off") in rows
    assert ("2027-06-14", "day_off") in rows  # 12 June 2027 is a Saturday


def test_the_shipped_calendar_agrees_with_the_calendar_calculators_source():
    # Version 0 is seeded from the `holidays` package (decrees with their consultant.ru sources)
    # through rules.calendar; the catalog's hand-written reading of the law must agree with it.
    from rules.calendar import default_rows
    from rules.tables import production_calendar_rows

    theirs = {(r["date"], r["kind"]) for r in default_rows(2026, 2027)}
    hand_written = {(r["date"], r["kind"]) for r in production_calendar_rows((2026, 2027))}
    assert hand_written == theirs
    shipped = {(r["date"], r["kind"]) for r in TABLES["production_calendar"].default_rows()}
    assert shipped == {(r["date"], r["kind"]) for r in default_rows(2025, 2027)}


# --- reading and versions -------------------------------------------------------------------------


def test_a_table_never_edited_reads_as_version_0_with_the_defaults_and_writes_nothing(session_factory):
    state = _current(session_factory, "leave_types")

    assert state.version == 0
    assert state.rows == TABLES["leave_types"].default_rows()
    annual = next(r for r in state.rows if r["code"] == "annual")
    assert annual["days_per_year"] == 28 and annual["needs_notice_days"] == 14
    assert count(session_factory, RuleTable) == 0


def test_each_change_makes_a_version_with_who_when_and_a_diff(session_factory, org):
    rows = _leave_types(session_factory)
    rows[0]["days_per_year"] = 31
    rows.append({"code": "donor", "title_ru": "День донора", "paid": True})
    first, changed = _replace(
        session_factory, "leave_types", rows, org["hr"], comment="донор", expected_version=0
    )

    assert changed and first.version == 1
    assert first.updated_by == org["hr"].email and first.comment == "донор"
    assert [r["code"] for r in first.diff["added"]] == ["donor"]
    assert first.diff["removed"] == []
    assert first.diff["changed"] == [
        {"key": {"code": "annual"}, "changes": {"days_per_year": {"from": 28, "to": 31}}}
    ]
    donor = next(r for r in first.rows if r["code"] == "donor")
    assert donor["needs_notice_days"] == 0 and donor["legal"] is False  # defaults filled in

    second, _ = _replace(session_factory, "leave_types", rows[:-1], org["hr"], expected_version=1)
    assert second.version == 2
    assert [r["code"] for r in second.diff["removed"]] == ["donor"]

    with session_scope(session_factory) as s:
        assert [v.version for v in rule_tables.list_versions(s, "leave_types")] == [2, 1, 0]
        version, old_rows = rule_tables.table_rows(s, "leave_types", 1)
        assert version == 1 and "donor" in {r["code"] for r in old_rows}
        assert rule_tables.table_rows(s, "leave_types")[0] == 2
        with pytest.raises(NotFound, match="no version 7"):
            rule_tables.get_version(s, "leave_types", 7)


def test_the_same_rows_again_make_no_new_version(session_factory, org):
    rows = _leave_types(session_factory)
    state, changed = _replace(session_factory, "leave_types", rows, org["hr"], expected_version=0)

    assert not changed and state.version == 0
    assert count(session_factory, RuleTableVersion) == 0


def test_a_stale_version_is_refused_and_names_who_changed_it(session_factory, org):
    rows = _leave_types(session_factory)
    rows[0]["days_per_year"] = 30
    _replace(session_factory, "leave_types", rows, org["hr"], expected_version=0)

    rows[0]["days_per_year"] = 35
    with pytest.raises(StaleVersion) as refused:
        _replace(session_factory, "leave_types", rows, org["director"], expected_version=0)

    assert org["hr"].email in refused.value.message and "now version 1" in refused.value.message
    assert _current(session_factory, "leave_types").rows[0]["days_per_year"] == 30
    assert count(session_factory, RuleTableVersion) == 1


def test_a_version_is_immutable(session_factory, org):
    rows = _leave_types(session_factory)
    rows[0]["days_per_year"] = 30
    _replace(session_factory, "leave_types", rows, org["hr"])

    with session_scope(session_factory) as s:
        version = s.scalar(select(RuleTableVersion))
        version.rows = []
        with pytest.raises(ValueError, match="immutable"):
            s.flush()
        s.rollback()
    assert _current(session_factory, "leave_types").rows[0]["days_per_year"] == 30


def test_the_change_is_audited_with_counts_and_no_row_contents(session_factory, org):
    rows = [*_current(session_factory, "blocked_dates").rows]
    rows.append(
        {
            "department": "SALES",
            "from": "2026-12-25",
            "to": "2026-12-31",
            "reason": "закрытие года",
            "allow": ["manager_sales@demo.approute.test"],
        }
    )
    _replace(session_factory, "blocked_dates", rows, org["hr"])

    with session_scope(session_factory) as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "rule_table.changed"))
        assert event.actor_id == org["hr"].id
        assert event.details == {
            "table": "blocked_dates",
            "version": 1,
            "added": 1,
            "removed": 0,
            "changed": 0,
        }


# --- validation -----------------------------------------------------------------------------------


def test_every_bad_row_is_reported_with_its_number_and_nothing_is_written(session_factory, org):
    rows = [
        {"department": "*", "max_share": 1.5, "mode": "block"},
        {"department": "SALES", "max_share": 0.3, "mode": "block"},
        {"department": "OPS", "mode": "sometimes"},
        {"department": "SALES", "max_people": 2, "mode": "warn"},
        {"department": "HR", "mode": "warn"},
    ]
    with pytest.raises(InvalidData) as refused:
        _replace(session_factory, "department_limits", rows, org["hr"])

    problems = {(p["row"], p["field"]) for p in refused.value.details}
    assert problems == {(1, "max_share"), (3, "mode"), (4, "department"), (5, "max_share")}
    messages = {(p["row"], p["message"]) for p in refused.value.details}
    assert (1, "must be at most 1, not 1.5") in messages
    assert (4, "duplicate key (department='SALES'): also row 2") in messages
    assert "nothing was saved" in refused.value.message
    assert count(session_factory, RuleTableVersion) == 0
    assert _current(session_factory, "department_limits").version == 0


def test_semantic_checks_dates_and_periods(session_factory, org):
    with pytest.raises(InvalidData) as refused:
        _replace(
            session_factory,
            "blocked_dates",
            [
                {"department": "*", "from": "2026-12-31", "to": "2026-12-25", "reason": "инвентаризация"},
                {"department": "*", "from": "2026-02-30", "to": "2026-03-01", "reason": "x"},
            ],
            org["hr"],
        )
    assert {(p["row"], p["field"]) for p in refused.value.details} == {(1, "to"), (2, "from")}

    with pytest.raises(InvalidData) as refused:
        _replace(session_factory, "bonus_funds", [{"department": "SALES", "period": "2026-13", "amount": 1}])
    assert refused.value.details == [{"row": 1, "field": "period", "message": "'2026-13' has no month 13"}]


def test_annual_leave_below_28_days_is_refused_and_more_is_allowed(session_factory, org):
    rows = _leave_types(session_factory)
    annual = next(i for i, r in enumerate(rows) if r["code"] == "annual")
    rows[annual]["days_per_year"] = 27
    with pytest.raises(InvalidData) as refused:
        _replace(session_factory, "leave_types", rows, org["hr"])
    (problem,) = refused.value.details
    assert problem["row"] == annual + 1 and problem["field"] == "days_per_year"
    assert "may not be below 28" in problem["message"] and "ст. 115" in problem["message"]

    without_annual = [r for r in rows if r["code"] != "annual"]
    with pytest.raises(InvalidData, match="nothing was saved") as refused:
        _replace(session_factory, "leave_types", without_annual, org["hr"])
    assert refused.value.details[0]["row"] is None
    assert "may not be removed" in refused.value.details[0]["message"]

    rows[annual]["days_per_year"] = 31  # HR may be more generous than the law
    state, _ = _replace(session_factory, "leave_types", rows, org["hr"])
    assert state.version == 1


def test_other_legal_limits_caps_and_deadlines(session_factory, org):
    grounds = [dict(r) for r in _current(session_factory, "unpaid_leave_grounds").rows]
    marriage = next(r for r in grounds if r["code"] == "marriage")
    marriage["cap_days"] = 3
    with pytest.raises(InvalidData, match="unpaid_leave_grounds"):
        _replace(session_factory, "unpaid_leave_grounds", grounds, org["hr"])

    slas = [dict(r) for r in _current(session_factory, "certificate_slas").rows]
    slas[0]["working_days"] = 5
    with pytest.raises(InvalidData) as refused:
        _replace(session_factory, "certificate_slas", slas, org["hr"])
    assert "may not be above 3" in refused.value.details[0]["message"]
    slas[0]["working_days"] = 2
    assert _replace(session_factory, "certificate_slas", slas, org["hr"])[0].version == 1


def test_unknown_table_is_not_found(session_factory):
    with session_scope(session_factory) as s, pytest.raises(NotFound, match="no rule table named 'salaries'"):
        rule_tables.current(s, "salaries")


# --- CSV ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TABLES))
def test_csv_round_trip_gives_the_same_rows(name):
    spec = TABLES[name]
    rows = spec.default_rows()
    if name == "blocked_dates":
        reason = "Закрытие года; отчёт"  # a ';' inside a cell is quoted
        rows = [
            {"department": "SALES", "from": "2026-12-25", "to": "2026-12-31", "reason": reason,
             "allow": ["a@x.test", "Главный бухгалтер"]},
        ]  # fmt: skip
    if name == "bonus_funds":
        rows = [{"department": "SALES", "period": "2026-Q1", "amount": 125000.5}]
    if name == "leave_schedule":
        rows = [{"email": "a@x.test", "start": "2025-07-14", "days": 14, "leave_type": "annual"}]
    data = rule_tables.to_csv(spec, rows)

    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines()[0] == ";".join(spec.columns)
    back, numbers = rule_tables.from_csv(spec, data)
    assert back and [spec.normalise(r) for r in back] == [spec.normalise(r) for r in rows]
    assert numbers == list(range(2, len(rows) + 2))


def test_csv_import_reads_excel_habits_and_names_bad_lines(session_factory, org):
    data = (
        "\ufeffDepartment;max_share;max_people;min_present;mode\n"
        "*;0,4;;;warn\n"
        "\n"
        "SALES;;3;;block\n"
        "OPS;много;;;escalate\n"
    ).encode()
    with pytest.raises(InvalidData) as refused, session_scope(session_factory) as s:
        rule_tables.import_csv(s, "department_limits", data, actor=None)
    assert refused.value.details == [
        {"row": 5, "field": "max_share", "message": "must be a number or empty, not 'много'"}
    ]

    fixed = data.replace("много".encode(), b"0.25")
    with session_scope(session_factory) as s:
        state, changed = rule_tables.import_csv(s, "department_limits", fixed, actor=None, comment="из Excel")
    assert changed and state.version == 1 and state.updated_by is None
    assert state.rows[0]["max_share"] == 0.4 and state.rows[1]["max_people"] == 3


def test_csv_with_a_wrong_header_or_encoding_is_refused_whole(session_factory):
    spec = TABLES["leave_types"]
    with pytest.raises(InvalidData) as refused:
        rule_tables.from_csv(spec, b"code;title;paid\nannual;x;true\n")
    assert {(p["row"], p["field"]) for p in refused.value.details} == {(1, "title"), (1, "title_ru")}

    with pytest.raises(InvalidData, match="not UTF-8"):
        rule_tables.from_csv(spec, "code;title_ru\nannual;Отпуск\n".encode("cp1251"))
