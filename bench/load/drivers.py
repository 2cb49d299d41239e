"""Load generators: wrk for full speed, asyncio + httpx for a fixed rate and the real form."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

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


async def _fixed_rate(url: str, path: str, token: str, rate: float, seconds: float) -> Result:
    run = uuid.uuid4().hex[:8]
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        start = time.perf_counter()

        async def one(n: int, planned: float) -> None:
            nonlocal errors
            delay = planned - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            body = {"text": f"{TEXT} ({n})", "external_id": f"{run}-{n}", "location": "Clun"}
            try:
                response = await client.post(
                    path, json=body, headers={"Authorization": f"Bearer {token}"}
                )
                ok = response.status_code == 201
            except httpx.HTTPError:
                ok = False
            # from the planned send time: a stalled server cannot hide its queue
            latencies.append((time.perf_counter() - planned) * 1000)
            errors += not ok

        total = int(rate * seconds)
        await asyncio.gather(*(one(n, start + n / rate) for n in range(total)))
        elapsed = time.perf_counter() - start
    return Result(len(latencies), elapsed, _percentile(latencies, 0.5),
                  _percentile(latencies, 0.99), errors)  # fmt: skip


def fixed_rate(url: str, path: str, token: str, rate: float, seconds: float) -> Result:
    """POST unique questions at ``rate`` per second (open loop) for ``seconds``."""
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
