"""Same text from many accounts: :class:`RepeatTracker`, the stateful part of spam detection."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from workers.pipeline.flags import SPAM, Flag

__all__ = ["RepeatTracker"]


class RepeatTracker:
    """Counts distinct authors per normalised-text hash within a sliding time window.

    ``observe`` returns a spam :class:`Flag` once ``threshold`` or more different authors
    have sent text with the same :attr:`Normalised.hash` within ``window_seconds`` (the
    observation that reaches the threshold and every later one are flagged; earlier copies
    can be found by hash). The same author repeating themselves does not count: that is a
    duplicate, not a campaign. Campaigns can be genuine (a village copy-pasting a template),
    so the reason says "possible" and staff decide.

    State is in-process and bounded (``max_hashes``, least recently seen dropped first); one
    tracker per worker process, not thread-safe. Authors are kept only as Python hashes of
    the id given, never in clear.
    """

    def __init__(
        self,
        threshold: int = 5,
        window_seconds: float = 3600.0,
        *,
        max_hashes: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 2:
            raise ValueError("threshold must be at least 2")
        self.threshold = threshold
        self.window_seconds = window_seconds
        self.max_hashes = max_hashes
        self._clock = clock
        self._seen: OrderedDict[str, dict[int, float]] = OrderedDict()

    def _authors(self, text_hash: str, now: float) -> dict[int, float]:
        authors = self._seen.get(text_hash)
        if authors is None:
            return {}
        cutoff = now - self.window_seconds
        stale = [a for a, t in authors.items() if t < cutoff]
        for a in stale:
            del authors[a]
        return authors

    def observe(self, text_hash: str, author: str, at: float | None = None) -> Flag | None:
        """Record that ``author`` sent text with ``text_hash``; flag when it is a campaign."""
        now = self._clock() if at is None else at
        authors = self._authors(text_hash, now)
        authors[hash(author)] = now
        self._seen[text_hash] = authors
        self._seen.move_to_end(text_hash)
        while len(self._seen) > self.max_hashes:
            self._seen.popitem(last=False)
        count = len(authors)
        if count < self.threshold:
            return None
        minutes = round(self.window_seconds / 60)
        return Flag(
            SPAM,
            f"identical text from {count} different accounts within {minutes} minutes "
            "(possible copy-paste campaign)",
        )

    def distinct_authors(self, text_hash: str, at: float | None = None) -> int:
        """How many different authors sent ``text_hash`` within the window ending ``at``."""
        now = self._clock() if at is None else at
        return len(self._authors(text_hash, now))

    def observe_many(self, items: Iterable[tuple[str, str, float]]) -> list[Flag | None]:
        """Observe ``(text_hash, author, at)`` tuples in order (handy for batch replays)."""
        return [self.observe(h, a, t) for h, a, t in items]
