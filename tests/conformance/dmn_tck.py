"""Run the DMN TCK (../shared/corpus/dmn-tck) against rules.dmn and count the results that pass.

A "result" is one <resultNode> of one test case. Level 2 is counted over every test file of
TestCases/compliance-level-2; level 3 over the compliance-level-3 models that hold a decision table.

    python -m tests.conformance.dmn_tck        # the figures
    python -m tests.conformance.dmn_tck -v     # and every failure with its reason
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from rules.dmn import DmnError, load_dmn
from rules.feel.builtins import date_and_time, time
from rules.feel.values import parse_duration
from tests.conformance.corpus import CORPUS

TCK = CORPUS / "dmn-tck" / "TestCases"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
TOLERANCE = Decimal("1e-9")


@dataclass
class Figures:
    passed: int = 0
    total: int = 0
    failures: list[str] = field(default_factory=list)


def _local(element) -> str:
    return etree.QName(element).localname


def _children(element, name: str) -> list:
    return [c for c in element if isinstance(c.tag, str) and _local(c) == name]


def _typed(element) -> Any:
    if element.get(XSI_NIL) == "true":
        return None
    text = element.text or ""
    kind = (element.get(XSI_TYPE) or "").rpartition(":")[2]
    if kind in ("decimal", "double", "integer", "int", "long", "float"):
        return Decimal(text.strip())
    if kind == "boolean":
        return text.strip() == "true"
    if kind == "date":
        return dt.date.fromisoformat(text.strip())
    if kind == "dateTime":
        return date_and_time(text.strip())
    if kind == "time":
        return time(text.strip())
    if kind in ("duration", "dayTimeDuration", "yearMonthDuration"):
        return parse_duration(text.strip())
    return text


def read_value(element) -> Any:
    """A TCK value holder (inputNode, expected, component, item) to a Python value."""
    if element.get(XSI_NIL) == "true":
        return None
    value = _children(element, "value")
    if value:
        return _typed(value[0])
    listed = _children(element, "list")
    if listed:
        if listed[0].get(XSI_NIL) == "true":
            return None
        return [read_value(item) for item in _children(listed[0], "item")]
    components = _children(element, "component")
    if components:
        return {c.get("name"): read_value(c) for c in components}
    return None


def same(expected: Any, actual: Any) -> bool:
    """TCK comparison: numbers to a relative tolerance, lists in order, contexts by expected keys."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, Decimal) and not isinstance(actual, bool):
        try:
            actual = Decimal(actual) if not isinstance(actual, Decimal) else actual
        except (InvalidOperation, TypeError, ValueError):
            return False
        return abs(expected - actual) <= TOLERANCE * max(Decimal(1), abs(expected))
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(same(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(same(v, actual.get(k)) for k, v in expected.items())
    return type(expected) is type(actual) and expected == actual


def run_file(test_file: Path, figures: Figures) -> None:
    root = etree.parse(str(test_file)).getroot()
    model_name = (_children(root, "modelName")[0].text or "").strip()
    label = test_file.parent.name
    cases = _children(root, "testCase")
    try:
        model = load_dmn((test_file.parent / model_name).read_bytes(), model_name)
    except (DmnError, OSError) as exc:
        for case in cases:
            for node in _children(case, "resultNode"):
                figures.total += 1
                figures.failures.append(f"{label} #{case.get('id')} {node.get('name')}: model refused: {exc}")
        return
    for case in cases:
        inputs = {node.get("name"): read_value(node) for node in _children(case, "inputNode")}
        for node in _children(case, "resultNode"):
            figures.total += 1
            expected = read_value(_children(node, "expected")[0])
            try:
                result = model.evaluate(node.get("name"), inputs)
            except DmnError as exc:
                figures.failures.append(f"{label} #{case.get('id')} {node.get('name')}: {exc}")
                continue
            if same(expected, result.output):
                figures.passed += 1
            else:
                why = "; ".join([*result.errors, *result.warnings][:3])
                where = f"{label} #{case.get('id')} {node.get('name')}"
                figures.failures.append(
                    f"{where}: expected {expected!r}, got {result.output!r}" + (f" ({why})" if why else "")
                )


def run_level(level: str, only_tables: bool = False) -> Figures:
    figures = Figures()
    folder = TCK / level
    for directory in sorted(p for p in folder.iterdir() if p.is_dir()):
        models = list(directory.glob("*.dmn"))
        if only_tables and not any(b"decisionTable" in m.read_bytes() for m in models):
            continue
        for test_file in sorted(directory.glob("*-test-*.xml")):
            run_file(test_file, figures)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every failure with its reason")
    args = parser.parse_args(argv)
    if not TCK.is_dir():
        print(f"DMN TCK not found at {TCK}")
        return
    level2 = run_level("compliance-level-2")
    level3 = run_level("compliance-level-3", only_tables=True)
    print(f"DMN TCK level 2: {level2.passed}/{level2.total} results passed")
    print(f"DMN TCK level 3 decision tables: {level3.passed}/{level3.total} results passed")
    if args.verbose:
        for title, figures in (("level 2", level2), ("level 3 decision tables", level3)):
            for failure in figures.failures:
                print(f"  FAIL {title}: {failure}")


if __name__ == "__main__":
    main()
