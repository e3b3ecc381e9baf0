"""A rework loop driven 1,000 rounds through the service layer, on both databases.

Stock SpiffWorkflow 3.2.0 stops seeing tasks deeper than 1000 in its tree, so a loop that
adds three tasks a round stalls silently around round 333. Completing 1,000 rounds proves the
engine works around it, and the stored state staying flat proves compaction.
"""

from __future__ import annotations

import pytest

from engine.models import HumanTask, InstanceStatus, TaskStatus
from tests.engine.helpers import (
    bundle_file,
    complete,
    count,
    deploy,
    get_instance,
    only_open_task,
    open_tasks,
    start,
)

ROUNDS = 1000


def test_rework_loop_runs_1000_rounds_with_flat_state(session_factory, org):
    vera = org["employee_ops_1"]
    deploy(session_factory, bundle_file("rework_loop.bpmn"))
    instance = start(session_factory, "rework_loop", vera, {"rounds": ROUNDS})

    state_size = {}
    for round_ in range(1, ROUNDS + 1):
        task = only_open_task(session_factory, instance.id)
        assert task.element_id == "revise"
        assert task.assignee_id == vera.id
        complete(session_factory, task.id, vera, {"note": f"revision {round_}"})
        stored = get_instance(session_factory, instance.id)
        state_size[round_] = len(stored.state)
        if round_ < ROUNDS:
            assert stored.status == InstanceStatus.RUNNING, round_
            assert stored.data["round"] == round_

    assert stored.status == InstanceStatus.COMPLETED
    assert stored.data["round"] == ROUNDS
    assert stored.data["note"] == f"revision {ROUNDS}"
    assert count(session_factory, HumanTask, HumanTask.status == TaskStatus.COMPLETED) == ROUNDS
    assert count(session_factory, HumanTask, HumanTask.status == TaskStatus.OPEN) == 0
    # Compaction keeps the stored state the size of the live work, not of the history.
    assert state_size[ROUNDS - 1] <= 2 * state_size[10], (state_size[10], state_size[ROUNDS - 1])
    assert state_size[ROUNDS] <= 2 * state_size[10], (state_size[10], state_size[ROUNDS])
    assert max(state_size[r] for r in range(10, ROUNDS + 1)) <= 2 * state_size[10]


@pytest.mark.parametrize("passes", [400, 600], ids=["tree-depth-800", "tree-depth-1200"])
def test_automatic_loop_leaves_a_deep_user_task_waiting(session_factory, org, passes):
    """A loop with no person in it runs within one step, so compaction cannot keep the tree
    shallow until the step is stored; the user task after it must still be found."""
    vera = org["employee_ops_1"]
    deploy(session_factory, bundle_file("automatic_loop.bpmn"))

    instance = start(session_factory, "automatic_loop", vera, {"count": passes})

    stored = get_instance(session_factory, instance.id)
    assert stored.status == InstanceStatus.RUNNING
    assert stored.data["counted"] == passes
    review = only_open_task(session_factory, instance.id)
    assert (review.element_id, review.assignee_id) == ("review", vera.id)

    complete(session_factory, review.id, vera, {})

    assert get_instance(session_factory, instance.id).status == InstanceStatus.COMPLETED


PARALLEL_ROUNDS = 150


def test_parallel_rework_loops_keep_flat_state(session_factory, org):
    """Below a fork the tree cannot be cut; each branch's finished chain is shortened instead."""
    vera = org["employee_ops_1"]
    deploy(session_factory, bundle_file("parallel_rework.bpmn"))
    instance = start(session_factory, "parallel_rework", vera, {"rounds": PARALLEL_ROUNDS})

    state_size = {}
    for round_ in range(1, PARALLEL_ROUNDS + 1):
        for element_id in ("revise_a", "revise_b"):
            (task,) = [t for t in open_tasks(session_factory, instance.id) if t.element_id == element_id]
            complete(session_factory, task.id, vera, {f"note_{element_id[-1]}": round_})
        state_size[round_] = len(get_instance(session_factory, instance.id).state)

    sign = only_open_task(session_factory, instance.id)
    assert sign.element_id == "sign"
    complete(session_factory, sign.id, vera, {})
    stored = get_instance(session_factory, instance.id)
    assert stored.status == InstanceStatus.COMPLETED
    assert stored.data["b_round"] == PARALLEL_ROUNDS
    assert max(state_size[r] for r in range(10, PARALLEL_ROUNDS)) <= 2 * state_size[10]
