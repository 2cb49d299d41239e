"""The staff banner shown when questions are not flowing (queue down, no workers, behind)."""

from __future__ import annotations

from domain.queue_health import QueueStatus, queue_status
from domain.web.context import runtime


def pipe_status() -> QueueStatus | None:
    """The current status when staff should be told about it, else None."""
    status = queue_status(runtime())
    return status if status.problem else None


def humane_age(seconds: int | None) -> str:
    """'45 seconds', '3 minutes', '2 hours' for the banner."""
    if seconds is None:
        return "unknown"
    for size, unit in ((3600, "hour"), (60, "minute"), (1, "second")):
        if seconds >= size or size == 1:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    raise AssertionError("unreachable")
