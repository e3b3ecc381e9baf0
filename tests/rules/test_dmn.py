"""rules.dmn: hit policies, aggregation, required decisions, defaults, and load-time refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rules.dmn import DmnError, load_dmn

NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def _table(policy: str, rules: list[tuple[str, str]], *, aggregation: str = "", output: str = "") -> bytes:
    """A one-input, one-output table over ``score``; each rule is (input cell, output cell)."""
    rows = "".join(
        f'<rule id="r{i}"><inputEntry><text>{cell}</text></inputEntry>'
        f"<outputEntry><text>{out}</text></outputEntry></rule>"
        for i, (cell, out) in enumerate(rules, start=1)
    )
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    return (
        f'<definitions xmlns="{NS}" id="d" name="d"><decision id="t" name="table">'
        f'<decisionTable hitPolicy="{policy}"{agg}>'
        "<input><inputExpression><text>score</text></inputExpression>"
        f"</input><output>{output}</output>{rows}</decisionTable></decision></definitions>"
    ).encode()


OVERLAP = [("&gt;= 5", "10"), ("&gt;= 3", "30"), ("&lt; 3", "20"), ("&gt;= 4", "10")]


def _run(policy: str, score: int, **kwargs):
    return load_dmn(_table(policy, OVERLAP, **kwargs)).evaluate("t", {"score": score})


def test_unique_gives_the_one_match():
    result = _run("UNIQUE", 1)
    assert (result.output, result.matched, result.errors) == (Decimal(20), [3], [])


def test_unique_with_two_matches_is_an_error_and_null():
    result = _run("UNIQUE", 6)
    assert result.output is None
    assert result.errors == ["decision 'table': hit policy UNIQUE but rules 1, 2, 4 all match"]


def test_first_takes_the_first_match():
    assert _run("FIRST", 6).output == Decimal(10)


def test_any_with_different_outputs_is_an_error():
    result = _run("ANY", 6)
    assert result.output is None
    assert "ANY but rules 1, 2, 4 match with different outputs" in result.errors[0]


def test_any_with_agreeing_outputs_is_fine():
    model = load_dmn(_table("ANY", [("&gt; 1", '"x"'), ("&gt; 2", '"x"')]))
    assert model.evaluate("t", {"score": 5}).output == "x"


def test_rule_order_lists_every_match_in_rule_order():
    assert _run("RULE ORDER", 6).output == [Decimal(10), Decimal(30), Decimal(10)]


def test_priority_and_output_order_follow_output_values():
    values = "<outputValues><text>30, 10, 20</text></outputValues>"
    assert _run("PRIORITY", 6, output=values).output == Decimal(30)
    ordered = _run("OUTPUT ORDER", 6, output=values)
    assert ordered.output == [Decimal(30), Decimal(10), Decimal(10)]
    assert ordered.matched == [2, 1, 4]


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [("", [Decimal(10), Decimal(30), Decimal(10)]), ("SUM", Decimal(50)), ("MIN", Decimal(10)),
     ("MAX", Decimal(30)), ("COUNT", Decimal(3))],
)  # fmt: skip
def test_collect_and_its_aggregations(aggregation, expected):
    assert _run("COLLECT", 6, aggregation=aggregation).output == expected


def test_no_match_gives_null_or_the_default_output():
    assert _run("UNIQUE", 1).output == Decimal(20)
    no_match = load_dmn(_table("UNIQUE", [("&gt; 100", "1")]))
    assert no_match.evaluate("t", {"score": 5}).output is None
    with_default = load_dmn(
        _table(
            "UNIQUE", [("&gt; 100", "1")], output="<defaultOutputEntry><text>0</text></defaultOutputEntry>"
        )
    )
    assert with_default.evaluate("t", {"score": 5}).output == Decimal(0)
    assert load_dmn(_table("COLLECT", [("&gt; 100", "1")])).evaluate("t", {"score": 5}).output == []


DRD = f"""<definitions xmlns="{NS}" id="drd" name="drd">
  <inputData id="i_salary" name="Monthly Salary" />
  <decision id="bonus" name="Bonus">
    <informationRequirement><requiredDecision href="#annual" /></informationRequirement>
    <decisionTable hitPolicy="UNIQUE">
      <input><inputExpression typeRef="number"><text>Annual Salary</text></inputExpression></input>
      <output name="rate" /><output name="band" />
      <rule><inputEntry><text>&lt; 100000</text></inputEntry>
        <outputEntry><text>0.1</text></outputEntry><outputEntry><text>"low"</text></outputEntry></rule>
      <rule><inputEntry><text>&gt;= 100000</text></inputEntry>
        <outputEntry><text>0.05</text></outputEntry><outputEntry><text>"high"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <decision id="annual" name="Annual Salary">
    <informationRequirement><requiredInput href="#i_salary" /></informationRequirement>
    <literalExpression><text>12 * Monthly Salary</text></literalExpression>
  </decision>
</definitions>""".encode()


def test_required_decisions_run_first_and_multiple_outputs_make_a_context():
    model = load_dmn(DRD)
    assert model.decision_ids == ["bonus", "annual"]
    assert model.decision_names == {"bonus": "Bonus", "annual": "Annual Salary"}
    result = model.evaluate("Bonus", {"Monthly Salary": 10_000})
    assert result.output == {"rate": Decimal("0.05"), "band": "high"}
    assert result.matched == [2]


def test_an_unknown_decision_is_an_error():
    with pytest.raises(DmnError, match="no decision 'nope'"):
        load_dmn(DRD).evaluate("nope", {})


@pytest.mark.parametrize(
    ("content", "message", "element_id"),
    [
        (_table("UNIQUE", [('"a",', "1")]), "rule 1: expected a value", "r1"),
        (_table("UNIQUE", [("1", "__import__('os')")]), "unexpected character", "r1"),
        (_table("SOMETIMES", [("1", "1")]), "unknown hit policy 'SOMETIMES'", None),
        (DRD.replace(b'href="#annual"', b'href="#gone"'), "requires decision 'gone'", "bonus"),
        (DRD.replace(b'<informationRequirement><requiredInput href="#i_salary" />',
                     b'<informationRequirement><requiredDecision href="#bonus" />'), "form a cycle", "bonus"),
        (b"<definitions><decision", "malformed XML", None),
        (b'<!DOCTYPE x [<!ENTITY e "x">]><definitions xmlns="' + NS.encode() + b'"/>', "DOCTYPE", None),
        (b"<bpmn/>", "not a DMN file", None),
    ],
)  # fmt: skip
def test_files_that_cannot_be_used_are_refused_with_line_and_element(content, message, element_id):
    with pytest.raises(DmnError) as refused:
        load_dmn(content)
    assert message in refused.value.message
    assert refused.value.element_id == element_id
    assert refused.value.line is not None
