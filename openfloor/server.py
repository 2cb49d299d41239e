"""Gunicorn, embedded: `openfloor web` serves the app factory with gthread workers."""

from __future__ import annotations

import os
import socket
import sys
from collections import Counter
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


def choose_cpu(server: Any, worker: Any) -> None:
    """gunicorn's ``pre_fork`` (in the master): the core a new worker will run on.

    The core with the fewest live workers, so a worker started again after a crash takes the
    core its predecessor left. Only when the workers are at least as many as the cores: a
    server with fewer (beside another server, or in a test) leaves its workers free to move,
    or two servers would crowd onto the first cores and leave the others idle.
    """
    allowed = sorted(os.sched_getaffinity(0))
    if server.num_workers < len(allowed):
        return
    taken = Counter(getattr(w, "openfloor_cpu", None) for w in server.WORKERS.values())
    worker.openfloor_cpu = min(allowed, key=lambda cpu: (taken[cpu], cpu))


def pin_worker(server: Any, worker: Any) -> None:
    """gunicorn's ``post_fork`` (in the new worker, before its threads): keep it on its core.

    A worker's Python runs one thread at a time (the GIL), so it never needs a second core;
    free to move, a thread woken on another core than the GIL's holder keeps waking up only
    to wait again (measured under load: the API's CPU per request fell by a tenth on SQLite
    and a quarter on PostgreSQL, docs/benchmarks.md). Threads started later inherit the core.
    """
    cpu = getattr(worker, "openfloor_cpu", None)
    if cpu is None:
        return
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError as exc:  # a sandbox that forbids it: the worker runs unpinned, as before
        server.log.warning("worker %s left free to move between cores: %s", worker.pid, exc)


def pinning_hooks() -> dict[str, Any]:
    """gunicorn settings that pin each worker to a core of its own (where the OS allows)."""
    if not hasattr(os, "sched_setaffinity"):
        return {}
    return {"pre_fork": choose_cpu, "post_fork": pin_worker}


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


def serve(host: str, port: int, workers: int, threads: int, pin: bool = True) -> None:
    """Run gunicorn in the foreground; ``pin``: each worker on a core of its own."""
    ensure_port_free(host, port)
    _Server(
        {
            **(pinning_hooks() if pin else {}),
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
