"""Operators for the service-task tests, registered when this module is imported.

``test.flaky`` fails ``fail_times`` times for its ``key`` and then answers; calls are counted per
key in ``CALLS``, so each test uses its own key and both databases' runs stay apart.
"""

from __future__ import annotations

from engine.services import operators

CALLS: dict[str, int] = {}


@operators.register("test.flaky", retries=2, backoff_base=10.0)
def flaky(call: operators.OperatorCall) -> dict:
    """Fail the first ``fail_times`` calls for ``key``, then answer with the doubled amount."""
    key = call.params["key"]
    CALLS[key] = CALLS.get(key, 0) + 1
    if CALLS[key] <= call.params["fail_times"]:
        raise ConnectionError(f"the HR system is down (call {CALLS[key]})")
    return {"answer": call.params["doubled"], "calls": CALLS[key], "delivery_id": call.delivery_id}
