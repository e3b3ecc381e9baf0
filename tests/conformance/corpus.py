"""Deploy every file of the third-party corpus (../shared/corpus) and classify the outcome.

Each BPMN file is a bundle of its own, together with the sibling DMN files whose decisions it
calls. The corpus holds no form files, so each JSON form a file names is supplied as an open
schema (``{"type": "object"}``), as the designer would upload their own.

Each bundle is tried twice: with stock SpiffWorkflow (can its parser build a spec for the
executable process?) and through approute's deploy service on a scratch SQLite database. An
outcome is ``deployed``, ``needs-operators`` (refused only because it names service-task operators,
connectors of another installation, that this one does not have), ``refused`` (a report came
back) or ``crashed`` (an exception escaped, which in the API would be a 500). DMN files go
through the DMN intake.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

import engine.models  # noqa: F401 - every table, for the scratch database
import worker.operators  # noqa: F401 - render_document, so refusals list every operator
from engine.bpmn import runtime
from engine.bpmn.bundle import BundleRefused, build_bundle
from engine.bpmn.decisions import DecisionFileRefused, read_decisions
from engine.db import Base, make_engine, make_session_factory, session_scope
from engine.errors import InvalidBundle
from engine.services.definitions import deploy_bundle

CORPUS = Path(os.environ.get("APPROUTE_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))
CAMUNDA_NAMESPACES = (b"http://camunda.org/schema/1.0/bpmn", b"http://camunda.org/schema/zeebe/1.0")
_FORM_NAME = re.compile(rb'(?:formJsonSchemaFilename"\s+value|formKey)="([^"]+\.json)"')
_DECISION_REF = re.compile(rb'(?:calledDecisionId>|decisionRef=")\s*([\w-]+)')


@dataclass
class Outcome:
    path: Path
    kind: str  # "bpmn" or "dmn"
    ours: str  # deployed | needs-operators | refused | crashed
    stock: str  # built | failed | not-executable (BPMN only)
    detail: str = ""
    camunda: bool = False


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)

    def by_source(self) -> dict[str, Counter]:
        table: dict[str, Counter] = {}
        for o in self.outcomes:
            source = o.path.relative_to(CORPUS).parts[0]
            row = table.setdefault(source, Counter())
            row[f"{o.kind} {o.ours}"] += 1
            if o.kind == "bpmn":
                row[f"stock {o.stock}"] += 1
        return table

    def camunda_flavoured(self) -> tuple[int, int, int]:
        """(files, deployed by approute, built by stock SpiffWorkflow) among Camunda-flavoured BPMN."""
        files = [o for o in self.outcomes if o.kind == "bpmn" and o.camunda]
        return (
            len(files),
            sum(o.ours in ACCEPTED for o in files),
            sum(o.stock == "built" for o in files),
        )

    @property
    def crashed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.ours == "crashed"]

    @property
    def regressions(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.stock == "built" and o.ours not in ACCEPTED]


OPEN_FORM = b'{"type": "object"}'
UNKNOWN_OPERATOR = "is not registered; operators available"
ACCEPTED = frozenset({"deployed", "needs-operators"})


def bundle_for(path: Path) -> dict[str, bytes]:
    """The BPMN file with the decision files it calls and a stand-in for each form it names."""
    content = path.read_bytes()
    files = {path.name: content}
    for match in _FORM_NAME.findall(content):
        files.setdefault(Path(match.decode()).name, OPEN_FORM)
    wanted = {m.decode() for m in _DECISION_REF.findall(content)}
    if wanted:
        for dmn in sorted(path.parent.glob("*.dmn")):
            dmn_bytes = dmn.read_bytes()
            if any(f'id="{decision}"'.encode() in dmn_bytes for decision in wanted):
                files[dmn.name] = dmn_bytes
    return files


def stock_outcome(files: dict[str, bytes]) -> str:
    """Can stock SpiffWorkflow 3.2.0 build a spec for the file's executable process?"""
    parser = SpiffBpmnParser()
    try:
        for name, content in files.items():
            if name.endswith(".bpmn"):
                parser.add_bpmn_str(content, filename=name)
            elif name.endswith(".dmn"):
                parser.add_dmn_str(content, filename=name)
        ids = parser.get_process_ids()
        if not ids:
            return "not-executable"
        called = set()
        for pid in ids:
            called.update(parser.get_process_parser(pid).called_element_ids())
        top = [pid for pid in ids if pid not in called] or ids
        for pid in top:
            parser.get_spec(pid)
            parser.get_subprocess_specs(pid)
        return "built"
    except Exception:
        return "failed"


