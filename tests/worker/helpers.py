"""Helpers of the worker tests: waiting for what a background process does, and reading the outbox."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import redis
from sqlalchemy import func, select

from engine.models import JobStatus, OutboxJob

T = TypeVar("T")


def wait_until(check: Callable[[], T], what: str, timeout: float = 60.0) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds.

    The timeout only bounds a hang: nothing is asserted about how long the work took.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.05)


def statuses(factory) -> dict[JobStatus, int]:
    """How many outbox rows are in each status."""
    with factory() as s:
        rows = s.execute(select(OutboxJob.status, func.count()).group_by(OutboxJob.status)).all()
    return {status: n for status, n in rows}


def all_done(factory, expected: int) -> bool:
    """True once exactly ``expected`` rows exist and every one is done."""
    return statuses(factory) == {JobStatus.DONE: expected}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A ``redis-server`` process of our own: nothing saved to disk, so a restart starts empty."""

    def __init__(self, workdir: Path):
        self.port = _free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=10)

    def start(self) -> RedisServer:
        log = open(self.workdir / f"redis-{self.port}.log", "ab")  # noqa: SIM115 - the server keeps it
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._wait_until_up()
        return self

    def kill(self) -> None:
        """SIGKILL: whatever was queued in it is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        """Kill the server and start a new, empty one on the same port."""
        self.kill()
        self.start()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client().ping():
                    return
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
            time.sleep(0.02)


ROOT = Path(__file__).resolve().parents[2]


def worker_env(database_url: str, redis_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a worker process on this database and Redis (none: the embedded mode)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("APPROUTE_")}
    env.update(
        APPROUTE_DATABASE_URL=database_url,
        APPROUTE_OUTBOX_LEASE_SECONDS="1",
        APPROUTE_SCHEDULER_INTERVAL_SECONDS="0.1",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    if redis_url:
        env["APPROUTE_REDIS_URL"] = redis_url
    return env


class Workers:
    """Worker processes forked on request by one ``tests.worker.zygote`` process (see there why)."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.zygote = subprocess.Popen(
                [sys.executable, "-m", "tests.worker.zygote"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self.pids: list[int] = []

    def start(self, *args: str) -> int:
        """A new worker process (``python -m worker`` with ``args``); returns its pid."""
        self.zygote.stdin.write(" ".join(args) + "\n")
        self.zygote.stdin.flush()
        answer = self.zygote.stdout.readline()
        if not answer:
            raise AssertionError(f"the worker zygote died; see {self.log_path}")
        self.pids.append(int(answer))
        return self.pids[-1]

    @staticmethod
    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self, pid: int) -> None:
        """SIGKILL: no handler runs, nothing is cleaned up."""
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not self.alive(pid), f"worker {pid} is gone after SIGKILL", 30)

    def stop(self, pid: int) -> None:
        """SIGTERM: RQ's warm shutdown (the current job finishes, then the process exits)."""
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not self.alive(pid), f"worker {pid} stops after SIGTERM", 60)

    def close(self) -> None:
        """Kill whatever still runs, then end the zygote."""
        for pid in self.pids:
            if self.alive(pid):
                self.kill(pid)
        self.zygote.stdin.close()
        self.zygote.wait(timeout=30)
        self.zygote.stdout.close()
