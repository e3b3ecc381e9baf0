"""Starts worker processes fast for the fault tests: imports once, then forks a worker per request.

Importing approute, RQ and the operators takes seconds on a busy machine; twenty kill -9 rounds
would spend most of their time there. This process imports it all once (with the test job kinds),
then for every line read on stdin forks a child that runs ``worker.__main__.main`` with that
line's arguments, and prints the child's pid. The child is a real worker process: its own
database and Redis connections, killed by the test with SIGKILL. Run as
``python -m tests.worker.zygote`` with the worker's environment; stdin closed ends it.
"""

from __future__ import annotations

import os
import signal
import sys

import tests.worker.fault_ops  # noqa: F401 - the test job kinds, registered before any fork
from worker.__main__ import main


def _reap(*_args) -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def serve() -> None:
    """Fork one worker per line on stdin; print each child's pid on its own line."""
    signal.signal(signal.SIGCHLD, _reap)
    while line := sys.stdin.readline():
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.dup2(2, 1)  # stdout is the pid channel; the worker's output goes to the log
            code = 1
            try:
                code = main(line.split())
            finally:
                sys.stderr.flush()
                os._exit(code)
        print(pid, flush=True)


if __name__ == "__main__":
    serve()
