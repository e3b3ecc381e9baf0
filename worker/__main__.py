"""`python -m worker` (or `approute worker`): run jobs from Redis, and the dispatcher and scheduler loop."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker

from engine.config import Settings
from engine.db import make_engine, make_session_factory
from engine.safe_log import describe
from engine.services import outbox
from worker.pump import pump_once, work_until_idle
from worker.rq_jobs import QUEUE, RQDispatcher

log = logging.getLogger("approute.worker")


def main(argv: list[str] | None = None) -> int:
    """Run until stopped (or, with --burst, until nothing is queued or due).

    With APPROUTE_REDIS_URL: an RQ worker on approute's queue, plus a thread that re-sends
    unfinished outbox rows and fires due timers. Any number of workers may run. Without it,
    --burst runs the due work once in this process; a long-running worker needs Redis.
    """
    parser = argparse.ArgumentParser(prog="approute worker")
    parser.add_argument("--burst", action="store_true", help="stop once nothing is queued or due")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)  # a line per task state change is noise here
    settings = Settings.from_env()
    factory = make_session_factory(make_engine(settings.database_url))
    if not settings.redis_url:
        if args.burst:
            handled = work_until_idle(factory)
            print(f"approute worker: ran {handled} due jobs and timers", file=sys.stderr)
            return 0
        print(
            "approute worker: APPROUTE_REDIS_URL is not set. In the embedded mode background work "
            "runs inside `approute serve`; set APPROUTE_REDIS_URL to run separate workers.",
            file=sys.stderr,
        )
        return 2
    connection = Redis.from_url(settings.redis_url)
    try:
        connection.ping()
    except RedisError as exc:
        print(f"approute worker: cannot reach Redis at APPROUTE_REDIS_URL: {exc}", file=sys.stderr)
        return 1
    dispatcher = RQDispatcher(settings.redis_url)
    outbox.set_dispatcher(dispatcher)  # jobs that make jobs hand them straight to Redis
    stop = threading.Event()
    if args.burst:
        pump_once(factory, dispatcher.resend, lease_seconds=settings.outbox_lease_seconds)
        _Worker([QUEUE], connection=connection, stop=stop).work(
            burst=True, with_scheduler=False, logging_level="WARNING"
        )
        return 0
    threading.Thread(
        target=_pump_loop, args=(factory, dispatcher.resend, settings, stop), daemon=True
    ).start()
    try:
        _work_until_stopped(connection, stop)
    finally:
        stop.set()
    return 0


class _Worker(SimpleWorker):
    """RQ's in-process worker (no fork per job: the database pool stays valid) that notes a stop signal."""

    def __init__(self, *args, stop: threading.Event, **kwargs):
        super().__init__(*args, **kwargs)
        self.approute_stop = stop

    def request_stop(self, signum, frame):
        """SIGTERM or SIGINT: note it for the loop around us, then RQ's warm shutdown."""
        self.approute_stop.set()
        super().request_stop(signum, frame)


def _work_until_stopped(connection: Redis, stop: threading.Event) -> None:
    # RQ's work loop waits out a lost connection only while it waits for a job; lost at any other
    # moment (a Redis restart while a job runs), RQ quits. The outbox re-sends whatever was in the
    # old Redis, so the worker just waits for Redis to be back and starts a new RQ loop.
    while not stop.is_set():
        try:
            _Worker([QUEUE], connection=connection, stop=stop).work(
                burst=False, with_scheduler=False, logging_level="WARNING"
            )
        except RedisError as exc:
            log.warning("the RQ loop lost Redis (%s)", type(exc).__name__)
        if stop.is_set():
            return
        _stop_on_signals(stop)  # RQ's handlers belong to the loop that ended
        stop.wait(0.5)  # whatever ended the loop, do not spin on it
        _wait_for_redis(connection, stop)


def _stop_on_signals(stop: threading.Event) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())


def _wait_for_redis(connection: Redis, stop: threading.Event) -> None:
    delay = 0.2
    while not stop.is_set():
        try:
            connection.ping()
            log.info("Redis is back; the RQ loop starts again")
            return
        except RedisError:
            stop.wait(delay)
            delay = min(delay * 2, 5.0)


def _pump_loop(factory, send, settings: Settings, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            handled = pump_once(factory, send, lease_seconds=settings.outbox_lease_seconds)
        except Exception as exc:
            log.error("pump failed (%s); trying again", describe(exc))
            handled = 0
        if not handled:
            stop.wait(settings.scheduler_interval_seconds)


if __name__ == "__main__":
    sys.exit(main())
