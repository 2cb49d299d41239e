"""The broadcast overlay: a public page by secret URL for OBS or StreamYard.

It shows only what the chair put on air (redacted text, opt-in names) and nothing else: no
meeting data, no ids. The stream sends the overlay's state, never the meeting's raw events.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, render_template, stream_with_context
from redis.exceptions import RedisError

from domain import events
from domain.models import OnAir
from domain.web.context import runtime
from triage.onair.actions import OVERLAY

bp = Blueprint("overlay", __name__, template_folder="../templates", url_prefix="/overlay")

HEARTBEAT_MS = 10_000
# OBS loads the page itself; StreamYard and other web studios frame it, so the overlay page
# (which has no actions to hijack) may be framed; everything else stays as strict as the app's.
FRAMEABLE = {
    "frame_options": None,
    "content_security_policy": {
        "default-src": "'self'",
        "style-src": "'self'",
        "script-src": "'self'",
        "connect-src": "'self'",
        "img-src": "'self'",
        "frame-ancestors": "'self' https:",
        "base-uri": "'none'",
        "form-action": "'none'",
        "object-src": "'none'",
    },
}
PRIVATE = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


def _find(secret: str) -> OnAir | None:
    session = runtime().db.session()
    session.rollback()  # end the read transaction: a long-lived stream must see new commits
    return session.query(OnAir).filter(OnAir.overlay_secret == secret).one_or_none()


def payload(row: OnAir) -> dict[str, Any]:
    """Everything the overlay may know."""
    visible = bool(row.overlay_visible and row.overlay_question)
    return {
        "version": row.overlay_version,
        "visible": visible,
        "question": row.overlay_question if visible else "",
        "attribution": row.overlay_attribution if visible else "",
    }


def _open(secret: str) -> OnAir:
    row = _find(secret) if secret else None
    if row is None:
        abort(404)
    return row


@bp.get("/<secret>")
def page(secret: str) -> tuple[str, int, dict[str, str]]:
    """The lower third, with what is on air now."""
    row = _open(secret)
    return render_template("overlay.html", state=payload(row), secret=secret), 200, PRIVATE


page.talisman_view_options = FRAMEABLE  # type: ignore[attr-defined]  # read by flask-talisman


@bp.get("/<secret>/state")
def state(secret: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """What is on air now, as JSON."""
    return payload(_open(secret)), 200, PRIVATE


@bp.get("/<secret>/events")
def stream(secret: str) -> Response:
    """The overlay's state each time the chair changes it (ends when the URL is revoked)."""
    row = _open(secret)
    meeting_id = row.meeting_id
    rt = runtime()
    redis, prefix = rt.redis, rt.prefix
    start = events.last_id(redis, prefix, meeting_id)

    def generate() -> Iterator[str]:
        last = start
        yield "retry: 1000\n\n"
        yield _frame(payload(row))
        while True:
            try:
                batch = events.read(redis, prefix, meeting_id, last, block_ms=HEARTBEAT_MS)
            except RedisError:
                yield ": unavailable\n\n"
                return
            if batch:
                last = batch[-1].id
            current = _find(secret)
            if current is None:
                yield "event: revoked\ndata: {}\n\n"
                return
            if any(ev.type == OVERLAY for ev in batch):
                yield _frame(payload(current))
            else:
                yield ": keep-alive\n\n"

    return Response(
        stream_with_context(generate()),
        mimetype="text/event-stream",
        headers={**PRIVATE, "X-Accel-Buffering": "no"},
    )


def _frame(data: dict[str, Any]) -> str:
    return f"event: overlay\ndata: {json.dumps(data)}\n\n"
