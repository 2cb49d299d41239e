"""Load generators: wrk for full speed, raw asyncio for a fixed rate, httpx for the real form."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.support.forms import forms

LUA = Path(__file__).with_name("api.lua")
TEXT = "Why are sheep being stolen from farms near Clun, and what is being done?"


@dataclass
class Result:
    """Throughput and latency of one run."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    note: str = ""

    @property
    def per_second(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def have_wrk() -> bool:
    """wrk (Debian package `wrk`) is installed."""
    return shutil.which("wrk") is not None


def wrk(url: str, path: str, token: str, seconds: int, connections: int = 16) -> Result:
    """POST unique questions at full speed with wrk; latency percentiles from wrk itself."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(LUA),
           url, "--", path, token, uuid.uuid4().hex[:8]]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    data = json.loads(line[5:])
    return Result(data["requests"], data["seconds"], data["p50_ms"], data["p99_ms"],
                  data["non2xx"] + data["socket_errors"])  # fmt: skip


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


#: gunicorn closes a keep-alive connection idle for 2 s: never reuse one idle this long.
IDLE_SECONDS = 1.0


class _Connections:
    """Keep-alive HTTP/1.1 connections, opened on demand and reused (plain asyncio streams).

    httpx costs about a millisecond of CPU per request, too much to hold 200/s on the two
    cores that the server uses too; this costs a small fraction of that.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.opened = 0

    async def post(self, path: str, body: bytes, token: str) -> int:
        """POST ``body`` as JSON; returns the status code."""
        reader = writer = None
        while self.idle and writer is None:
            reader, writer, used = self.idle.pop()
            if time.monotonic() - used > IDLE_SECONDS:  # gunicorn may have closed it
                writer.close()
                reader = writer = None
        if reader is None or writer is None:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self.opened += 1
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        header = await reader.readuntil(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
        await reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection") == "close":
            writer.close()
        else:
            self.idle.append((reader, writer, time.monotonic()))
        return status

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()


#: A bystander process that only sleeps: how late it wakes shows stalls of the machine itself.
_BYSTANDER = """
import sys, time
end, worst, over = time.monotonic() + float(sys.argv[1]), 0.0, 0
while time.monotonic() < end:
    t = time.monotonic(); time.sleep(0.001); late = time.monotonic() - t - 0.001
    worst, over = max(worst, late), over + (late > 0.02)
print(f"{worst * 1000:.0f} {over}")
"""


def _steal_seconds() -> float:
    """CPU time the hypervisor gave to other guests (``steal`` in /proc/stat), all CPUs."""
    with contextlib.suppress(OSError, IndexError, ValueError), open("/proc/stat") as fh:
        return int(fh.readline().split()[8]) / 100  # USER_HZ is 100 on Linux
    return float("nan")


@contextlib.contextmanager
def _machine_stalls(seconds: float) -> Iterator[list[str]]:
    """While the body runs: the stolen CPU and the worst oversleep of a bystander process."""
    steal = _steal_seconds()
    probe = subprocess.Popen([sys.executable, "-c", _BYSTANDER, str(seconds)],
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    found: list[str] = []
    try:
        yield found
    finally:
        worst, over = [*probe.communicate(timeout=seconds + 30)[0].split(), "?", "?"][:2]
        found.append(
            f"meanwhile a bystander process sleeping 1 ms at a time woke up to {worst} ms late "
            f"({over} times over 20 ms) and the hypervisor took "
            f"{(_steal_seconds() - steal) * 1000:.0f} ms of CPU (steal)"
        )


async def _fixed_rate(url: str, path: str, token: str, rate: float, seconds: float) -> Result:
    run = uuid.uuid4().hex[:8]
    latencies: list[float] = []
    answered: list[float] = []  # from the actual send: the server's part alone
    errors = 0
    late = 0.0
    pool = _Connections(url)

    async def one(n: int, planned: float) -> None:
        nonlocal errors, late
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.perf_counter()
        late = max(late, sent - planned)
        body = json.dumps({"text": f"{TEXT} ({n})", "external_id": f"{run}-{n}",
                           "location": "Clun"}).encode()  # fmt: skip
        try:
            ok = await asyncio.wait_for(pool.post(path, body, token), 30) == 201
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            ok = False
        # from the planned send time: a stalled server cannot hide its queue
        latencies.append((time.perf_counter() - planned) * 1000)
        answered.append((time.perf_counter() - sent) * 1000)
        errors += not ok

    total = int(rate * seconds)
    cpu = time.process_time()
    with _gc_pauses() as pauses, _machine_stalls(seconds) as stalls:
        # planned times start after the collection above: the first sends of earlier runs
        # were ~100 ms late, a pause of the generator's own counted as the server's p99
        start = time.perf_counter()
        await asyncio.gather(*(one(n, start + n / rate) for n in range(total)))
    elapsed = time.perf_counter() - start
    pool.close()
    result = Result(len(latencies), elapsed, _percentile(latencies, 0.5),
                    _percentile(latencies, 0.99), errors)  # fmt: skip
    result.note = (
        f"generator: {(time.process_time() - cpu) / max(total, 1) * 1000:.2f} CPU ms/request, "
        f"latest send {late * 1000:.0f} ms after its time, {pool.opened} connections, "
        f"its longest garbage collection {max(pauses, default=0) * 1000:.0f} ms; "
        f"p99 from the actual send {_percentile(answered, 0.99):.1f} ms; {stalls[0]}"
    )
    return result


@contextlib.contextmanager
def _gc_pauses() -> Iterator[list[float]]:
    """The generator's own garbage-collection pauses meanwhile (seconds each).

    The generator's objects from before are frozen first (``gc.freeze``): a full collection
    walking the heap of the runs before would stall every send and every answer being read,
    and the stall would be counted as the server's latency.
    """
    gc.collect()
    gc.freeze()
    pauses: list[float] = []
    began = [0.0]

    def timed(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            pauses.append(time.perf_counter() - began[0])

    gc.callbacks.append(timed)
    try:
        yield pauses
    finally:
        gc.callbacks.remove(timed)
        gc.unfreeze()


def fixed_rate(url: str, path: str, token: str, rate: float, seconds: float) -> Result:
    """POST unique questions at ``rate`` per second (open loop) for ``seconds``.

    Each request is sent at its planned time on an idle keep-alive connection, or a new one
    if none is idle, so a slow answer never delays the next send (no coordinated omission).
    """
    return asyncio.run(_fixed_rate(url, path, token, rate, seconds))


async def _form_users(url: str, slug: str, users: int, seconds: float, wait: float) -> Result:
    posts: list[float] = []
    done = 0
    errors = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()

    async def user(n: int) -> None:
        nonlocal done, errors
        async with httpx.AsyncClient(base_url=url, timeout=30, follow_redirects=True) as c:
            k = 0
            while time.perf_counter() < deadline:
                k += 1
                page = await c.get(f"/meetings/{slug}/ask")
                fields = next(f for f in forms(page.text) if f["fields"])["fields"]
                await asyncio.sleep(wait)  # a person typing: the bot time trap is satisfied
                data = {**fields, "question": f"{TEXT} (form {n}-{k})", "town": "Clun"}
                data.pop("submit", None)
                t0 = time.perf_counter()
                checked = await c.post(f"/meetings/{slug}/ask", data=data)
                posts.append((time.perf_counter() - t0) * 1000)
                confirm = [f for f in forms(checked.text) if f["action"].endswith("/send")]
                if not confirm:
                    errors += 1
                    continue
                t0 = time.perf_counter()
                sent = await c.post(confirm[0]["action"], data=confirm[0]["fields"])
                posts.append((time.perf_counter() - t0) * 1000)
                if sent.status_code == 200 and "/confirmation" in str(sent.url):
                    done += 1
                else:
                    errors += 1

    await asyncio.gather(*(user(n) for n in range(users)))
    elapsed = time.perf_counter() - started
    return Result(done, elapsed, _percentile(posts, 0.5), _percentile(posts, 0.99), errors)


def form_users(url: str, slug: str, users: int, seconds: float, wait: float) -> Result:
    """``users`` people sending questions through the public form, each pausing ``wait`` s."""
    return asyncio.run(_form_users(url, slug, users, seconds, wait))


async def _closed_loop(url: str, path: str, token: str, seconds: float, conns: int) -> Result:
    run = uuid.uuid4().hex[:8]
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()

    async def loop(k: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            n = 0
            while time.perf_counter() < deadline:
                n += 1
                body = {"text": f"{TEXT} ({n})", "external_id": f"{run}-{k}-{n}"}
                t0 = time.perf_counter()
                response = await client.post(path, json=body, headers=headers)
                latencies.append((time.perf_counter() - t0) * 1000)
                errors += response.status_code >= 300

    await asyncio.gather(*(loop(k) for k in range(conns)))
    return Result(len(latencies), time.perf_counter() - started, _percentile(latencies, 0.5),
                  _percentile(latencies, 0.99), errors)  # fmt: skip


def full_speed(url: str, path: str, token: str, seconds: int, connections: int = 16) -> Result:
    """wrk when installed, else an asyncio closed loop with the same number of connections."""
    if have_wrk():
        return wrk(url, path, token, seconds, connections)
    return asyncio.run(_closed_loop(url, path, token, seconds, connections))
