"""A fake X API v2 recent search: ``data`` / ``includes`` / ``meta``, rate-limit headers, faults."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, jsonify, request

from openfloor.rehearsal.platform import Item, Platform

#: Requests per window, as X's rate-limit headers advertise them.
WINDOW_SECONDS = 60
WINDOW_LIMIT = 180
PCC_NAME = "West Mercia PCC"
PCC_HANDLE = "WestMerciaPCC"


def _created(item: Item) -> str:
    return item.created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{item.created.microsecond // 1000:03d}Z"


def _user_id(item: Item) -> str:
    return str(abs(hash(item.author_handle or "")) % 10**12)


def x_app(platform: Platform) -> Flask:
    """The Flask app of the fake X API."""
    app = Flask("fake_x")
    window = {"start": time.time(), "used": 0}

    def limits(remaining: int, reset: int) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(WINDOW_LIMIT),
            "x-rate-limit-remaining": str(max(remaining, 0)),
            "x-rate-limit-reset": str(reset),
        }

    @app.get("/2/tweets/search/recent")
    def search() -> Response | tuple[Response, int, dict[str, str]]:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return jsonify({"title": "Unauthorized", "status": 401}), 401, {}
        now = time.time()
        if now - window["start"] >= WINDOW_SECONDS:
            window.update(start=now, used=0)
        window["used"] += 1
        reset = int(window["start"] + WINDOW_SECONDS)
        platform.queries.append(request.args.get("query", ""))
        fault = platform.take_fault("x")
        if fault is not None:
            status, reset_in = fault
            refusal = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
            if status == 429:
                return jsonify(refusal), 429, limits(0, int(now) + reset_in)
            return jsonify({"title": "Service Unavailable", "status": status}), status, {}
        since = int(request.args.get("since_id") or 0)
        size = int(request.args.get("max_results") or 10)
        offset = int(request.args.get("next_token") or "0", 36)
        matches = sorted(
            (i for i in platform.visible() if int(i.id) > since), key=lambda i: -int(i.id)
        )
        page = matches[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        if offset + size < len(matches):
            meta["next_token"] = _base36(offset + size)
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = [_tweet(i) for i in page]
            users = {_user_id(i): i for i in page}
            body["includes"] = {
                "users": [
                    {"id": uid, "name": i.author_name or "", "username": (i.author_handle or "")}
                    for uid, i in users.items()
                ]
            }
        remaining = WINDOW_LIMIT - int(window["used"])
        return jsonify(body), 200, limits(remaining, reset)

    @app.post("/2/tweets")
    def create() -> tuple[Response, int]:
        """A post by the account (a reply when ``reply.in_reply_to_tweet_id`` is given)."""
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return jsonify({"title": "Unauthorized", "status": 401}), 401
        fault = platform.take_fault("x")
        if fault is not None:
            return jsonify({"title": "Service Unavailable", "status": fault[0]}), fault[0]
        body = request.get_json(silent=True) or {}
        parent = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if parent and not any(i.id == parent for i in platform.visible()):
            detail = "You attempted to reply to a Tweet that is deleted or not visible to you."
            return jsonify({"title": "Invalid Request", "detail": detail, "status": 400}), 400
        item = platform.post(str(body.get("text", "")), author_name=PCC_NAME,
                             author_handle=PCC_HANDLE, parent_id=parent)  # fmt: skip
        return jsonify({"data": {"id": item.id, "text": item.text,
                                 "edit_history_tweet_ids": [item.id]}}), 201  # fmt: skip

    return app


def _tweet(item: Item) -> dict[str, Any]:
    tweet: dict[str, Any] = {
        "id": item.id, "text": item.text, "created_at": _created(item),
        "author_id": _user_id(item), "conversation_id": item.parent_id or item.id,
        "edit_history_tweet_ids": [item.id],
    }  # fmt: skip
    if item.parent_id:
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": item.parent_id}]
    return tweet


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out
