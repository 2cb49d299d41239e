"""The live connections of one process: settings, database and Redis.

The web app keeps one in ``app.extensions["openfloor"]``; a worker process installs one
with :func:`install` before it takes jobs. Building a Runtime does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from redis import Redis

from domain.db import Database
from domain.settings import Settings


@dataclass
class Runtime:
    """Settings plus lazily-connected database and Redis clients."""

    settings: Settings
    redis_url: str
    db: Database = field(default_factory=Database)
    _redis: Redis | None = None
    #: Called by :meth:`close` (background threads bound to this runtime stop).
    on_close: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.db.bind(self.settings.resolved_database_url())

    @property
    def redis(self) -> Redis:
        """Shared Redis client (connection pool; connects on first command)."""
        if self._redis is None:
            self._redis = Redis.from_url(
                self.redis_url,
                socket_timeout=10,
                socket_connect_timeout=3,
                health_check_interval=30,
            )
        return self._redis

    @property
    def prefix(self) -> str:
        """Namespace for queues, streams and rate-limit keys."""
        return self.settings.queue_prefix

    def close(self) -> None:
        """Stop what was bound to this runtime and release pooled connections."""
        while self.on_close:
            self.on_close.pop()()
        self.db.dispose()
        if self._redis is not None:
            self._redis.close()
            self._redis = None


_current: Runtime | None = None


def install(runtime: Runtime) -> Runtime:
    """Make ``runtime`` the process-wide one used by jobs."""
    global _current
    _current = runtime
    return runtime


def current() -> Runtime:
    """The process-wide runtime installed by the worker or the app factory."""
    if _current is None:
        raise RuntimeError("no openfloor runtime installed in this process")
    return _current
