"""Gunicorn, embedded: `openfloor web` serves the app factory with gthread workers."""

from __future__ import annotations

import socket
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


def ensure_port_free(host: str, port: int) -> None:
    """Exit with a clear message if a server already listens on ``host:port``.

    Each worker listens on a socket of its own with ``SO_REUSEPORT``, so that the kernel
    spreads connections evenly over the workers (sharing one socket, whichever worker wakes
    first takes a burst of connections, and one worker can end up with most of them while
    the other idles). The same option would let a second ``openfloor web`` on the port share
    its connections with the first instead of failing: a plain bind finds it first.
    """
    family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        # SO_REUSEADDR: connections of an earlier server in TIME_WAIT do not count, a listener does
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            message = f"openfloor: {host}:{port} is already in use ({exc.strerror})"
            raise SystemExit(message) from None


def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run gunicorn in the foreground."""
    ensure_port_free(host, port)
    _Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 120,  # event streams send a heartbeat every 15 s
            "accesslog": None,  # access logs carry query strings; keep them off by default
            "forwarded_allow_ips": "127.0.0.1",
            "reuse_port": True,  # a listening socket per worker (see ensure_port_free)
        }
    ).run()
