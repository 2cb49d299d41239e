"""Rate limits and server errors: what a collector waits for, and how long."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TypeVar

T = TypeVar("T")
#: Seconds between retries of a 5xx (the platform's own hiccups).
SERVER_RETRY_DELAYS = (0.5, 1.0, 2.0)


class RateLimited(Exception):
    """The platform said 429 (or its rate-limit error code); ``until`` is when to resume."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"rate limited until {until.isoformat()}")
        self.until = until


class ServerError(Exception):
    """The platform answered 5xx (after our retries)."""


class PlatformError(Exception):
    """Any other refusal (bad token, unknown object): needs a person, retried next round."""


def reset_time(headers: Mapping[str, str], default_seconds: float = 60.0) -> datetime:
    """When a rate limit ends, from ``x-rate-limit-reset`` (epoch seconds) or ``Retry-After``."""
    now = datetime.now(UTC)
    reset = headers.get("x-rate-limit-reset")
    if reset and reset.strip().isdigit():
        return max(now, datetime.fromtimestamp(int(reset), UTC))
    after = headers.get("retry-after")
    if after and after.strip().isdigit():
        return now + timedelta(seconds=int(after))
    return now + timedelta(seconds=default_seconds)


def pace(headers: Mapping[str, str], minimum: float) -> float:
    """Seconds to wait before the next request so the window's remaining calls last it out."""
    remaining = headers.get("x-rate-limit-remaining")
    reset = headers.get("x-rate-limit-reset")
    if not (remaining and reset and remaining.isdigit() and reset.isdigit()):
        return minimum
    left = int(reset) - time.time()
    if left <= 0:
        return minimum
    return max(minimum, left / max(int(remaining), 1))


def retry_server_errors(call: Callable[[], T], sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``call``, retrying a ServerError with short back-off; the last one is raised."""
    for delay in SERVER_RETRY_DELAYS:
        try:
            return call()
        except ServerError:
            sleep(delay)
    return call()
