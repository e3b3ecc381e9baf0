"""`python -m worker` (or `approute worker`): run an RQ worker on approute's queues."""

from __future__ import annotations

import argparse
import sys

from redis import Redis
from redis.exceptions import RedisError
from rq import Worker

from engine.config import Settings

QUEUES = ("approute",)


def main(argv: list[str] | None = None) -> int:
    """Run until stopped (or, with --burst, until the queues are empty).

    Without APPROUTE_REDIS_URL there is nothing to do: jobs run in-process.
    """
    parser = argparse.ArgumentParser(prog="approute worker")
    parser.add_argument("--burst", action="store_true", help="stop once the queues are empty")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if not settings.redis_url:
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
    Worker(list(QUEUES), connection=connection).work(burst=args.burst, with_scheduler=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
