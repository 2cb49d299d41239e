"""Where one API submission's milliseconds go: per-phase CPU time, in-process, on SQLite.

The request runs through the Flask test client (no network), so the figures are the
application's own cost; Redis commands per request come from Redis's command statistics.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from redis import Redis

from domain.migrate import upgrade
from domain.models import ApiToken, Meeting, MeetingKind, MeetingStatus
from domain.runtime import install
from intake import api, outbox
from openfloor.app import create_app
from tests.support.servers import RedisServer

# sent inside MULTI/EXEC (or the admin CONFIG call): not a round trip of their own
IN_TRANSACTION = ("multi", "config", "hset", "rpush", "sadd", "incrby")
PHASES: list[tuple[Any, str, str]] = [
    (api, "_authenticate", "token: refused-token counter (Redis) + token lookup"),
    (api.outbox, "find", "repeat lookup (external_id)"),
    (api, "validate_submission", "validation"),
    (outbox, "record", "outbox insert (in the commit below)"),
    (api, "submit", "submit: insert + commit + enqueue"),
    (outbox, "send", "enqueue on Redis (one MULTI/EXEC)"),
]


def profile(workdir: Path, requests: int = 300) -> list[str]:
    """Markdown lines: CPU ms per phase of one API submission, Redis commands per request."""
    redis = RedisServer(workdir)
    redis.start()
    try:
        url = f"sqlite:///{workdir / 'profile.sqlite3'}"
        upgrade(url)
        app = create_app({"database_url": url, "redis_url": redis.url,
                          "instance_path": str(workdir), "secret_key": "p",
                          "api_rate_limit": "1000000 per minute", "log_level": "WARNING"},
                         environ={})  # fmt: skip
        rt = install(app.extensions["openfloor"])
        with rt.db.transaction() as session:
            meeting = Meeting(slug="p", title="p", theme="p", kind=MeetingKind.FACEBOOK_LIVE,
                              status=MeetingStatus.OPEN, venue="v",
                              scheduled_start=datetime.now(UTC) + timedelta(days=1))  # fmt: skip
            row, token = ApiToken.issue("profile")
            session.add_all([meeting, row])
            session.flush()
            path = f"/api/v1/meetings/{meeting.id}/submissions"
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}

        def one() -> None:
            body = {"text": "Why are sheep being stolen near Clun?",
                    "external_id": uuid.uuid4().hex}  # fmt: skip
            assert client.post(path, json=body, headers=headers).status_code == 201

        for _ in range(30):
            one()
        spent: dict[str, float] = defaultdict(float)
        originals = [(mod, name, getattr(mod, name)) for mod, name, _ in PHASES]
        for mod, name, label in PHASES:
            setattr(mod, name, _timed(getattr(mod, name), label, spent))
        Redis.from_url(redis.url).config_resetstat()
        started = time.process_time()
        for _ in range(requests):
            one()
        total = (time.process_time() - started) / requests * 1000
        for mod, name, original in originals:
            setattr(mod, name, original)
        stats = Redis.from_url(redis.url).info("commandstats")
        commands = sum(v["calls"] for k, v in stats.items() if "config" not in k) / requests
        trips = (
            sum(v["calls"] for k, v in stats.items() if k.split("_", 1)[1] not in IN_TRANSACTION)
            / requests
        )
        rt.close()
    finally:
        redis.stop()
    lines = [f"| whole request (Flask, limiter, view, test client) | {total:.2f} |"]
    lines += [f"| {label} | {spent[label] / requests * 1000:.2f} |" for _, _, label in PHASES]
    lines.append(f"| Redis: commands / round trips per request | {commands:.0f} / {trips:.0f} |")
    return lines


def _timed(func: Callable[..., Any], label: str, spent: dict[str, float]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - t0

    return timed
