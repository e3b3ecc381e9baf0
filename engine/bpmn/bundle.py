"""Turn uploaded files into a deployable bundle, or a report of what is wrong and where.

A bundle is one BPMN file plus the DMN and JSON Schema form files it references. Every problem
becomes a report entry ``{file, element_id, line, message}``; nothing escapes as an exception.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins import (
    ExclusiveGatewayMixin,
    InclusiveGatewayMixin,
    ScriptTaskMixin,
)

from engine.bpmn import camunda
from engine.bpmn.assignment import AssignmentError, parse_assignment
from engine.bpmn.decisions import DecisionFileRefused, DecisionParser, read_decisions
from engine.bpmn.due import DueDateError, check_due
from engine.bpmn.sandbox import SandboxViolation, compile_expression, compile_script
from engine.bpmn.service_tasks import AsyncServiceTask
from engine.bpmn.sla_policy import read_sla
from engine.bpmn.state import dump_specs
from engine.bpmn.xml import UnsafeXml, parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
MAX_BUNDLE_BYTES = 20 * 1024 * 1024
ASSIGNMENT_ATTRIBUTES = {
    "assignee": "assignee",
    "candidate_users": "candidateUsers",
    "candidate_groups": "candidateGroups",
}
# Languages Camunda and other engines run that are plainly not Python; anything else is
# compiled as Python and judged by the sandbox.
FOREIGN_SCRIPT_LANGUAGES = frozenset(
    {"javascript", "js", "ecmascript", "groovy", "xslt", "ruby", "jruby", "juel", "kotlin", "java", "feel"}
)
FORM_KEY_PREFIXES = ("embedded:deployment:", "embedded:app:", "deployment:", "app:")


@dataclass
class ReportEntry:
    file: str | None
    element_id: str | None
    line: int | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "element_id": self.element_id,
            "line": self.line,
            "message": self.message,
        }


@dataclass
class Bundle:
    """A validated bundle, ready to be stored as a new version."""

    key: str
    name: str
    spec_json: str
    task_meta: dict[str, dict[str, Any]]
    forms: dict[str, Any]
    start_form: str | None
    files: dict[str, bytes]
    checksum: str
    warnings: list[ReportEntry] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # per language, from name.<lang> properties


@dataclass
class _Intake:
    files: dict[str, bytes]
    report: list[ReportEntry] = field(default_factory=list)
    bpmn_name: str | None = None
    bpmn_tree: Any = None
    dmn_files: dict[str, bytes] = field(default_factory=dict)
    forms: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    warnings: list[ReportEntry] = field(default_factory=list)

    def warn(self, message: str, *, element_id=None, line=None) -> None:
        self.warnings.append(ReportEntry(self.bpmn_name, element_id, line, message))

    def error(self, message: str, *, file=None, element_id=None, line=None) -> None:
        if line is None and element_id:
            line = self.lines.get(element_id)
        self.report.append(ReportEntry(file or self.bpmn_name, element_id, line, message))


class BundleRefused(Exception):
    """The bundle cannot be deployed; ``report`` lists every problem found."""

    def __init__(self, report: list[ReportEntry]):
        super().__init__(f"bundle refused with {len(report)} problem(s)")
        self.report = report


def bundle_checksum(files: dict[str, bytes]) -> str:
    """A digest over file names and contents; equal bundles have equal checksums."""
    digest = hashlib.sha256()
    for filename in sorted(files):
        digest.update(filename.encode() + b"\0" + hashlib.sha256(files[filename]).digest())
    return digest.hexdigest()


def build_bundle(files: dict[str, bytes]) -> Bundle:
    """Validate uploaded files and build the spec. Raises BundleRefused with the full report."""
    intake = _Intake(files=files)
    _read_files(intake)
    if intake.report:
        raise BundleRefused(intake.report)
    key, name = _choose_process(intake)
    if intake.report:
        raise BundleRefused(intake.report)
    _check_references(intake)
    _check_script_languages(intake)
    _check_incomplete_markers(intake)
    _check_unsupported(intake)
    camunda.rewrite(
        intake.bpmn_tree.getroot(),
        lambda message, element: intake.error(message, element_id=element.get("id"), line=element.sourceline),
    )
    task_meta, start_form = _read_task_meta(intake, key)
    spec_json = _build_spec(intake, key) if not intake.report else ""
    if intake.report:
        raise BundleRefused(intake.report)
    return Bundle(
        key=key,
        name=name,
        names=_process_names(intake, key, name),
        spec_json=spec_json,
        task_meta=task_meta,
        forms=intake.forms,
        start_form=start_form,
        files=dict(files),
        checksum=bundle_checksum(files),
        warnings=intake.warnings,
    )


def _read_files(intake: _Intake) -> None:
    if not intake.files:
        intake.error("no files were uploaded")
        return
    if sum(len(c) for c in intake.files.values()) > MAX_BUNDLE_BYTES:
        intake.error(f"the bundle is larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MiB")
        return
    bpmn_files = [n for n in intake.files if n.lower().endswith(".bpmn")]
    if len(bpmn_files) != 1:
        intake.error(f"a bundle holds exactly one .bpmn file, found {len(bpmn_files)}")
    for filename, content in intake.files.items():
        lower = filename.lower()
        if lower.endswith(".dmn"):
            intake.dmn_files[filename] = content
        elif lower.endswith(".bpmn"):
            try:
                tree = parse_xml(content)
            except UnsafeXml as exc:
                intake.error(str(exc), file=filename, line=exc.line)
                continue
            if lower.endswith(".bpmn"):
                intake.bpmn_name, intake.bpmn_tree = filename, tree
                intake.lines = {el.get("id"): el.sourceline for el in tree.iter() if el.get("id") is not None}
            else:
                intake.dmn_trees[filename] = tree
        elif lower.endswith(".json"):
            _read_form(intake, filename, content)
        else:
            intake.error("unsupported file type: expected .bpmn, .dmn or .json", file=filename)


def _read_form(intake: _Intake, filename: str, content: bytes) -> None:
    try:
        schema = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        intake.error(f"not valid JSON: {exc}", file=filename, line=line)
        return
    if not isinstance(schema, dict):
        intake.error("a form must be a JSON Schema object", file=filename)
        return
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        intake.error(f"not a valid JSON Schema at {where}: {exc.message}", file=filename)
        return
    intake.forms[posixpath.basename(filename)] = schema


def _choose_process(intake: _Intake) -> tuple[str, str]:
    """The process the bundle deploys: the executable one no other process calls.

    A missing isExecutable counts as executable, as SpiffWorkflow reads it. A diagram with
    several such processes (pools that talk by messages) deploys the first and says so.
    """
    root = intake.bpmn_tree.getroot()
    processes = root.findall(f"{{{BPMN_NS}}}process")
    called = {el.get("calledElement") for el in root.iter(f"{{{BPMN_NS}}}callActivity")}
    executable = [p for p in processes if p.get("isExecutable", "true").lower() == "true"]
    candidates = [p for p in executable if p.get("id") not in called] or executable
    if not candidates and len(processes) == 1:
        # bpmn.io marks new diagrams isExecutable="false"; a file with one process means it.
        candidates = processes
        processes[0].set("isExecutable", "true")
        intake.warn(
            'the process is marked isExecutable="false"; it is deployed as the only process in the file',
            element_id=processes[0].get("id"),
            line=processes[0].sourceline,
        )
    if not candidates:
        intake.error('the diagram has no executable process; mark the one to deploy with isExecutable="true"')
        return "", ""
    process = candidates[0]
    if len(candidates) > 1:
        others = ", ".join(p.get("id", "?") for p in candidates[1:])
        intake.warn(
            f"the diagram has {len(candidates)} executable processes; deployed '{process.get('id')}', "
            f'not {others}. Mark the others isExecutable="false" or deploy them from files of their own',
            element_id=process.get("id"),
            line=process.sourceline,
        )
    return process.get("id"), process.get("name") or process.get("id")


def _check_references(intake: _Intake) -> None:
    """Every sequence flow must join two elements that exist; name the flow and the missing id."""
    root = intake.bpmn_tree.getroot()
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if not ref or ref not in intake.lines:
                intake.error(
                    f"sequence flow {end} '{ref or ''}' names no element of the diagram",
                    element_id=flow.get("id"),
                    line=flow.sourceline,
                )


def _check_script_languages(intake: _Intake) -> None:
    """Scripts run in approute's Python sandbox; name any script written in another language."""
    for task in intake.bpmn_tree.getroot().iter(f"{{{BPMN_NS}}}scriptTask"):
        language = (task.get("scriptFormat") or "").strip().lower()
        if language in FOREIGN_SCRIPT_LANGUAGES:
            intake.error(
                f"script format '{language}' is not supported: approute runs Python scripts",
                element_id=task.get("id"),
                line=task.sourceline,
            )


