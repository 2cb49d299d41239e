"""Before/after on one database: the bare endpoint, then the API served from another checkout.

``python -m bench.load.compare --root /path/to/other/checkout --database sqlite`` starts the
same stack as ``python -m bench.load`` (private Redis, gunicorn 2 x 8) but serves
``openfloor web`` from ``--root`` (default: this checkout), so two versions of the code can be
measured back to back under the same machine load. Prints one line per run: requests/s,
p50 and p99 ms, errors, and the server's CPU per request.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench.load import drivers, stack
from bench.load.__main__ import private_postgres
from tests.support.servers import RedisServer, create_database


def _line(what: str, r: drivers.Result, cpu_ms: float | None = None) -> str:
    cpu = f", server CPU {cpu_ms:.2f} ms/request" if cpu_ms is not None else ""
    return (
        f"{what}: {r.per_second:,.0f}/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms, "
        f"{r.errors} errors{cpu}{'; ' + r.note if r.note else ''}"
    )


def run(target: stack.Target, seconds: int, rate: int) -> None:
    """Bare, API at full speed, API at a fixed rate; one printed line each."""
    path = f"/api/v1/meetings/{target.meeting_id}/submissions"
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    with stack.gunicorn(target, "bare", target.workdir / "bare.log") as (url, proc):
        drivers.full_speed(url, "/bare", "", 1)
        before = stack.cpu_seconds(proc.pid)
        bare = drivers.full_speed(url, "/bare", "", seconds)
        cpu = (stack.cpu_seconds(proc.pid) - before) / max(bare.requests, 1) * 1000
    print(_line("bare", bare, cpu), flush=True)
    with stack.gunicorn(target, "openfloor", target.workdir / "web.log") as (url, proc):
        drivers.full_speed(url, path, target.token, 1)
        before = stack.cpu_seconds(proc.pid)
        api = drivers.full_speed(url, path, target.token, seconds)
        cpu = (stack.cpu_seconds(proc.pid) - before) / max(api.requests, 1) * 1000
        share = api.per_second / bare.per_second if bare.per_second else 0
        print(_line(f"API ({share:.1%} of bare)", api, cpu), flush=True)
        fixed = drivers.fixed_rate(url, path, target.token, rate, seconds)
        print(_line(f"API at a fixed {rate}/s", fixed), flush=True)
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)


def main() -> None:
    """Parse arguments and run one database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", default=str(stack.ROOT), help="checkout serving the API")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--rate", type=int, default=200)
    args = parser.parse_args()
    stack.ROOT = Path(args.root).resolve()  # the gunicorn children run from there
    work = Path(tempfile.mkdtemp(prefix="openfloor-compare-"))
    redis = RedisServer(work)
    redis.start()
    try:
        if args.database == "sqlite":
            url = f"sqlite:///{work / 'openfloor.sqlite3'}"
            run(stack.prepare("sqlite", url, work, redis), args.seconds, args.rate)
        else:
            with private_postgres(work) as admin:
                url, _name = create_database(admin)
                run(stack.prepare("postgresql", url, work, redis), args.seconds, args.rate)
    finally:
        redis.stop()


if __name__ == "__main__":
    main()
