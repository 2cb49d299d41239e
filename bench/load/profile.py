"""Where one API submission's milliseconds go: per-phase CPU time, in-process, on SQLite.

The request runs through the Flask test client (no network), so the figures are the
application's own cost; Redis commands per request come from Redis's command statistics.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from redis import Redis
from redis.connection import AbstractConnection

from domain.migrate import upgrade
from domain.models import ApiToken, Meeting, MeetingKind, MeetingStatus
from domain.runtime import install
from intake import outbox, pusher
from intake.api import access, views
from openfloor.app import create_app
from tests.support.servers import RedisServer

PHASES: list[tuple[Any, str, str]] = [
    (access, "spend_lease", "rate limits on this process's lease (no Redis call)"),
    (
        access,
        "count_request",
        "rate limits + refused tokens + token version: a Redis call, once a lease",
    ),
    (access, "lookup", "token lookup (in-process cache, database every 2 s)"),
    (views, "_meeting", "meeting status (each process trusts it for 1 s)"),
    (views, "validate_submission", "validation"),
    (outbox, "store", "outbox insert + commit (group commit, SQLAlchemy Core)"),
    (views, "submit", "submit: insert + commit + enqueue"),
    (pusher, "send", "hand-over to the pusher thread (in memory)"),
    (pusher, "push_batch", "pusher thread: RQ jobs (off the request)"),
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
        Redis.from_url(redis.url).config_resetstat()
        with _round_trips() as trips:
            started = time.process_time()
            for _ in range(requests):
                one()
            total = (time.process_time() - started) / requests * 1000
        round_trips = trips[0] / requests
        stats = Redis.from_url(redis.url).info("commandstats")
        commands = sum(v["calls"] for k, v in stats.items() if "config" not in k) / requests
        spent: dict[str, float] = defaultdict(float)
        originals = [(mod, name, getattr(mod, name)) for mod, name, _ in PHASES]
        for mod, name, label in PHASES:
            setattr(mod, name, _timed(getattr(mod, name), label, spent))
        for _ in range(requests):
            one()
        for mod, name, original in originals:
            setattr(mod, name, original)
        rt.close()
    finally:
        redis.stop()
    lines = [f"| whole request (the API app, its view, the test client) | {total:.2f} |"]
    lines += [f"| {label} | {spent[label] / requests * 1000:.2f} |" for _, _, label in PHASES]
    lines.append(
        f"| Redis: commands (those run by scripts included) / round trips per request "
        f"| {commands:.0f} / {round_trips:.0f} |"
    )
    return lines


@contextlib.contextmanager
def _round_trips() -> Iterator[list[int]]:
    """Count what the Redis client sends meanwhile: one packet per command or pipeline."""
    counter = [0]
    send = AbstractConnection.send_packed_command

    def counted(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        counter[0] += 1
        send(self, command, check_health)

    AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        AbstractConnection.send_packed_command = send  # type: ignore[method-assign]


def _timed(func: Callable[..., Any], label: str, spent: dict[str, float]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.thread_time()  # the pusher runs on its own thread
        try:
            return func(*args, **kwargs)
        finally:
            spent[label] += time.thread_time() - t0

    return timed
