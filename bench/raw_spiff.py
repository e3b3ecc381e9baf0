"""Raw SpiffWorkflow 3.2.0 baseline: the bench routes run in memory, without approute.

What it measures (wall clock, ``time.perf_counter``, in this process):

* ``three_step`` (start -> step_1 -> step_2 -> step_3 -> end): for each instance, the start
  (``BpmnWorkflow`` + start data + ``do_engine_steps``) and, for each user task, the in-memory
  step (find the ready user task, put the form data in, ``task.run()``, ``do_engine_steps()``)
  followed by ``BpmnWorkflowSerializer(SPIFF_CONFIG).serialize_json`` -- the least a persistent
  engine must do per step. ``deserialize_json`` of the state the step started from is timed on
  the side (its result is discarded), so "deserialize + step + serialize" is also available: what
  a stateless server does per request.
* ``rework_loop`` (revise -> count -> gateway back, ``target`` rounds): the same per-step cost at
  rounds 1-20 and at the last 20 rounds of a 1,000-round loop, showing how raw spiff's cost grows
  with the task tree. Raw spiff stalls silently after about 330 rounds of this loop because its
  task iterator stops at depth 1000 (notes/spiffworkflow.md §6.3), so the long loop runs WITH the
  ``max_depth`` workaround, applied only inside a context manager and removed afterwards. The
  round at which the unpatched library stalls is reported too.

Nothing here asserts timings. Run it alone with ``.venv/bin/python bench/raw_spiff.py``.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchstats import median, ms, ratio, summary, times
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.subworkflow import BpmnBaseWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

BENCH_DIR = Path(__file__).resolve().parent
BUNDLES = BENCH_DIR / "bundles"
THREE_STEP_BPMN = BUNDLES / "three_step" / "three_step.bpmn"
REWORK_LOOP_BPMN = BUNDLES / "rework_loop" / "rework_loop.bpmn"
THREE_STEPS = ("step_1", "step_2", "step_3")
WINDOW = 20


def load_spec(bpmn_file: Path, process_id: str):
    """Parse a BPMN file with the spiff flavour and return (spec, subprocess_specs)."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(bpmn_file))
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def make_serializer() -> BpmnWorkflowSerializer:
    """The stock serializer for the spiff flavour (spec included in every document)."""
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def start_workflow(spec, subprocess_specs, data: dict[str, Any]) -> BpmnWorkflow:
    """A new instance with the start data in the start task, run until it waits."""
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=PythonScriptEngine())
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    workflow.do_engine_steps()
    return workflow


def complete_ready_user_task(
    workflow: BpmnWorkflow, data: dict[str, Any], element_id: str | None = None
) -> str:
    """Complete the ready user task (checking its id when given), run on; returns its id."""
    task = workflow.get_next_task(state=TaskState.READY, manual=True)
    if task is None:
        raise RuntimeError("no ready user task: the workflow stalled")
    if element_id is not None and task.task_spec.bpmn_id != element_id:
        raise RuntimeError(f"expected ready task {element_id}, found {task.task_spec.bpmn_id}")
    task.data.update(data)
    task.run()
    workflow.do_engine_steps()
    return task.task_spec.bpmn_id


@dataclass
class StepSample:
    """Timings of one user-task step, in seconds."""

    step: float
    serialize: float
    deserialize: float

    @property
    def persisted(self) -> float:
        """In-memory step + serialize_json: the reference for approute."""
        return self.step + self.serialize

    @property
    def full_cycle(self) -> float:
        """deserialize_json + step + serialize_json: a stateless server's minimum per request."""
        return self.deserialize + self.step + self.serialize


@dataclass
class ThreeStepResult:
    """Per-step samples of the three-step route."""

    instances: int
    start: list[float] = field(default_factory=list)  # new instance + engine steps + serialize
    steps: dict[str, list[StepSample]] = field(default_factory=lambda: {s: [] for s in THREE_STEPS})
    json_bytes: int = 0

    def all_steps(self) -> list[StepSample]:
        return [s for samples in self.steps.values() for s in samples]


def _timed_step(
    serializer, workflow, state_json: str, data, element_id: str | None
) -> tuple[StepSample, str]:
    t0 = time.perf_counter()
    serializer.deserialize_json(state_json)  # timed on the side; the in-memory workflow goes on
    t1 = time.perf_counter()
    complete_ready_user_task(workflow, data, element_id)
    t2 = time.perf_counter()
    new_json = serializer.serialize_json(workflow)
    t3 = time.perf_counter()
    return StepSample(step=t2 - t1, serialize=t3 - t2, deserialize=t1 - t0), new_json


