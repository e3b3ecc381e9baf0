"""The bench's operator: answers at once, so a job's cost is approute's own (lock, load, step, store)."""

from __future__ import annotations

from engine.services import operators


@operators.register("bench.noop", retries=0)
def noop(call):
    """Return the parameter doubled."""
    return {"doubled": call.params.get("n", 0) * 2}
