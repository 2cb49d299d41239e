"""Comment → chair's screen: the delay, measured in Chromium, from a Facebook Live comment
appearing on the fake Graph API server to it showing in the chair's live column, at a steady
rate (20 comments a second by default).

Everything is real and local: an embedded Redis, SQLite, the web app over HTTP, the fake
platforms of `openfloor rehearse` with the real collectors reading them, an `openfloor worker`
process and Debian's Chromium through Playwright. Prints a markdown table for
docs/benchmarks.md.

    python -m bench.chair_delay --comments 300 --rate 20
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.serving import make_server

from bench.broadcast import WATCH, comments, p95
from domain.migrate import upgrade
from domain.models import Question, Role, StaffUser
from domain.runtime import Runtime, install
from domain.settings import load_settings
from openfloor.app import create_app, resolve_redis_url
from openfloor.embedded import stop_embedded_redis
from openfloor.rehearsal.run import VIDEO, Collectors, prepare_meeting, start_worker
from openfloor.rehearsal.servers import FakePlatforms
from triage.onair.read import shown

CHROMIUM = os.environ.get("OPENFLOOR_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "bench password for the chair"


def _setup(workdir: Path) -> tuple[Any, Runtime, int]:
    overrides = {"instance_path": str(workdir), "queue_prefix": f"cd{time.time_ns()}"}
    settings = load_settings({}, overrides)
    upgrade(settings.resolved_database_url())
    redis_url = resolve_redis_url(settings)
    app = create_app({**overrides, "redis_url": redis_url}, environ={})
    rt = install(app.extensions["openfloor"])
    with rt.db.transaction() as session:
        chair = StaffUser(email="bench-chair@example.org", display_name="Chair", role=Role.CHAIR)
        chair.set_password(PASSWORD)
        session.add(chair)
    meeting_id, _, _ = prepare_meeting(rt, None)  # a new live meeting, collectors on the fakes
    return app, rt, meeting_id


def _stored(rt: Runtime, meeting_id: int) -> dict[str, Question]:
    """The meeting's questions by their platform id."""
    with rt.db.transaction() as session:
        rows = session.scalars(
            select(Question)
            .options(joinedload(Question.submission))
            .where(Question.meeting_id == meeting_id)
        ).unique()
        return {q.submission.external_id: q for q in rows}


def _wait(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark did not finish in time")
        time.sleep(0.05)


def measure(n: int, rate: float) -> dict[str, Any]:
    """Play ``n`` comments at ``rate`` a second; delays in ms for every one that is shown."""
    with tempfile.TemporaryDirectory() as tmp, FakePlatforms() as fakes:
        # a live stream still open when the server stops is cut mid-read: not worth a traceback
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
        app, rt, meeting_id = _setup(Path(tmp))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        worker = start_worker(rt, Path(tmp) / "worker.log")
        settings = dataclasses.replace(rt.settings, **fakes.settings(), collector_window=3600.0)
        crt = Runtime(settings=settings, redis_url=rt.redis_url)
        collectors = Collectors(crt, meeting_id)
        collectors.start()
        try:
            warm = fakes.platform.post("Warm-up: is the stream on?", object_id=VIDEO)
            _wait(lambda: warm.id in _stored(rt, meeting_id), 300)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(base + "/triage/login")
                page.get_by_label("Email address", exact=True).fill("bench-chair@example.org")
                page.get_by_label("Password", exact=True).fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url("**/triage/**")
                page.goto(f"{base}/triage/meetings/{meeting_id}/chair")
                page.evaluate(WATCH)
                appeared: dict[str, float] = {}
                start = time.monotonic()
                for i, c in enumerate(comments(n, seed=13, tag="bench")):
                    time.sleep(max(0.0, start + i / rate - time.monotonic()))
                    item = fakes.platform.post(c.text, object_id=VIDEO, author_name=c.author_name)
                    appeared[item.id] = item.appeared * 1000
                _wait(lambda: set(appeared) <= set(_stored(rt, meeting_id)), 300)
                wanted = {str(q.id): q for ext, q in _stored(rt, meeting_id).items()
                          if ext in appeared and shown(q)}  # fmt: skip

                def seen() -> dict[str, float]:
                    return dict(page.evaluate("() => window.__seen || {}"))

                _wait(lambda: set(wanted) <= set(seen()), 60)
                at = seen()
                browser.close()
        finally:
            collectors.halt()
            crt.close()
            worker.terminate()
            worker.wait(timeout=60)
            server.shutdown()
            rt.close()
            stop_embedded_redis(tmp)
    delays = sorted(at[qid] - appeared[q.submission.external_id] for qid, q in wanted.items())
    return {
        "comments": n,
        "rate": rate,
        "shown": len(delays),
        "median": statistics.median(delays),
        "p95": p95(delays),
        "max": delays[-1],
    }


def markdown(r: dict[str, Any]) -> str:
    """The benchmark's section of docs/benchmarks.md."""
    return "\n".join([
        f"{r['comments']} Facebook Live comments posted on the fake Graph API at {r['rate']:g} a "
        f"second and collected by the real collectors; {r['shown']} of them "
        "are questions that pass moderation and must reach the chair's screen (the rest are "
        "chatter or held for moderation). Delay from posting to showing in the chair's live "
        "column (from the moment it appears on the fake), measured in Chromium:",
        "",
        "| comments/s | median | p95 | max | target |",
        "|---|---|---|---|---|",
        f"| {r['rate']:g} | {r['median']:.0f} ms | {r['p95']:.0f} ms | {r['max']:.0f} ms "
        "| median < 1 s, p95 < 2 s |",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args(argv)
    result = measure(args.comments, args.rate)
    print(markdown(result))
    return result


if __name__ == "__main__":
    main()