def run_three_step(instances: int = 200, warmup: int = 20) -> ThreeStepResult:
    """Run the three-step route ``instances`` times (after ``warmup`` untimed runs)."""
    spec, subs = load_spec(THREE_STEP_BPMN, "three_step")
    serializer = make_serializer()
    result = ThreeStepResult(instances=instances)
    for i in range(warmup + instances):
        timed = i >= warmup
        t0 = time.perf_counter()
        workflow = start_workflow(spec, subs, {"amount": 100 + i})
        state_json = serializer.serialize_json(workflow)
        start_time = time.perf_counter() - t0
        if timed:
            result.start.append(start_time)
        for element_id in THREE_STEPS:
            sample, state_json = _timed_step(serializer, workflow, state_json, {"ok": True}, element_id)
            if timed:
                result.steps[element_id].append(sample)
        if not workflow.is_completed():
            raise RuntimeError("three_step did not complete")
        result.json_bytes = len(state_json)
    return result


_ORIGINAL_ITERATOR = BpmnBaseWorkflow.get_tasks_iterator


@contextlib.contextmanager
def max_depth_patch(depth: int = 10**6) -> Iterator[None]:
    """The notes §6.3 workaround, active only inside the ``with`` block."""

    def deep_iterator(self, first_task=None, **kwargs):
        kwargs.setdefault("max_depth", depth)
        return _ORIGINAL_ITERATOR(self, first_task, **kwargs)

    BpmnBaseWorkflow.get_tasks_iterator = deep_iterator
    try:
        yield
    finally:
        BpmnBaseWorkflow.get_tasks_iterator = _ORIGINAL_ITERATOR


@dataclass
class ReworkResult:
    """Per-step samples at the start and the end of a long rework loop (raw spiff, patched)."""

    rounds: int
    early: list[StepSample] = field(default_factory=list)  # rounds 1..WINDOW
    late: list[StepSample] = field(default_factory=list)  # rounds rounds-WINDOW+1..rounds
    tasks_early: int = 0
    tasks_late: int = 0
    json_bytes_early: int = 0
    json_bytes_late: int = 0
    total_seconds: float = 0.0
    completed: bool = False


def run_rework_loop(rounds: int = 1000) -> ReworkResult:
    """Run the rework loop for ``rounds`` rounds WITH the max_depth patch.

    Serialization is only done (and timed) in the two measured windows; in between the loop
    runs in memory, which leaves the task tree exactly as a persisting engine would.
    """
    spec, subs = load_spec(REWORK_LOOP_BPMN, "rework_loop")
    serializer = make_serializer()
    result = ReworkResult(rounds=rounds)
    late_from = rounds - WINDOW + 1
    began = time.perf_counter()
    with max_depth_patch():
        workflow = start_workflow(spec, subs, {"target": rounds})
        state_json = serializer.serialize_json(workflow)
        for current in range(1, rounds + 1):
            if current <= WINDOW or current >= late_from:
                if current == late_from:
                    state_json = serializer.serialize_json(workflow)
                sample, state_json = _timed_step(serializer, workflow, state_json, {"done": False}, "revise")
                (result.early if current <= WINDOW else result.late).append(sample)
                if current == 1:
                    result.tasks_early, result.json_bytes_early = len(workflow.tasks), len(state_json)
                if current == rounds:
                    result.tasks_late, result.json_bytes_late = len(workflow.tasks), len(state_json)
            else:
                complete_ready_user_task(workflow, {"done": False}, "revise")
        result.completed = workflow.is_completed() and workflow.last_task.data.get("round") == rounds
    result.total_seconds = time.perf_counter() - began
    return result


@dataclass
class UnpatchedOutcome:
    """What the unpatched library does with a long rework loop."""

    target: int
    rounds_done: int  # user-task completions before no ready user task was visible
    reports_completed: bool  # workflow.is_completed() at that point
    end_event_reached: bool  # the end event task actually ran
    round_value: Any  # the ``round`` variable the route counted