def _check_incomplete_markers(intake: _Intake) -> None:
    """Name the timers and multi-instance markers drawn without the data that makes them run."""
    root = intake.bpmn_tree.getroot()
    for timer in root.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        if not any(len((child.text or "").strip()) for child in timer):
            event = timer.getparent()
            intake.error(
                "the timer has no time: give it a duration, a date or a cycle",
                element_id=event.get("id"),
                line=event.sourceline,
            )
    for loop in root.iter(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics"):
        has_input = any(
            loop.find(f"{{{BPMN_NS}}}{tag}") is not None for tag in ("loopCardinality", "loopDataInputRef")
        )
        if not has_input and not loop.get(f"{{{CAMUNDA_NS}}}collection"):
            task = loop.getparent()
            intake.error(
                "the multi-instance marker needs a collection to loop over or a number of instances",
                element_id=task.get("id"),
                line=task.sourceline,
            )


UNSUPPORTED = {
    "complexGateway": "complex gateways are not supported; use an exclusive or inclusive gateway",
    "compensateEventDefinition": "compensation is not supported; model the undo step explicitly",
    "dataStoreReference": "data stores are not supported; keep data in the process or call a service",
}
GATEWAYS = frozenset(
    f"{{{BPMN_NS}}}{tag}"
    for tag in ("exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway")
)


def _check_unsupported(intake: _Intake) -> None:
    """One line per element approute would not run as drawn: refuse it rather than guess."""
    root = intake.bpmn_tree.getroot()
    for tag, reason in UNSUPPORTED.items():
        for element in root.iter(f"{{{BPMN_NS}}}{tag}"):
            target = element if element.get("id") or element.getparent() is None else element.getparent()
            intake.error(reason, element_id=target.get("id"), line=target.sourceline)
    outgoing: dict[str, int] = {}
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        outgoing[flow.get("sourceRef")] = outgoing.get(flow.get("sourceRef"), 0) + 1
    for element in root.iter():
        count = outgoing.get(element.get("id"), 0) if isinstance(element.tag, str) else 0
        if count > 1 and element.tag not in GATEWAYS:
            intake.error(
                f"{count} flows leave this element without a gateway (an implicit split); "
                "draw a parallel or exclusive gateway to say which way the request goes",
                element_id=element.get("id"),
                line=element.sourceline,
            )


def _form_reference(element) -> str | None:
    for props in element.iter(f"{{{SPIFF_NS}}}property"):
        if props.get("name") == "formJsonSchemaFilename" and props.get("value"):
            return props.get("value")
    form_key = element.get(f"{{{CAMUNDA_NS}}}formKey")
    if form_key:
        for prefix in FORM_KEY_PREFIXES:
            if form_key.startswith(prefix):
                form_key = form_key[len(prefix) :]
        return form_key
    return None


def _read_task_meta(intake: _Intake, key: str) -> tuple[dict[str, dict[str, Any]], str | None]:
    root = intake.bpmn_tree.getroot()
    meta: dict[str, dict[str, Any]] = {}
    for task in root.iter(f"{{{BPMN_NS}}}userTask", f"{{{BPMN_NS}}}manualTask"):
        element_id = task.get("id")
        form = _checked_form(intake, task)
        meta[element_id] = {"form": form}
        for field_name, attribute in ASSIGNMENT_ATTRIBUTES.items():
            value = (task.get(f"{{{CAMUNDA_NS}}}{attribute}") or "").strip() or None
            meta[element_id][field_name] = value
            if value:
                try:
                    parse_assignment(value)
                except AssignmentError as exc:
                    intake.error(str(exc), element_id=element_id, line=task.sourceline)
        due = (task.get(f"{{{CAMUNDA_NS}}}dueDate") or "").strip() or None
        meta[element_id]["due"] = due
        meta[element_id]["distinct_approver"] = _declares_distinct_approver(task)
        meta[element_id]["sla"] = read_sla(
            task,
            lambda message, line, task=task: intake.error(
                message, element_id=task.get("id"), line=line or task.sourceline
            ),
            has_due_date=bool(due),
        )
        if due:
            try:
                check_due(due)
            except (AssignmentError, DueDateError) as exc:
                intake.error(str(exc), element_id=element_id, line=task.sourceline)
    start_form = None
    process = next(p for p in root.findall(f"{{{BPMN_NS}}}process") if p.get("id") == key)
    for start in process.findall(f"{{{BPMN_NS}}}startEvent"):
        start_form = _checked_form(intake, start) or start_form
    return meta, start_form


NAME_LANGUAGES = ("ru", "en")


def _process_names(intake: _Intake, key: str, name: str) -> dict[str, str]:
    """The process's name per language: its ``name.ru`` / ``name.en`` extension properties.

    People are told about their requests in their language; the plain BPMN name stands in for any
    language the designer did not name.
    """
    process = next(
        p for p in intake.bpmn_tree.getroot().findall(f"{{{BPMN_NS}}}process") if p.get("id") == key
    )
    names = {}
    extensions = process.find(f"{{{BPMN_NS}}}extensionElements")
    for tag in (f"{{{CAMUNDA_NS}}}property", f"{{{SPIFF_NS}}}property"):
        for prop in extensions.iter(tag) if extensions is not None else ():
            prop_name = prop.get("name") or ""
            if (
                prop_name.startswith("name.")
                and prop_name[5:] in NAME_LANGUAGES
                and (prop.get("value") or "").strip()
            ):
                names[prop_name[5:]] = prop.get("value").strip()[:200]
    return {language: names.get(language, name) for language in NAME_LANGUAGES}


def _declares_distinct_approver(task) -> bool:
    """The task's ``distinctApprover`` extension property (Camunda or SpiffWorkflow spelling) says "true".

    Then nobody who approved an earlier step of the instance may approve this one.
    """
    for tag in (f"{{{CAMUNDA_NS}}}property", f"{{{SPIFF_NS}}}property"):
        for prop in task.iter(tag):
            if prop.get("name") == "distinctApprover":
                return (prop.get("value") or "").strip().lower() == "true"
    return False


def _checked_form(intake: _Intake, element) -> str | None:
    reference = _form_reference(element)
    if reference is None:
        return _inline_form(intake, element)
    name = posixpath.basename(reference)
    if not name.lower().endswith(".json"):
        # Camunda Modeler points formKey at HTML or Camunda Forms, which approute does not
        # render; the file still deploys, and the designer is told the task has no schema.
        intake.warn(
            f"form '{reference}' is not a JSON Schema file; this step accepts any data",
            element_id=element.get("id"),
            line=element.sourceline,
        )
        return None
    if name not in intake.forms:
        intake.error(
            f"form '{reference}' is referenced but not in the bundle",
            element_id=element.get("id"),
            line=element.sourceline,
        )
        return None
    return name


def _inline_form(intake: _Intake, element) -> str | None:
    """A camunda:formData form, registered in the bundle as a schema of its own."""
    try:
        schema = camunda.form_from_form_data(element)
    except ValueError as exc:
        intake.error(str(exc), element_id=element.get("id"), line=element.sourceline)
        return None
    if schema is None:
        return None
    name = f"{element.get('id')}.formData.json"
    intake.forms[name] = schema
    return name


def _build_spec(intake: _Intake, key: str) -> str:
    parser = DecisionParser()
    for filename, content in intake.dmn_files.items():
        try:
            read_decisions(content, filename, parser)
        except DecisionFileRefused as exc:
            intake.error(str(exc), file=filename, element_id=exc.element_id, line=exc.line)
    if intake.report:
        return ""
    try:
        parser.add_bpmn_xml(intake.bpmn_tree.getroot(), filename=intake.bpmn_name)
        spec = parser.get_spec(key)
        subprocess_specs = parser.get_subprocess_specs(key)
    except ValidationException as exc:
        element_id = exc.id or None
        line = exc.line_number if isinstance(exc.line_number, int) and exc.line_number else None
        message = str(exc).split("\n")[0]
        if "found two items" in message:
            message = "a sequence flow or reference points at an element that does not exist"
        intake.error(message, file=exc.file_name or None, element_id=element_id, line=line)
        return ""
    except Exception as exc:  # a library failure on odd input must become a report, never a 500
        intake.error(f"the diagram could not be built: {type(exc).__name__}: {exc}")
        return ""
    _check_call_cycles(intake, spec, subprocess_specs)
    for process_spec in [spec, *subprocess_specs.values()]:
        _lint(intake, process_spec)
    if intake.report:
        return ""
    return dump_specs(spec, subprocess_specs)


def _check_call_cycles(intake: _Intake, spec, subprocess_specs: dict) -> None:
    """A process that calls itself, directly or through others, would nest without end."""
    specs = {spec.name: spec, **subprocess_specs}
    calls = {
        name: [
            (ts.bpmn_id, ts.spec)
            for ts in s.task_specs.values()
            if isinstance(getattr(ts, "spec", None), str)
        ]
        for name, s in specs.items()
    }

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for _element, callee in calls.get(start, []):
            if callee == target or (callee not in seen and reaches(callee, target, seen | {callee})):
                return True
        return False

    for name, edges in calls.items():
        for element_id, callee in edges:
            if callee == name or reaches(callee, name, {callee}):
                intake.error(
                    f"call activity calls '{callee}', which leads back to '{name}': "
                    "recursive calls are not supported",
                    element_id=element_id,
                )


def _lint(intake: _Intake, spec) -> None:
    """Compile every script and condition in the sandbox, so refusals happen at upload."""
    for task_spec in spec.task_specs.values():
        element_id = getattr(task_spec, "bpmn_id", None)
        sources: list[tuple[str, str, str]] = []
        if isinstance(task_spec, ScriptTaskMixin):
            sources.append(("script", task_spec.script, "exec"))
        for attr in ("prescript", "postscript"):
            if getattr(task_spec, attr, None):
                sources.append((attr, getattr(task_spec, attr), "exec"))
        if isinstance(task_spec, ExclusiveGatewayMixin | InclusiveGatewayMixin):
            for condition, target in task_spec.cond_task_specs:
                if condition is not None:
                    sources.append((f"condition to {target}", condition.args[0], "eval"))
        event = getattr(task_spec, "event_definition", None)
        if isinstance(getattr(event, "expression", None), str):
            what = "timer" if "Timer" in type(event).__name__ else "event condition"
            sources.append((what, event.expression, "eval"))
        for attr, what in (
            ("cardinality", "multi-instance cardinality"),
            ("condition", "completion condition"),
        ):
            if isinstance(getattr(task_spec, attr, None), str):
                sources.append((what, getattr(task_spec, attr), "eval"))
        if isinstance(task_spec, AsyncServiceTask):
            _check_operator(intake, task_spec)
            for name, param in task_spec.operation_params.items():
                sources.append((f"parameter '{name}'", param.get("value"), "eval"))
        for what, source, mode in sources:
            if not source:
                continue
            try:
                (compile_script if mode == "exec" else compile_expression)(source)
            except SandboxViolation as exc:
                intake.error(f"{what} is refused: {exc}", element_id=element_id)
            except SyntaxError as exc:
                intake.error(f"{what} has a syntax error: {exc.msg}", element_id=element_id)


def _check_operator(intake: _Intake, task_spec: AsyncServiceTask) -> None:
    """A service task must name an operator this installation has, or it would fail on every run."""
    # Importing the job modules registers engine's operators; worker-side ones (render_document)
    # register when the worker package is imported, which every web and worker process does.
    from engine.services import background_jobs, operators  # noqa: F401

    if operators.get(task_spec.operation_name) is None:
        known = ", ".join(operators.names()) or "none"
        intake.error(
            f"service task operator '{task_spec.operation_name}' is not registered; "
            f"operators available: {known}",
            element_id=task_spec.bpmn_id,
        )
