"""Workflow state as JSON, with the spec stored once per definition version.

SpiffWorkflow's serializer writes the whole spec into every instance. Here the spec is
serialized once at deploy time and cached in memory per definition; instance state holds
only the task tree, and is compacted so that a step costs the same at round 1 and 1,000.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import BusinessRuleTask
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.business_rules import FeelBusinessRuleTaskConverter
from engine.bpmn.service_tasks import AsyncServiceTask

STATE_FORMAT = "approute-1"


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Converts a workflow without its specs; they are supplied from the per-version cache."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore(self, dct: dict, spec: BpmnProcessSpec, subprocess_specs: dict) -> BpmnWorkflow:
        """Rebuild a workflow from ``to_dict`` output and already-restored specs."""
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _build_registry():
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpecFreeWorkflowConverter
    config[BusinessRuleTask] = FeelBusinessRuleTaskConverter  # decisions run on rules.dmn
    config[AsyncServiceTask] = ServiceTaskConverter  # service tasks wait for a background job
    registry = BpmnWorkflowSerializer.configure(config)
    # Form data is JSON, but scripts may produce dates and decimals; keep them round-trippable.
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    return registry


REGISTRY = _build_registry()


_ENCODER = create_encoder(REGISTRY)
_ENCODER_LOCK = threading.Lock()


def _find_workflow_converter() -> SpecFreeWorkflowConverter:
    restore = REGISTRY.convert_from_dict["BpmnWorkflow"]
    # DictionaryConverter wraps the bound method in functools.partial(_obj_from_dict, func)
    return restore.args[0].__self__


_WORKFLOW_CONVERTER = _find_workflow_converter()


def dump_specs(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
    """Serialize a process spec and its called sub-process specs once, at deploy time."""
    return json.dumps(
        {
            "format": STATE_FORMAT,
            "spec": REGISTRY.convert(spec),
            "subprocess_specs": {k: REGISTRY.convert(v) for k, v in subprocess_specs.items()},
        }
    )


@lru_cache(maxsize=256)
def _restore_specs(spec_json: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    doc = json.loads(spec_json)
    spec = REGISTRY.restore(doc["spec"])
    subs = {k: REGISTRY.restore(v) for k, v in doc["subprocess_specs"].items()}
    return spec, subs


def load_specs(spec_json: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    """Restore the specs of a definition version; cached, since versions are immutable."""
    return _restore_specs(spec_json)


def dump_workflow(workflow: BpmnWorkflow) -> str:
    """Serialize instance state without the spec, after compacting the task tree."""
    compact(workflow)
    # As SpiffWorkflow's own serialize_json does: task data is left as it is and the encoder
    # converts registered types (dates, timedeltas, decimals) and sets as it meets them. The
    # registry's encoder mode is a shared flag, hence the lock for threaded web workers.
    with _ENCODER_LOCK:
        REGISTRY._encoder_mode = True
        try:
            return json.dumps(REGISTRY.convert(workflow), separators=(",", ":"), cls=_ENCODER)
        finally:
            REGISTRY._encoder_mode = False


def load_workflow(state_json: str, spec_json: str) -> BpmnWorkflow:
    """Restore an instance from its state and its definition's spec."""
    spec, subs = load_specs(spec_json)
    data = json.loads(state_json)
    data.pop("typename", None)
    return _WORKFLOW_CONVERTER.restore(data, spec, subs)


def compact(workflow: BpmnWorkflow) -> None:
    """Drop finished history from the task tree so its size tracks live work, not age.

    The tree is cut at the deepest task above which everything is finished: that task becomes
    the new root and every task outside its subtree is removed. Below a fork the cut cannot go
    further, so each branch's finished chains are shortened instead (see ``_splice_chains``).
    Finished tasks only hold data that was already copied to their children, and the audit log
    keeps the history, so nothing a later step needs is lost. Data of finished tasks whose
    children are finished is dropped.
    """
    for sub in [workflow, *workflow.subprocesses.values()]:
        _cut_finished_prefix(workflow, sub)
        _splice_chains(workflow, sub)
        _drop_copied_data(sub)


