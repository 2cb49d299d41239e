"""The X collector: one poll (open meeting) or a paced loop of polls (live meeting)."""

from __future__ import annotations

from intake.social import store
from intake.social.backoff import PlatformError, RateLimited, ServerError, pace
from intake.social.context import Run
from intake.social.credentials import token
from intake.social.x import XSource, build_query

SOURCE = "x"
#: Fastest poll while live; slower when the window's remaining calls say so.
LIVE_MIN_INTERVAL = 0.5


def _source(run: Run) -> XSource:
    settings = run.rt.settings
    return XSource(token(settings, "X_BEARER_TOKEN"), settings.x_api_url)


def poll_once(run: Run, source: XSource | None = None) -> int:
    """Collect everything newer than the stored ``since_id``; returns new items.

    The new ``since_id`` is saved with the items, in one transaction: a crash before it
    repeats the poll, a crash after it finds nothing new.
    """
    query = build_query(run.hashtag, run.settings.x_account)
    if not query:
        return 0
    source = source or _source(run)
    since = store.load_checkpoint(run.rt, run.meeting_id, SOURCE).get("since_id")
    items, newest = source.poll(query, since)
    return store.save(run.rt, run.meeting_id, SOURCE, items, {"since_id": newest})


def run_live(run: Run) -> int:
    """Poll until told to stop, pacing by the rate-limit headers; returns new items."""
    source = _source(run)
    total = 0
    while not run.should_stop():
        try:
            total += poll_once(run, source)
        except RateLimited as exc:
            if run.rate_limited(exc):
                break
            continue
        except (ServerError, PlatformError) as exc:
            store.mark_failure(run.rt, run.meeting_id, SOURCE, str(exc))
            if run.wait(2.0):
                break
            continue
        if run.wait(pace(source.headers, LIVE_MIN_INTERVAL)):
            break
    return total
