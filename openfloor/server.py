"""Gunicorn, embedded: `openfloor web` serves the app factory with gthread workers."""

from __future__ import annotations

import sys
from typing import Any

from gunicorn.app.base import BaseApplication

SWITCH_INTERVAL = 0.001  # seconds


class _Server(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from openfloor.app import create_app

        # A request thread back from Redis or the database waits for the GIL until the thread
        # holding it lets go: at most the switch interval, 5 ms by default, several times a
        # request. 1 ms makes an API request under load about a third faster (docs/benchmarks.md).
        sys.setswitchinterval(SWITCH_INTERVAL)

        return create_app()


def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run gunicorn in the foreground."""
    _Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 120,  # event streams send a heartbeat every 15 s
            "accesslog": None,  # access logs carry query strings; keep them off by default
            "forwarded_allow_ips": "127.0.0.1",
        }
    ).run()
