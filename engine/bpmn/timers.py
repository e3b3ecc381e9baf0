"""SpiffWorkflow's timer events, read and driven on approute's clock.

SpiffWorkflow reads ``datetime.now`` inside its timer module and offers no way to inject a
clock (notes/spiffworkflow.md §5.1). Pointing that module at engine.clock makes every timer
(duration, date, cycle) compute and fire on the same time the scheduler and the tests use.
"""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

from engine import clock


class _ClockDatetime(datetime):
    """``datetime`` whose ``now`` is engine.clock's."""

    @classmethod
    def now(cls, tz=None):
        moment = clock.now()
        return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)


_spiff_timer.datetime = _ClockDatetime
