"""The embedded mode's runner: one thread in the web process does what RQ workers do in production."""

from __future__ import annotations

import logging
import queue
import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from engine.safe_log import describe
from engine.services import jobs
from worker.pump import pump_once, run_inline

log = logging.getLogger(__name__)


class EmbeddedRunner:
    """Runs committed jobs as they come, and every ``interval`` seconds pumps the outbox and timers."""

    def __init__(self, factory: sessionmaker[Session], *, interval: float, lease_seconds: float):
        self.factory = factory
        self.interval = interval
        self.lease_seconds = lease_seconds
        self._queue: queue.Queue[int] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="approute-jobs", daemon=True)

    def start(self) -> EmbeddedRunner:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def submit(self, ids: list[int]) -> None:
        """Dispatcher: queue committed job ids for the runner thread."""
        for job_id in ids:
            self._queue.put(job_id)

    def _loop(self) -> None:
        send = run_inline(self.factory)
        next_pump = time.monotonic()
        while not self._stop.is_set():
            # The pump's turn comes every interval even while jobs keep arriving, so a steady
            # stream of jobs cannot starve due timers and re-sends.
            if time.monotonic() >= next_pump:
                self._pump(send)
                next_pump = time.monotonic() + self.interval
                continue
            try:
                job_id = self._queue.get(timeout=max(0.0, next_pump - time.monotonic()))
            except queue.Empty:
                continue
            try:
                jobs.execute(self.factory, job_id)
            except Exception as exc:
                log.error(
                    "embedded runner: job %s could not run (%s); the pump will retry it",
                    job_id,
                    describe(exc),
                )

    def _pump(self, send) -> None:
        try:
            pump_once(self.factory, send, lease_seconds=self.lease_seconds)
        except Exception as exc:
            log.error(
                "embedded runner: the pump failed (%s); trying again in %s s", describe(exc), self.interval
            )
