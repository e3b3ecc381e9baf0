"""Settings read from the environment, shared by the web process, the worker and the CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_VAR_DIR = Path("var")


@dataclass(frozen=True)
class Settings:
    """Runtime configuration.

    ``redis_url`` left unset selects the embedded mode: jobs run in the web process.
    """

    database_url: str
    redis_url: str | None
    secret_key: str

    @property
    def is_embedded(self) -> bool:
        """True when no Redis is configured and background work runs in-process."""
        return not self.redis_url

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Build settings from ``APPROUTE_*`` variables, with embedded-mode defaults."""
        env = os.environ if environ is None else environ
        database_url = env.get("APPROUTE_DATABASE_URL") or default_sqlite_url()
        return cls(
            database_url=database_url,
            redis_url=env.get("APPROUTE_REDIS_URL") or None,
            secret_key=env.get("APPROUTE_SECRET_KEY") or "dev-only-insecure-secret",
        )


def default_sqlite_url() -> str:
    """The embedded database: a SQLite file under ``var/`` of the working directory."""
    DEFAULT_VAR_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(DEFAULT_VAR_DIR / 'approute.sqlite3').resolve()}"
