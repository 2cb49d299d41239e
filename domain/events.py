"""Event bus on Redis streams: workers publish, triage views tail.

Each meeting has its own capped stream so a live view can resume from the last id it saw
(nothing is missed across a reconnect) and a new view can replay recent history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from redis import Redis

STREAM_MAXLEN = 10_000


@dataclass(frozen=True)
class Event:
    """Something that happened to a meeting's questions."""

    id: str
    type: str
    meeting_id: int
    data: dict[str, Any]


def stream_key(prefix: str, meeting_id: int) -> str:
    """Redis key of a meeting's event stream."""
    return f"{prefix}:events:{meeting_id}"


def publish(redis: Redis, prefix: str, meeting_id: int, type_: str, data: dict[str, Any]) -> str:
    """Append an event (ids and counts only, never personal data); returns its stream id."""
    fields: dict[Any, Any] = {"type": type_, "data": json.dumps(data, separators=(",", ":"))}
    raw = redis.xadd(stream_key(prefix, meeting_id), fields, maxlen=STREAM_MAXLEN, approximate=True)
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def read(
    redis: Redis,
    prefix: str,
    meeting_id: int,
    last_id: str = "$",
    block_ms: int | None = None,
    count: int = 100,
) -> list[Event]:
    """Events after ``last_id`` ("$" = only new ones), waiting up to ``block_ms``."""
    reply: Any = redis.xread({stream_key(prefix, meeting_id): last_id}, count=count, block=block_ms)
    events: list[Event] = []
    for _key, entries in reply or []:
        for raw_id, fields in entries:
            decoded = {_s(k): _s(v) for k, v in fields.items()}
            events.append(
                Event(
                    id=_s(raw_id),
                    type=decoded.get("type", ""),
                    meeting_id=meeting_id,
                    data=json.loads(decoded.get("data", "{}")),
                )
            )
    return events


def last_id(redis: Redis, prefix: str, meeting_id: int) -> str:
    """Id of the newest event of a meeting, or "0" if there is none."""
    entries = redis.xrevrange(stream_key(prefix, meeting_id), count=1)
    return _s(entries[0][0]) if entries else "0"


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
