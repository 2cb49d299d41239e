"""Server-sent events for the live staff and chair views, fed by the event bus."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import Blueprint, Response, request, stream_with_context
from flask_login import current_user
from redis.exceptions import RedisError

from domain import events
from domain.web.auth import session_still_valid, staff_required
from domain.web.context import runtime

bp = Blueprint("triage_live", __name__, url_prefix="/triage")

HEARTBEAT_MS = 15_000


@bp.route("/meetings/<int:meeting_id>/events")
@staff_required
def stream(meeting_id: int) -> Response:
    """Tail the meeting's event stream; resumes from Last-Event-ID after a reconnect."""
    rt = runtime()
    start = request.headers.get("Last-Event-ID") or request.args.get("after") or "$"
    redis, prefix = rt.redis, rt.prefix
    user_id, version = int(current_user.id), int(current_user.session_version)

    def generate() -> Iterator[str]:
        last = start
        checked = time.monotonic()
        yield "retry: 2000\n\n"
        while True:
            # A stream outlives its request: stop it when the session ends (sign-out
            # elsewhere, a new password, a timeout); the browser's reconnect must sign in.
            if time.monotonic() - checked >= HEARTBEAT_MS / 1000:
                if not session_still_valid(user_id, version):
                    yield ": signed out\n\n"
                    return
                checked = time.monotonic()
            try:
                batch = events.read(redis, prefix, meeting_id, last, block_ms=HEARTBEAT_MS)
            except RedisError:
                yield ": event bus unavailable\n\n"
                return
            if not batch:
                yield ": keep-alive\n\n"
                continue
            for ev in batch:
                last = ev.id
                yield f"id: {ev.id}\nevent: {ev.type}\ndata: {json.dumps(ev.data)}\n\n"

    return Response(
        stream_with_context(generate()),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
