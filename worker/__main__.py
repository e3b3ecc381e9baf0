"""`python -m worker` (or `approute worker`): run an RQ worker on approute's queues."""

from __future__ import annotations

import sys

from redis import Redis
from rq import Worker

from engine.config import Settings

QUEUES = ("approute",)


def main() -> int:
    """Run until stopped. Without APPROUTE_REDIS_URL there is nothing to do: jobs run in-process."""
    settings = Settings.from_env()
    if not settings.redis_url:
        print(
            "approute worker: APPROUTE_REDIS_URL is not set. In the embedded mode background work "
            "runs inside `approute serve`; set APPROUTE_REDIS_URL to run separate workers.",
            file=sys.stderr,
        )
        return 2
    connection = Redis.from_url(settings.redis_url)
    Worker(list(QUEUES), connection=connection).work(with_scheduler=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
