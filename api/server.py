"""Serve the app with gunicorn, sized for the running mode."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from api import create_app
from engine.config import Settings, web_secret_key


class _Server(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_app()


def serve(*, host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Run the web server until interrupted.

    SQLite (the embedded mode) gets one process, since it serialises writers anyway;
    PostgreSQL gets several processes.
    """
    settings = Settings.from_env()
    web_secret_key(settings)  # fail before forking when production mode has no key
    sqlite = settings.database_url.startswith("sqlite")
    options = {
        "bind": f"{host}:{port}",
        "workers": workers or (1 if sqlite else 4),
        "threads": threads or (4 if sqlite else 2),
        # gthread keeps client connections alive; the default sync worker closes each one.
        "worker_class": "gthread",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "keepalive": 30,
        "timeout": 60,
    }
    print(f"approute serving on http://{host}:{port}/api/v1 ({options['workers']} process(es))", flush=True)
    _Server(options).run()
