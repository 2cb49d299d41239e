"""A running openfloor (web, workers, scheduler) for fault tests, with ways to break it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from domain.models import ApiToken
from domain.runtime import Runtime
from tests.support.processes import child_pids, start_openfloor, stop, wait_for
from tests.support.servers import free_port


def fault_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Faster safety nets than production (seconds, not minutes) and no refusals by rate."""
    return {**settings, "api_rate_limit": "100000 per minute", "relay_recheck_seconds": 10.0}


def api_token(rt: Runtime) -> str:
    """A fresh partner token."""
    row, token = ApiToken.issue("Fault partner")
    with rt.db.transaction() as session:
        session.add(row)
    return token


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Deployment:
    """`openfloor web`, N workers and the scheduler, each restartable."""

    settings: Mapping[str, Any]
    logs: Path
    port: int = field(default_factory=free_port)
    web: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    scheduler: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_web(self) -> None:
        args = ["web", "--port", str(self.port), "--workers", "1", "--threads", "4"]
        self.web = start_openfloor(args, self.settings, self.logs / "web.log")
        wait_for(lambda: _answers(self.url), timeout=60, interval=0.1)

    def kill_web(self) -> None:
        """``kill -9`` the web server: gunicorn's master and its workers (a crashed container)."""
        assert self.web is not None
        pids = [self.web.pid, *child_pids(self.web.pid)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.web.wait()

    def start_worker(self) -> subprocess.Popen[bytes]:
        proc = start_openfloor(["worker"], self.settings, self.logs / "workers.log")
        self.workers.append(proc)
        return proc

    def kill_worker(self, index: int) -> None:
        """``kill -9`` one worker and start a replacement (as `openfloor run` or compose do)."""
        proc = self.workers.pop(index)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.start_worker()

    def problems(self, lines: int = 40) -> str:
        """The last warnings and errors the processes logged (for a failing test's message)."""
        found: list[str] = []
        for log in sorted(self.logs.glob("*.log")):
            for line in log.read_text(errors="replace").splitlines():
                if "ERROR" in line or "WARNING" in line or "Error" in line:
                    found.append(f"{log.name}: {line}")
        return "\n".join(found[-lines:])

    def start_scheduler(self) -> None:
        self.scheduler = start_openfloor(["scheduler"], self.settings, self.logs / "sched.log")

    def stop_all(self) -> None:
        for proc in [self.web, self.scheduler, *self.workers]:
            if proc is not None:
                stop(proc)
        self.workers.clear()


@contextmanager
def deployment(settings: Mapping[str, Any], logs: Path, workers: int = 2) -> Iterator[Deployment]:
    """Everything running, stopped at the end."""
    d = Deployment(settings, logs)
    try:
        d.start_web()
        for _ in range(workers):
            d.start_worker()
        d.start_scheduler()
        yield d
    finally:
        d.stop_all()
