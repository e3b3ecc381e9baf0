"""Settings read from the environment, shared by the web process, the worker and the CLI."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_VAR_DIR = Path("var")
_OFF = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Settings:
    """Runtime configuration.

    ``redis_url`` left unset selects the embedded mode: jobs run in the web process.
    """

    database_url: str
    redis_url: str | None
    secret_key: str | None
    # The web session cookie carries the Secure flag unless APPROUTE_COOKIE_SECURE=0: browsers treat
    # localhost as a secure context, so only plain http to another host needs it off.
    cookie_secure: bool = True
    # OpenID Connect sign-in is on when an issuer is set; the roles claim, when present, sets roles.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_roles_claim: str = "roles"
    # Background work. jobs_mode: "rq" (Redis set), "thread" (embedded default: a runner thread in
    # the web process) or "manual" (nothing runs until a caller drives it: tests, scripts).
    jobs_mode: str = "thread"
    outbox_lease_seconds: float = 120.0
    scheduler_interval_seconds: float = 1.0
    # E-mail: no host, no e-mail (in-app notifications still work).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "approute <approute@localhost>"
    # Links in e-mails point here.
    base_url: str = "http://127.0.0.1:8000"
    # Webhooks are signed with it (HMAC-SHA256); unset, webhook service tasks fail with that reason.
    webhook_secret: str | None = None
    # Hosts a webhook may call although they resolve to internal addresses (loopback, private nets).
    webhook_allow_hosts: tuple[str, ...] = ()

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
            secret_key=env.get("APPROUTE_SECRET_KEY") or None,
            cookie_secure=env.get("APPROUTE_COOKIE_SECURE", "1").strip().lower() not in _OFF,
            oidc_issuer=env.get("APPROUTE_OIDC_ISSUER") or None,
            oidc_client_id=env.get("APPROUTE_OIDC_CLIENT_ID") or None,
            oidc_client_secret=env.get("APPROUTE_OIDC_CLIENT_SECRET") or None,
            oidc_roles_claim=env.get("APPROUTE_OIDC_ROLES_CLAIM") or "roles",
            jobs_mode=_jobs_mode(env),
            outbox_lease_seconds=float(env.get("APPROUTE_OUTBOX_LEASE_SECONDS") or 120),
            scheduler_interval_seconds=float(env.get("APPROUTE_SCHEDULER_INTERVAL_SECONDS") or 1),
            smtp_host=env.get("APPROUTE_SMTP_HOST") or None,
            smtp_port=int(env.get("APPROUTE_SMTP_PORT") or 25),
            smtp_user=env.get("APPROUTE_SMTP_USER") or None,
            smtp_password=env.get("APPROUTE_SMTP_PASSWORD") or None,
            smtp_starttls=(env.get("APPROUTE_SMTP_STARTTLS") or "0").strip().lower() not in _OFF,
            mail_from=env.get("APPROUTE_MAIL_FROM") or "approute <approute@localhost>",
            base_url=(env.get("APPROUTE_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            webhook_secret=env.get("APPROUTE_WEBHOOK_SECRET") or None,
            webhook_allow_hosts=tuple(
                host.strip().lower()
                for host in (env.get("APPROUTE_WEBHOOK_ALLOW_HOSTS") or "").split(",")
                if host.strip()
            ),
        )


JOBS_MODES = ("rq", "thread", "manual")


def _jobs_mode(env) -> str:
    mode = (env.get("APPROUTE_JOBS") or "").strip().lower()
    if not mode:
        return "rq" if env.get("APPROUTE_REDIS_URL") else "thread"
    if mode not in JOBS_MODES:
        raise ConfigurationError(f"APPROUTE_JOBS must be one of {', '.join(JOBS_MODES)}, not '{mode}'")
    return mode


def default_sqlite_url() -> str:
    """The embedded database: a SQLite file under ``var/`` of the working directory."""
    DEFAULT_VAR_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(DEFAULT_VAR_DIR / 'approute.sqlite3').resolve()}"


class ConfigurationError(RuntimeError):
    """The environment does not describe a runnable service; the message says what to set."""


def web_secret_key(settings: Settings) -> str:
    """The key that signs session cookies.

    Production mode must be given APPROUTE_SECRET_KEY, the same in every web process, because a
    known or per-process key would let cookies be forged or break sign-in across processes. The
    embedded mode makes a random key once and keeps it in ``var/secret_key``, so ``make run``
    works on a bare machine and sessions survive a restart.
    """
    if settings.secret_key:
        return settings.secret_key
    if not settings.is_embedded:
        raise ConfigurationError(
            "APPROUTE_SECRET_KEY must be set when APPROUTE_REDIS_URL is (production mode)"
        )
    return _kept_secret(DEFAULT_VAR_DIR / "secret_key")


def _kept_secret(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two processes starting at once, one writes and the other reads its key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.01)
        raise ConfigurationError(f"{path} is empty; delete it to make a new key") from None
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
