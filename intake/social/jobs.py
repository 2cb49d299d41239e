"""RQ jobs of the collectors: one poll while a meeting is open, a live window while it is live.

A Redis lock per (meeting, collector) keeps one run at a time; a live run keeps extending it,
so a crashed worker's lock expires within seconds and the next scheduled run takes over from
the durable checkpoint.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from domain.models import MeetingStatus
from domain.runtime import Runtime, current
from intake.social import collect_facebook, collect_x, store
from intake.social.backoff import PlatformError, RateLimited, ServerError
from intake.social.context import load_run, meeting_status
from intake.social.credentials import MissingCredentials

log = logging.getLogger(__name__)
COLLECTORS = {collect_x.SOURCE: collect_x, collect_facebook.SOURCE: collect_facebook}
LOCK_SECONDS = 10
#: How often a live run re-reads the meeting's status (closing or leaving live ends it).
STATUS_EVERY = 3.0


def collect(meeting_id: int, source: str) -> int:
    """Job: run the ``source`` collector for the meeting once; returns new items."""
    rt = current()
    lock = rt.redis.lock(f"{rt.prefix}:collector:{meeting_id}:{source}", timeout=LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        return 0  # a run is already going (live window); the schedule calls again
    deadline = time.monotonic() + rt.settings.collector_window
    try:
        return run_collector(
            rt, meeting_id, source, stop=lambda: time.monotonic() > deadline, keep=lock.reacquire
        )
    finally:
        if lock.owned():
            lock.release()


def run_collector(
    rt: Runtime,
    meeting_id: int,
    source: str,
    *,
    stop: Callable[[], bool] | threading.Event,
    keep: Callable[[], object] | None = None,
) -> int:
    """Run one collector: a single poll if the meeting is open, a loop until ``stop`` if live."""
    module = COLLECTORS[source]
    stop_now = stop.is_set if isinstance(stop, threading.Event) else stop
    status = meeting_status(rt, meeting_id)
    checked: dict[str, float] = {"status": time.monotonic(), "lock": time.monotonic()}
    live = [status]

    def should_stop() -> bool:
        now = time.monotonic()
        if keep is not None and now - checked["lock"] > 1.0:
            keep()
            checked["lock"] = now
        if now - checked["status"] > STATUS_EVERY:
            live[0] = meeting_status(rt, meeting_id)
            checked["status"] = now
        return stop_now() or live[0] != MeetingStatus.LIVE

    run = load_run(rt, meeting_id, source, should_stop)
    if run is None or status not in (MeetingStatus.OPEN, MeetingStatus.LIVE):
        return 0
    limited = store.limited_for(rt, meeting_id, source)
    if limited > 0 and (status != MeetingStatus.LIVE or run.wait(limited)):
        return 0  # still inside the platform's rate-limit window
    try:
        if status == MeetingStatus.LIVE:
            return int(module.run_live(run))
        return int(module.poll_once(run))
    except RateLimited as exc:
        store.mark_rate_limited(rt, meeting_id, source, exc.until)
        return 0  # not a failure: the next scheduled run waits for the reset
    except (ServerError, PlatformError, MissingCredentials) as exc:
        store.mark_failure(rt, meeting_id, source, str(exc))
        raise