def _live_subtrees(root) -> set:
    """Ids of the tasks whose subtree holds unfinished work; iterative, as trees can be deep."""
    order = list(_walk(root))
    live: set = set()
    for task in reversed(order):  # children come after their parent in _walk's order
        if not task.has_state(TaskState.FINISHED_MASK) or any(c in live for c in task._children):
            live.add(task.id)
    return live


def _cut_finished_prefix(top: BpmnWorkflow, workflow) -> None:
    root = workflow.task_tree
    if root is None:
        return
    live_ids = _live_subtrees(root)
    cut = root
    while cut.has_state(TaskState.FINISHED_MASK):
        live = [child for child in cut.children if child.id in live_ids]
        if len(live) != 1:
            break
        cut = live[0]
    # The cut task keeps a finished parent only when it is itself finished; a live task
    # may still need its parent (boundary events, joins), so stop one level above it.
    if not cut.has_state(TaskState.FINISHED_MASK) and cut.parent is not None:
        cut = cut.parent
    if cut is root:
        return
    keep = {t.id for t in _walk(cut)}
    for task_id in [tid for tid in workflow.tasks if tid not in keep]:
        del workflow.tasks[task_id]
        top.subprocesses.pop(task_id, None)
    cut._parent = None
    workflow.task_tree = cut
    if workflow.last_task is not None and workflow.last_task.id not in keep:
        workflow.last_task = None


_INHERITED = TaskState.READY | TaskState.STARTED | TaskState.FINISHED_MASK


def _splice_chains(top: BpmnWorkflow, workflow) -> None:
    """Remove finished tasks from the middle of single-file chains, joining parent to child.

    A task goes only when it is finished, is the only child of a finished parent, and has one
    child that already took its data (ready or later: a waiting or predicted task would still
    copy it). Tasks with several children (forks, boundary-event splits) and the first task
    below them stay, so the joins that look back to a split still find it with its children.
    """
    for task in list(workflow.tasks.values()):
        parent = task.parent
        if (
            parent is None
            or not task.has_state(TaskState.FINISHED_MASK)
            or not parent.has_state(TaskState.FINISHED_MASK)
            or len(parent._children) != 1
            or len(task._children) != 1
        ):
            continue
        child = workflow.tasks[task._children[0]]
        if not child.has_state(_INHERITED):
            continue
        parent._children = [child.id]
        child._parent = parent.id
        del workflow.tasks[task.id]
        top.subprocesses.pop(task.id, None)
        if workflow.last_task is task:
            workflow.last_task = None


def _walk(task):
    stack = [task]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


def _drop_copied_data(workflow) -> None:
    for task in workflow.tasks.values():
        if not task.has_state(TaskState.COMPLETED) or not task.data:
            continue
        children = task.children
        if children and all(c.has_state(TaskState.FINISHED_MASK) for c in children):
            task.data = {}


RESERVED_KEY = "typename"


def reserved_key_paths(data: Any, prefix: str = "data") -> list[str]:
    """Dotted paths of keys the state serializer would misread as its own type markers.

    SpiffWorkflow restores any dict with a ``typename`` key as an object, so such data would
    be stored fine and then make the instance unreadable (notes/spiffworkflow.md §6.1).
    """
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}"
            if key == RESERVED_KEY:
                found.append(path)
            found.extend(reserved_key_paths(value, path))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.extend(reserved_key_paths(value, f"{prefix}.{index}"))
    return found


def json_default(value: Any) -> Any:
    """JSON encoder fallback for the instance data the API shows: dates, decimals, sets, else text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    # Anything else a script produced (a timedelta, say) is shown as text in the read model;
    # whether it can be stored at all is the state serializer's call.
    return str(value)
