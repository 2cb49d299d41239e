"""`openfloor web`: a port in use is refused (workers use SO_REUSEPORT); workers keep a core."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from openfloor.server import ensure_port_free
from tests.support.processes import child_pids, openfloor_env, stop, wait_for
from tests.support.servers import RedisServer, free_port


def _listener(*, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


@pytest.mark.parametrize("reuse_port", [True, False])
def test_a_port_in_use_is_refused_with_a_clear_message(reuse_port: bool) -> None:
    with _listener(reuse_port=reuse_port) as other:
        port = other.getsockname()[1]
        with pytest.raises(SystemExit, match=f"127.0.0.1:{port} is already in use"):
            ensure_port_free("127.0.0.1", port)


def test_a_free_port_is_accepted_even_after_a_server_left_it() -> None:
    with _listener(reuse_port=True) as gone:
        port = gone.getsockname()[1]
    ensure_port_free("127.0.0.1", port)


#: The cores the servers of these tests may use: two, where the machine has two.
CORES = sorted(os.sched_getaffinity(0))[:2]


def _web(
    tmp_path: Path, redis_server: RedisServer, workers: int, **extra: str
) -> subprocess.Popen[bytes]:
    """`openfloor web` with ``workers`` workers, allowed on two cores (as on a 2-core machine)."""
    settings: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'web.sqlite3'}",
        "redis_url": redis_server.url,
        "instance_path": str(tmp_path / "instance"),
        "secret_key": "test-secret",
        **extra,
    }
    args = ["web", "--port", str(free_port()), "--workers", str(workers), "--threads", "2"]
    with (tmp_path / "web.log").open("ab") as log:
        return subprocess.Popen(
            ["taskset", "-c", ",".join(map(str, CORES)), sys.executable, "-m", "openfloor", *args],
            env=openfloor_env(settings), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _answers(args: Any) -> bool:
    port = args[args.index("--port") + 1]
    try:
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    except httpx.HTTPError:
        return False
    return True


def _cores(master: int) -> dict[int, set[int]] | None:
    """Each worker's allowed cores, once every worker exists and keeps to one core."""
    try:
        cores = {pid: os.sched_getaffinity(pid) for pid in child_pids(master)}
    except OSError:  # a worker that just died
        return None
    pinned = len(cores) == len(CORES) and all(len(c) == 1 for c in cores.values())
    return cores if pinned else None


def test_each_web_worker_keeps_to_a_core_and_a_new_worker_takes_a_free_one(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    web = _web(tmp_path, redis_server, workers=len(CORES))  # as many workers as cores
    try:
        first = wait_for(lambda: _cores(web.pid), timeout=60, interval=0.1)
        assert set().union(*first.values()) == set(CORES)
        victim = next(iter(first))
        os.kill(victim, signal.SIGKILL)  # gunicorn starts another worker in its place

        def replaced() -> dict[int, set[int]] | None:
            cores = _cores(web.pid)
            return cores if cores and victim not in cores else None

        again = wait_for(replaced, timeout=60, interval=0.1)
        assert set().union(*again.values()) == set(CORES)
    finally:
        stop(web)


def _settled(web: subprocess.Popen[bytes], workers: int) -> list[int]:
    """The workers, once they serve and are long past the moment a pinned one takes its core."""
    wait_for(lambda: len(child_pids(web.pid)) == workers and _answers(web.args), timeout=60)
    time.sleep(1)  # a worker takes its core just after the fork, before it loads the app
    return child_pids(web.pid)


@pytest.mark.parametrize(
    ("workers", "pin"), [(len(CORES), "0"), (1, "1")], ids=["switched-off", "fewer-than-cores"]
)
def test_web_workers_are_left_free_to_move(
    tmp_path: Path, redis_server: RedisServer, workers: int, pin: str
) -> None:
    # switched off, or fewer workers than cores (beside another server, say): not pinned
    web = _web(tmp_path, redis_server, workers=workers, web_pin_workers=pin)
    try:
        for pid in _settled(web, workers):
            assert os.sched_getaffinity(pid) == set(CORES)  # the master's, from taskset
    finally:
        stop(web)
