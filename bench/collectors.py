"""Social collectors: throughput into the outbox, and delay from a post to its stored question.

1. ``throughput``: a backlog on the fake platforms (3,000 Facebook comments on a video, 1,000
   X posts) collected by one poll each: pages read with the real clients (httpx, tweepy),
   recorded in the outbox with the checkpoint and relayed to Redis.
2. ``delay``: ``openfloor rehearse --no-faults`` at 20 comments per second (600 comments and
   60 X posts in 30 s) through the real collectors and a real worker: from the moment an item
   appears on the fake to its question being stored. For reference, the issue's rehearsal
   scenario with every fault (200 comments, 50 posts, 30 s).

Run: `python -m bench.collectors`. Uses SQLite and the embedded Redis in temp folders.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.migrate import upgrade
from domain.models import CollectorSettings, Meeting, MeetingKind
from domain.runtime import Runtime
from domain.settings import load_settings
from intake.social.jobs import run_collector
from openfloor.embedded import ensure_embedded_redis, stop_embedded_redis
from openfloor.rehearsal.servers import FakePlatforms


def throughput(comments: int = 3000, posts: int = 1000) -> dict[str, float]:
    """Items per second one poll collects from a backlog, per platform."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"INSTANCE_PATH": tmp})
        upgrade(settings.resolved_database_url())
        redis_url = ensure_embedded_redis(tmp)
        try:
            with FakePlatforms() as fakes:
                rt = Runtime(
                    settings=dataclasses.replace(settings, **fakes.settings()), redis_url=redis_url
                )
                with rt.db.transaction() as session:
                    meeting = Meeting(slug="bench", title="Bench", hashtag="#AskThePCC",
                                      kind=MeetingKind.FACEBOOK_LIVE,
                                      scheduled_start=datetime.now(UTC))  # fmt: skip
                    session.add(meeting)
                    session.flush()
                    meeting_id = meeting.id
                    session.add(CollectorSettings(meeting_id=meeting_id, x_account="PCC",
                                                  facebook_live_video_id="42"))  # fmt: skip
                for n in range(comments):
                    fakes.platform.post(f"Comment {n}: what about speeding?", object_id="42")
                for n in range(posts):
                    fakes.platform.post(f"#AskThePCC post {n}", author_name="A", author_handle="a")
                out: dict[str, float] = {}
                for source, count in (("facebook", comments), ("x", posts)):
                    started = time.perf_counter()
                    got = run_collector(rt, meeting_id, source, stop=threading.Event())
                    seconds = time.perf_counter() - started
                    assert got == count, (source, got, count)
                    out[source] = count / seconds
                rt.close()
        finally:
            stop_embedded_redis(tmp)
    return out


def rehearse(args: list[str]) -> dict[str, Any]:
    """Run `openfloor rehearse ARGS` on a fresh embedded default; its JSON summary."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
        env["INSTANCE_PATH"] = str(Path(tmp) / "instance")
        done = subprocess.run(
            [sys.executable, "-m", "openfloor", "rehearse", *args],
            env=env, capture_output=True, text=True, timeout=600, check=True,
        )  # fmt: skip
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def main() -> None:
    """Print the markdown section."""
    rates = throughput()
    steady = rehearse(["--comments", "600", "--posts", "60", "--seconds", "30", "--no-faults"])
    faulty = rehearse(["--comments", "200", "--posts", "50", "--seconds", "30"])
    lines = [
        "| collector | backlog | items/s into the outbox |",
        "|---|---|---|",
        f"| Facebook (Graph API pages of 100) | 3,000 comments | {rates['facebook']:.0f} |",
        f"| X (recent search pages of 100) | 1,000 posts | {rates['x']:.0f} |",
        "",
        "Delay from an item appearing on the fake platform to its question being stored "
        "(real collectors, real `openfloor worker`):",
        "",
        "| scenario | posted | stored | stored twice | delay p50 | delay p95 |",
        "|---|---|---|---|---|---|",
    ]
    scenarios = [
        ("20 comments/s + 2 posts/s, no faults (600 + 60 in 30 s)", steady),
        ("rehearsal: 200 comments + 50 posts in 30 s, every fault", faulty),
    ]
    for name, r in scenarios:
        lines.append(
            f"| {name} | {r['posted']} | {r['stored']} | {r['stored_twice']} | "
            f"{r['delay_ms_p50']} ms | {r['delay_ms_p95']} ms |"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
