"""Real openfloor processes for tests: RQ workers, the scheduler, and a live web server."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tests.support.servers import free_port


def openfloor_env(settings: Mapping[str, Any]) -> dict[str, str]:
    """Environment for a child openfloor process with the same settings as the test app."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    for key, value in settings.items():
        env[key.upper()] = str(value)
    return env


def start_openfloor(
    args: list[str], settings: Mapping[str, Any], log: Path
) -> subprocess.Popen[bytes]:
    """Start `python -m openfloor ARGS` with output to ``log``."""
    with log.open("ab") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "openfloor", *args],
            env=openfloor_env(settings),
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def child_pids(pid: int) -> list[int]:
    """The live child processes of ``pid`` (gunicorn's workers, for its master)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a child process and wait for it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class LiveServer:
    """The app served by werkzeug in a thread on a free port."""

    def __init__(self, app: Flask) -> None:
        self.port = free_port()
        self.server: BaseWSGIServer = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")
