"""Comment → chair's screen: the delay, measured in Chromium, from a live comment being posted
to it showing in the chair's live column, at a steady rate (20 comments a second by default).

Everything is real and local: an embedded Redis, SQLite, the web app over HTTP, an
`openfloor worker` process and Debian's Chromium through Playwright. Comments enter through the
intake path the collectors use (outbox → queue). Prints a markdown table for
docs/benchmarks.md.

    python -m bench.chair_delay --comments 300 --rate 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.serving import make_server

from bench.broadcast import WATCH, comments, p95
from domain.migrate import upgrade
from domain.models import Meeting, MeetingKind, MeetingStatus, Question, Role, StaffUser
from domain.runtime import Runtime, install
from domain.settings import load_settings
from intake.submit import submit
from openfloor.app import create_app, resolve_redis_url
from triage.onair.read import shown

CHROMIUM = os.environ.get("OPENFLOOR_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "bench password for the chair"


def _setup(workdir: Path) -> tuple[Any, Runtime, Meeting]:
    overrides = {"instance_path": str(workdir), "queue_prefix": f"cd{time.time_ns()}"}
    settings = load_settings({}, overrides)
    upgrade(settings.resolved_database_url())
    redis_url = resolve_redis_url(settings)
    app = create_app({**overrides, "redis_url": redis_url}, environ={})
    rt = install(app.extensions["openfloor"])
    with rt.db.transaction() as session:
        chair = StaffUser(email="bench-chair@example.org", display_name="Chair", role=Role.CHAIR)
        chair.set_password(PASSWORD)
        meeting = Meeting(slug="bench-live", title="Benchmark live meeting",
                          kind=MeetingKind.FACEBOOK_LIVE, status=MeetingStatus.LIVE,
                          scheduled_start=datetime.now(UTC))  # fmt: skip
        session.add_all([chair, meeting])
    return app, rt, meeting


def _questions(rt: Runtime, meeting_id: int) -> list[Question]:
    with rt.db.transaction() as session:
        return list(
            session.scalars(
                select(Question)
                .options(joinedload(Question.submission))
                .where(Question.meeting_id == meeting_id)
            ).unique()
        )


def _wait(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark did not finish in time")
        time.sleep(0.05)


def measure(n: int, rate: float) -> dict[str, Any]:
    """Play ``n`` comments at ``rate`` a second; delays in ms for every one that is shown."""
    with tempfile.TemporaryDirectory() as tmp:
        app, rt, meeting = _setup(Path(tmp))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        env = {**os.environ, "INSTANCE_PATH": tmp, "REDIS_URL": rt.redis_url,
               "DATABASE_URL": rt.settings.resolved_database_url(), "QUEUE_PREFIX": rt.prefix,
               "LOG_LEVEL": "WARNING"}  # fmt: skip
        worker = subprocess.Popen([sys.executable, "-m", "openfloor", "worker"], env=env)
        try:
            submit(rt, meeting, channel="facebook", text="Warm-up: is the stream on?",
                   external_id="warm-up")  # fmt: skip
            _wait(lambda: _questions(rt, meeting.id), 300)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(base + "/triage/login")
                page.get_by_label("Email address", exact=True).fill("bench-chair@example.org")
                page.get_by_label("Password", exact=True).fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url("**/triage/**")
                page.goto(f"{base}/triage/meetings/{meeting.id}/chair")
                page.evaluate(WATCH)
                posted: dict[str, float] = {}
                broadcast = comments(n, seed=13, tag="bench")
                start = time.monotonic()
                for i, c in enumerate(broadcast):
                    time.sleep(max(0.0, start + i / rate - time.monotonic()))
                    posted[c.external_id] = time.time() * 1000
                    submit(rt, meeting, channel=c.channel, text=c.text,
                           external_id=c.external_id, author_name=c.author_name)  # fmt: skip
                _wait(lambda: len(_questions(rt, meeting.id)) == n + 1, 300)
                wanted = {str(q.id): q for q in _questions(rt, meeting.id)
                          if q.submission.external_id in posted and shown(q)}  # fmt: skip

                def seen() -> dict[str, float]:
                    return dict(page.evaluate("() => window.__seen || {}"))

                _wait(lambda: set(wanted) <= set(seen()), 60)
                at = seen()
                browser.close()
        finally:
            worker.terminate()
            worker.wait(timeout=60)
            server.shutdown()
            rt.close()
    delays = sorted(at[qid] - posted[q.submission.external_id] for qid, q in wanted.items())
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
        f"{r['comments']} live comments posted at {r['rate']:g} a second; {r['shown']} of them "
        "are questions that pass moderation and must reach the chair's screen (the rest are "
        "chatter or held for moderation). Delay from posting to showing in the chair's live "
        "column, measured in Chromium with a MutationObserver:",
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
