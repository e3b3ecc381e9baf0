"""Fixtures of the worker tests: a Redis server of the test's own, and the outbox's dispatcher put back.

The Redis here is this test's own ``redis-server`` on a free port, so stopping or emptying it
disturbs nobody else's queues; a test that restarts it gets a new, empty server on the same port.
(The e-mail tests' SMTP server lives in ``smtp_server.py``; its module imports the fixture.)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from engine.services import outbox
from tests.worker.helpers import RedisServer


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    """A fresh ``redis-server`` on a free port, killed after the test (the shared one is never touched)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed; the RQ-mode and fault tests need a real Redis")
    server = RedisServer(tmp_path).start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture(autouse=True)
def _no_dispatcher_left_behind() -> Iterator[None]:
    """outbox.set_dispatcher is process-wide: every test here leaves it as the manual mode has it."""
    yield
    outbox.set_dispatcher(None)