def unpatched_outcome(target: int = 1000) -> UnpatchedOutcome:
    """Without the patch: run the loop until no ready user task is visible, then look around."""
    spec, subs = load_spec(REWORK_LOOP_BPMN, "rework_loop")
    if BpmnBaseWorkflow.get_tasks_iterator is not _ORIGINAL_ITERATOR:
        raise RuntimeError("the max_depth patch is active; cannot observe the unpatched library")
    workflow = start_workflow(spec, subs, {"target": target})
    done = 0
    while workflow.get_next_task(state=TaskState.READY, manual=True) is not None:
        complete_ready_user_task(workflow, {"done": False}, "revise")
        done += 1
    # workflow.tasks is a plain dict: it sees every task, however deep.
    end_reached = any(
        t.task_spec.bpmn_id == "finished" and t.has_state(TaskState.COMPLETED)
        for t in workflow.tasks.values()
    )
    last = workflow.last_task.data if workflow.last_task is not None else {}
    return UnpatchedOutcome(target, done, workflow.is_completed(), end_reached, last.get("round"))


@dataclass
class RawResults:
    """Everything raw_spiff measures, for run_all.py."""

    three_step: ThreeStepResult
    rework: ReworkResult
    unpatched: UnpatchedOutcome


def run(instances: int = 200, rounds: int = 1000) -> RawResults:
    """Run all raw spiff measurements."""
    gc.collect()
    three = run_three_step(instances=instances)
    gc.collect()
    unpatched = unpatched_outcome(rounds)
    gc.collect()
    rework = run_rework_loop(rounds)
    return RawResults(three_step=three, rework=rework, unpatched=unpatched)


def describe_unpatched(outcome: UnpatchedOutcome) -> str:
    """One line on what the unpatched library did."""
    if outcome.rounds_done >= outcome.target and outcome.end_event_reached:
        return f"ran all {outcome.target} rounds"
    return (
        f"no ready task after round {outcome.rounds_done} of {outcome.target}; "
        f"is_completed()={outcome.reports_completed}, end event reached={outcome.end_event_reached}, "
        f"round={outcome.round_value} (depth limit 1000, notes §6.3)"
    )


def report(results: RawResults, out=sys.stdout) -> None:
    """Print the raw spiff figures."""
    three, rework = results.three_step, results.rework
    steps = three.all_steps()
    print(f"Raw SpiffWorkflow, three_step route, {three.instances} instances (in-process):", file=out)
    rows = [("start (new + engine steps + serialize)", three.start)]
    rows += [
        (f"{element_id}: step + serialize", [s.persisted for s in samples])
        for element_id, samples in three.steps.items()
    ]
    rows += [
        ("all steps: in-memory step only", [s.step for s in steps]),
        ("all steps: serialize_json only", [s.serialize for s in steps]),
        ("all steps: step + serialize (reference)", [s.persisted for s in steps]),
        ("all steps: deserialize + step + serialize", [s.full_cycle for s in steps]),
    ]
    for label, values in rows:
        print(f"  {label:<44}{summary(values)}", file=out)
    print(f"  state JSON at the end: {three.json_bytes / 1024:.1f} KiB (spec included)", file=out)
    print(file=out)
    print(
        "Raw SpiffWorkflow, rework_loop WITHOUT the max_depth patch: "
        + describe_unpatched(results.unpatched),
        file=out,
    )
    print(
        f"Raw SpiffWorkflow, rework_loop, {rework.rounds} rounds WITH the max_depth patch "
        f"(notes §6.3), completed={rework.completed}, {rework.total_seconds:.1f} s in all:",
        file=out,
    )
    late_label = f"{rework.rounds - WINDOW + 1}-{rework.rounds}"
    for label, samples, tasks, size in (
        (f"rounds 1-{WINDOW}", rework.early, rework.tasks_early, rework.json_bytes_early),
        (f"rounds {late_label}", rework.late, rework.tasks_late, rework.json_bytes_late),
    ):
        print(
            f"  {label:<16} step + serialize {summary([s.persisted for s in samples])}; "
            f"in-memory step {ms(median([s.step for s in samples]))} ms; "
            f"deserialize {ms(median([s.deserialize for s in samples]))} ms; "
            f"{tasks} tasks, {size / 1024:.0f} KiB",
            file=out,
        )
    growth = ratio(median([s.persisted for s in rework.late]), median([s.persisted for s in rework.early]))
    print(f"  growth of step + serialize, round ~{rework.rounds} vs round ~1: {times(growth)}", file=out)


def main() -> int:
    report(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
