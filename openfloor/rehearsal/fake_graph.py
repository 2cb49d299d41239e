"""A fake Graph API: comments with ``data`` / ``paging`` cursors, error objects, the SSE stream."""

from __future__ import annotations

import base64
import json
import queue
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from openfloor.rehearsal.platform import Item, Platform

VERSION = "v21.0"
_ERRORS = {
    429: (4, "Application request limit reached", "OAuthException"),
    400: (100, "Unsupported get request.", "GraphMethodException"),
}


def _cursor(index: int) -> str:
    return base64.b64encode(str(index).encode()).decode()


def _seq(item: Item) -> int:
    return int(item.id.rsplit("_", 1)[-1])


def comment(item: Item) -> dict[str, Any]:
    """A comment object as the Graph API returns it; ``from`` only when the sender is known."""
    body: dict[str, Any] = {
        "id": item.id,
        "message": item.text,
        "created_time": item.created.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "permalink_url": f"https://www.facebook.com/{item.object_id}?comment_id={item.id}",
    }
    if item.author_name:
        body["from"] = {"id": str(abs(hash(item.author_name)) % 10**15), "name": item.author_name}
    if item.parent_id:
        body["parent"] = {"id": item.parent_id}
    return body


def graph_app(platform: Platform) -> Flask:
    """The Flask app of the fake Graph API (and its streaming host, on the same port)."""
    app = Flask("fake_graph")

    def refuse(status: int) -> tuple[Response, int]:
        code, message, kind = _ERRORS.get(
            status, (2, "An unexpected error has occurred.", "OAuthException")
        )
        error = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEf"}
        return jsonify({"error": error}), 400 if status == 429 else status

    @app.get(f"/{VERSION}/<object_id>/comments")
    def comments(object_id: str) -> Response | tuple[Response, int]:
        if not request.args.get("access_token"):
            return refuse(400)
        fault = platform.take_fault("graph")
        if fault is not None:
            return refuse(fault[0])
        since = request.args.get("since")
        items = platform.visible(object_id=object_id)
        if since:
            floor = datetime.fromtimestamp(int(since), UTC).replace(microsecond=0)
            items = [i for i in items if i.created.replace(microsecond=0) >= floor]
        limit = int(request.args.get("limit") or 25)
        after = request.args.get("after")
        start = int(base64.b64decode(after).decode()) + 1 if after else 0
        page = items[start : start + limit]
        body: dict[str, Any] = {"data": [comment(i) for i in page]}
        if page:
            body["paging"] = {
                "cursors": {"before": _cursor(start), "after": _cursor(start + len(page) - 1)}
            }
            if start + limit < len(items):
                body["paging"]["next"] = (
                    request.base_url + "?after=" + _cursor(start + len(page) - 1)
                )
        return jsonify(body)

    @app.post(f"/{VERSION}/<comment_id>/comments")
    def reply(comment_id: str) -> Response | tuple[Response, int]:
        """The Page replies to a comment (form fields ``message`` and ``access_token``)."""
        if not request.form.get("access_token"):
            return refuse(400)
        fault = platform.take_fault("graph")
        if fault is not None:
            return refuse(fault[0])
        parent = next((i for i in platform.items if i.id == comment_id and i.object_id), None)
        if parent is None or parent.deleted:
            return refuse(400)
        item = platform.post(request.form.get("message", ""), object_id=parent.object_id,
                             author_name="West Mercia PCC", parent_id=comment_id)  # fmt: skip
        return jsonify({"id": item.id})

    @app.get("/<video_id>/live_comments")
    def live_comments(video_id: str) -> Response | tuple[Response, int]:
        if not request.args.get("access_token"):
            return refuse(400)
        listener = platform.subscribe()

        def events() -> Iterator[str]:
            try:
                yield ": connected\n\n"
                while True:
                    try:
                        item = listener.get(timeout=1.0)
                    except queue.Empty:
                        yield ": keep-alive\n\n"
                        continue
                    if item is None:
                        return
                    if item.object_id == video_id:
                        yield f"data: {json.dumps(comment(item))}\n\n"
            finally:
                platform.unsubscribe(listener)

        return Response(
            events(), mimetype="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    return app
