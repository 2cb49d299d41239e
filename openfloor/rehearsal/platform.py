"""What the fake platforms hold: posts and comments as they appear, and scripted faults."""

from __future__ import annotations

import itertools
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class Item:
    """A post (X) or comment (Facebook) as published on a fake platform."""

    id: str
    text: str
    author_name: str | None
    author_handle: str | None
    created: datetime
    appeared: float  # time.time() when it became visible
    object_id: str = ""  # Facebook: the video or post commented on
    parent_id: str | None = None
    deleted: bool = False


@dataclass
class Platform:
    """Shared state of both fakes; thread-safe. Faults are consumed one request at a time."""

    items: list[Item] = field(default_factory=list)
    faults: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # api -> (status, s)
    streams: list[queue.Queue[Item | None]] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)  # X search queries received
    lock: threading.Lock = field(default_factory=threading.Lock)
    # ids grow across runs too (from the clock), so a rehearsal repeated on the same database
    # posts new items rather than ones it already stored
    _ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(int(time.time() * 1000))
    )

    def post(
        self,
        text: str,
        *,
        object_id: str = "",
        author_name: str | None = None,
        author_handle: str | None = None,
        parent_id: str | None = None,
    ) -> Item:
        """Publish a post (no ``object_id``) or a comment on ``object_id``."""
        with self.lock:
            n = next(self._ids)
            item_id = f"{object_id}_{n}" if object_id else str(1_800_000_000_000_000 + n)
            item = Item(item_id, text, author_name, author_handle, datetime.now(UTC),
                        time.time(), object_id, parent_id)  # fmt: skip
            self.items.append(item)
            listeners = list(self.streams) if object_id else []
        for listener in listeners:
            listener.put(item)
        return item

    def delete(self, item_id: str) -> None:
        """The author deletes a post or comment."""
        with self.lock:
            for item in self.items:
                if item.id == item_id:
                    item.deleted = True

    def fail_next(self, api: str, status: int, reset_in: int = 2) -> None:
        """The next request to ``api`` ("x" or "graph") answers ``status``."""
        with self.lock:
            self.faults.setdefault(api, []).append((status, reset_in))

    def take_fault(self, api: str) -> tuple[int, int] | None:
        """Count a request to ``api`` and return its scripted fault, if any."""
        with self.lock:
            self.requests[api] = self.requests.get(api, 0) + 1
            pending = self.faults.get(api)
            return pending.pop(0) if pending else None

    def visible(self, *, object_id: str | None = None) -> list[Item]:
        """Items not deleted: X posts (object_id None) or comments on one object."""
        with self.lock:
            if object_id is None:
                return [i for i in self.items if not i.object_id and not i.deleted]
            return [i for i in self.items if i.object_id == object_id and not i.deleted]

    def subscribe(self) -> queue.Queue[Item | None]:
        """A live_comments listener."""
        listener: queue.Queue[Item | None] = queue.Queue()
        with self.lock:
            self.streams.append(listener)
        return listener

    def unsubscribe(self, listener: queue.Queue[Item | None]) -> None:
        """Forget a listener whose connection ended."""
        with self.lock:
            if listener in self.streams:
                self.streams.remove(listener)

    def drop_streams(self) -> None:
        """Every open live_comments stream is cut (as when Facebook's edge restarts)."""
        with self.lock:
            listeners, self.streams = self.streams, []
        for listener in listeners:
            listener.put(None)
