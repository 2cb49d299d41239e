"""The Facebook collector: polls comments (open meeting); streams them while live.

While live the ``live_comments`` stream is read; every (re)connection is followed by a
catch-up poll of the video's comments since the checkpoint (less an overlap), so nothing
posted while the stream was down is missed, and the outbox's (channel, external id) key
absorbs what both delivered. When the stream drops, polling carries on until it reconnects.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from intake.social import store
from intake.social.backoff import PlatformError, RateLimited, ServerError
from intake.social.context import Run
from intake.social.credentials import token
from intake.social.facebook import GraphSource
from intake.social.items import Collected

SOURCE = "facebook"
#: Seconds re-read before the checkpoint on a catch-up (comments can land slightly out of order).
OVERLAP = 10
#: Promotional posts are re-polled this often while live (the stream covers only the video).
POSTS_EVERY = 5.0
#: Stream items are saved in small batches: one transaction and one queue job per batch.
FLUSH_EVERY = 0.2
_END = object()


def _source(run: Run) -> GraphSource:
    s = run.rt.settings
    return GraphSource(token(s, "FACEBOOK_ACCESS_TOKEN"), s.graph_api_url, s.graph_stream_url)


def _objects(run: Run) -> list[str]:
    video = run.settings.facebook_live_video_id.strip()
    return ([video] if video else []) + run.settings.post_ids()


def _advance(checkpoint: dict[str, Any], video: str, items: Sequence[Collected]) -> None:
    """Move the video's ``since`` to the newest streamed comment."""
    newest = max(int(i.posted_at.timestamp()) for i in items)
    since = int(checkpoint.get(video, {}).get("since") or 0)
    checkpoint[video] = {"since": max(newest, since)}


def poll_objects(run: Run, source: GraphSource, objects: Sequence[str]) -> int:
    """Collect comments on ``objects`` since their checkpoints; returns new items."""
    checkpoint = store.load_checkpoint(run.rt, run.meeting_id, SOURCE)
    total = 0
    for obj in objects:
        since = checkpoint.get(obj, {}).get("since")
        items = source.comments(obj, since - OVERLAP if since else None)
        newest = max((int(i.posted_at.timestamp()) for i in items), default=since)
        if newest is not None:
            checkpoint[obj] = {"since": newest}
        total += store.save(run.rt, run.meeting_id, SOURCE, items, dict(checkpoint))
    return total


def poll_once(run: Run, source: GraphSource | None = None) -> int:
    """One poll of the video and every promotional post."""
    own = source is None
    graph = source or _source(run)
    try:
        return poll_objects(run, graph, _objects(run))
    finally:
        if own:
            graph.close()


def run_live(run: Run) -> int:
    """Stream the live video's comments until told to stop; poll while the stream is down."""
    graph = _source(run)
    video = run.settings.facebook_live_video_id.strip()
    total, delay = 0, 1.0
    try:
        while not run.should_stop():
            try:
                if not video:
                    total += poll_objects(run, graph, _objects(run))
                    run.wait(5.0)
                    continue
                total += _stream(run, graph, video)
                delay = 1.0
                run.wait(0.2)  # reconnect at once: the catch-up poll after connecting fills the gap
            except RateLimited as exc:
                if run.rate_limited(exc):
                    break
            except (ServerError, PlatformError) as exc:
                store.mark_failure(run.rt, run.meeting_id, SOURCE, str(exc))
                total += _fallback_poll(run, graph)
                if run.wait(delay):
                    break
                delay = min(delay * 2, 10.0)
    finally:
        graph.close()
    return total


def _fallback_poll(run: Run, graph: GraphSource) -> int:
    """While the stream cannot be had, poll; a failure here is already being reported."""
    try:
        return poll_objects(run, graph, _objects(run))
    except (ServerError, PlatformError, RateLimited):
        return 0


def _stream(run: Run, graph: GraphSource, video: str) -> int:
    """Read the stream until it ends or we are told to stop; returns new items."""
    total = 0
    with graph.live_comments(video) as events:
        inbox: queue.Queue[Any] = queue.Queue()
        threading.Thread(target=_read, args=(events, inbox), daemon=True).start()
        total += poll_objects(run, graph, [video])  # catch up now that the stream is on
        posts_due = time.monotonic() + POSTS_EVERY
        while not run.should_stop():
            batch, ended = _drain(inbox)
            if batch:
                checkpoint = store.load_checkpoint(run.rt, run.meeting_id, SOURCE)
                _advance(checkpoint, video, batch)
                total += store.save(run.rt, run.meeting_id, SOURCE, batch, checkpoint)
            if ended is not None:
                store.mark_failure(run.rt, run.meeting_id, SOURCE, f"live stream ended: {ended}")
                break
            if time.monotonic() >= posts_due and run.settings.post_ids():
                total += poll_objects(run, graph, run.settings.post_ids())
                posts_due = time.monotonic() + POSTS_EVERY
    return total


def _read(events: Iterator[Collected], inbox: queue.Queue[Any]) -> None:
    try:
        for item in events:
            inbox.put(item)
        inbox.put((_END, "closed by the server"))
    except Exception as exc:  # the stream is gone whatever the reason; the main loop decides
        inbox.put((_END, type(exc).__name__))


def _drain(inbox: queue.Queue[Any]) -> tuple[list[Collected], str | None]:
    batch: list[Collected] = []
    deadline = time.monotonic() + FLUSH_EVERY
    while True:
        try:
            got = inbox.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return batch, None
        if isinstance(got, tuple) and got and got[0] is _END:
            return batch, str(got[1])
        batch.append(got)