def our_outcome(sessions, files: dict[str, bytes]) -> tuple[str, str]:
    """Deploy through approute's deploy service, as the API would."""
    try:
        with session_scope(sessions) as session:
            deploy_bundle(session, files, actor=None)
        return "deployed", ""
    except InvalidBundle as refused:
        messages = [e["message"] for e in refused.details]
        # The diagram is sound; it calls connectors (aws/..., http/...) only their installation has.
        outcome = "needs-operators" if all(UNKNOWN_OPERATOR in m for m in messages) else "refused"
        return outcome, "; ".join(messages)[:300]
    except Exception as exc:
        return "crashed", f"{type(exc).__name__}: {exc}"[:300]


def dmn_outcome(path: Path) -> tuple[str, str]:
    try:
        read_decisions(path.read_bytes(), path.name)
        return "deployed", ""
    except DecisionFileRefused as exc:
        return "refused", str(exc)[:300]
    except Exception as exc:
        return "crashed", f"{type(exc).__name__}: {exc}"[:300]


def run(corpus: Path = CORPUS) -> Summary:
    """Classify every BPMN and DMN file below ``corpus``."""
    summary = Summary()
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'conformance.sqlite3'}")
        Base.metadata.create_all(engine)
        sessions = make_session_factory(engine)
        _classify_bpmn(corpus, sessions, summary)
        engine.dispose()
    for path in sorted(corpus.rglob("*.dmn")):
        ours, detail = dmn_outcome(path)
        summary.outcomes.append(Outcome(path, "dmn", ours, "", detail))
    return summary


def _classify_bpmn(corpus: Path, sessions, summary: Summary) -> None:
    for path in sorted(corpus.rglob("*.bpmn")):
        files = bundle_for(path)
        ours, detail = our_outcome(sessions, files)
        camunda = any(ns in files[path.name] for ns in CAMUNDA_NAMESPACES)
        summary.outcomes.append(Outcome(path, "bpmn", ours, stock_outcome(files), detail, camunda))


def run_spiffworkflow_tests(corpus: Path = CORPUS) -> tuple[int, int, list[str]]:
    """Start each deployable file of spiffworkflow-tests with a scripted user and no input.

    A file counts when it reaches its end event, or its first user task when it has one.
    Returns (files deployed, files that ran, what stopped the others).
    """
    deployed, ran, stopped = 0, 0, []
    for path in sorted((corpus / "spiffworkflow-tests").rglob("*.bpmn")):
        try:
            bundle = build_bundle(bundle_for(path))
        except BundleRefused:
            continue
        deployed += 1
        try:
            workflow = runtime.start_workflow(bundle.spec_json, {})
            if runtime.ready_user_tasks(workflow) or runtime.is_completed(workflow):
                ran += 1
            else:
                stopped.append(f"{path.name}: waits on a timer, message or signal")
        except runtime.StepFailed as exc:
            stopped.append(f"{path.name}: {exc}"[:160])
    return deployed, ran, stopped


def print_report(summary: Summary) -> None:
    """One markdown table per kind of file, a row per source folder, then the bars."""
    rows = summary.by_source()
    print("| source | BPMN | stock built | approute deployed | needs operators | refused | crashed |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for source, row in sorted(rows.items()):
        needs = row["bpmn needs-operators"]
        total = row["bpmn deployed"] + needs + row["bpmn refused"] + row["bpmn crashed"]
        if total:
            print(
                f"| {source} | {total} | {row['stock built']} | {row['bpmn deployed']} | {needs} "
                f"| {row['bpmn refused']} | {row['bpmn crashed']} |"
            )
    print()
    print("| source | DMN | read | refused | crashed |")
    print("|---|---:|---:|---:|---:|")
    for source, row in sorted(rows.items()):
        total = row["dmn deployed"] + row["dmn refused"] + row["dmn crashed"]
        if total:
            read, refused, crashed = row["dmn deployed"], row["dmn refused"], row["dmn crashed"]
            print(f"| {source} | {total} | {read} | {refused} | {crashed} |")
    files, ours, stock = summary.camunda_flavoured()
    print()
    print(f"crashed: {len(summary.crashed)}")
    print(f"built by stock SpiffWorkflow but refused by approute: {len(summary.regressions)}")
    for outcome in summary.regressions:
        print(f"  {outcome.path.relative_to(CORPUS)}: {outcome.detail}")
    print(
        f"Camunda-flavoured BPMN files: {files}; approute deploys {ours}, stock SpiffWorkflow builds {stock}"
    )


if __name__ == "__main__":
    print_report(run())
