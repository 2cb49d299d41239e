"""The processes under test: Redis, PostgreSQL, gunicorn (openfloor and bare), RQ workers."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from domain.migrate import upgrade
from domain.models import ApiToken, Meeting, MeetingKind, MeetingStatus
from domain.runtime import Runtime
from domain.settings import load_settings
from tests.support.processes import child_pids
from tests.support.servers import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
WEB_WORKERS, WEB_THREADS = 2, 8


@dataclass
class Target:
    """One database's stack: settings shared by every process, and the live processes."""

    label: str
    database_url: str
    workdir: Path
    redis: RedisServer
    settings: dict[str, str] = field(default_factory=dict)
    meeting_id: int = 0
    slug: str = "load-test"
    token: str = ""

    def env(self) -> dict[str, str]:
        """Environment for an openfloor child process."""
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
        return {**keep, **self.settings, "PYTHONPATH": str(ROOT)}

    def runtime(self) -> Runtime:
        """A runtime in this process, for setup and counting."""
        cfg = {k.lower(): v for k, v in self.settings.items()}
        return Runtime(settings=load_settings({}, cfg), redis_url=self.redis.url)


def prepare(label: str, database_url: str, workdir: Path, redis: RedisServer) -> Target:
    """Migrate, create an open meeting and an API token."""
    target = Target(label, database_url, workdir, redis)
    target.settings = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis.url,
        "INSTANCE_PATH": str(workdir / "instance"),
        "SECRET_KEY": "load-bench",
        "QUEUE_PREFIX": f"load{uuid.uuid4().hex[:6]}",
        # measure the pipe, not refusals: the limiters still make their Redis round trips
        "FORM_RATE_LIMIT": "1000000 per minute",
        "API_RATE_LIMIT": "1000000 per minute",
        "MIN_FILL_SECONDS": "1.0",
        "LOG_LEVEL": "WARNING",
    }
    upgrade(database_url)
    rt = target.runtime()
    try:
        with rt.db.transaction() as session:
            meeting = Meeting(
                slug=target.slug, title="Rural crime – Facebook Live", theme="Rural crime",
                kind=MeetingKind.FACEBOOK_LIVE, status=MeetingStatus.OPEN, venue="Hindlip",
                scheduled_start=datetime.now(UTC) + timedelta(days=7),
            )  # fmt: skip
            row, token = ApiToken.issue("load bench")
            session.add_all([meeting, row])
            session.flush()
            target.meeting_id, target.token = meeting.id, token
    finally:
        rt.close()
    return target


@contextlib.contextmanager
def gunicorn(target: Target, app: str, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``openfloor web`` (app="openfloor") or the bare app, on a free port; yields (url, proc)."""
    port = free_port()
    if app == "openfloor":
        args = [sys.executable, "-m", "openfloor", "web", "--port", str(port),
                "--workers", str(WEB_WORKERS), "--threads", str(WEB_THREADS)]  # fmt: skip
    else:
        args = [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-k", "gthread",
                "-w", str(WEB_WORKERS), "--threads", str(WEB_THREADS), "--reuse-port",
                "-c", "python:bench.load.bare_gunicorn", "bench.load.bare:app"]  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen(args, env=target.env(), cwd=ROOT, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url + ("/healthz" if app == "openfloor" else "/"), proc)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _wait_http(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, timeout=2)
            return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def workers(target: Target, count: int, log: Path) -> list[subprocess.Popen[bytes]]:
    """Start ``count`` `openfloor worker` processes."""
    procs = []
    with log.open("ab") as out:
        for _ in range(count):
            command = [sys.executable, "-m", "openfloor", "worker"]
            procs.append(
                subprocess.Popen(command, env=target.env(), cwd=ROOT, stdout=out, stderr=out)
            )
    return procs


def peak_rss_mib(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children, in MiB."""
    total = 0
    for p in [pid, *children(pid)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by a process and its children (live ones)."""
    total = 0
    for p in [pid, *children(pid)]:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


children = child_pids  # the live child processes of a pid (gunicorn's workers)
