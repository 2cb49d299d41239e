"""Facebook comments over the Graph API (httpx): pages of comments and the live SSE stream."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
from httpx_sse import connect_sse

from intake.social.backoff import (
    PlatformError,
    RateLimited,
    ServerError,
    reset_time,
    retry_server_errors,
)
from intake.social.items import FACEBOOK_VIEWER, Collected

FIELDS = "id,message,created_time,from{id,name},permalink_url,parent{id}"
#: Graph API error codes that mean "slow down" (app, user, page and call-volume limits).
RATE_LIMIT_CODES = {4, 17, 32, 613, 80001}
MAX_PAGES = 200


class GraphSource:
    """Comments on Graph objects (the live video, promotional posts) for one access token."""

    def __init__(self, access_token: str, api_url: str, stream_url: str) -> None:
        # httpx logs every request URL at INFO, and the Graph token travels in the query
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self.token = access_token
        self.api_url = api_url.rstrip("/")
        self.stream_url = stream_url.rstrip("/")
        self.http = httpx.Client(timeout=httpx.Timeout(10.0, read=30.0))

    def close(self) -> None:
        """Release connections."""
        self.http.close()

    def comments(self, object_id: str, since: int | None) -> list[Collected]:
        """Comments on ``object_id`` created at or after ``since`` (unix time), oldest first."""
        params: dict[str, Any] = {
            "fields": FIELDS, "filter": "stream", "order": "chronological", "limit": 100,
            "access_token": self.token,
        }  # fmt: skip
        if since is not None:
            params["since"] = since
        out: list[Collected] = []
        for _ in range(MAX_PAGES):
            body = retry_server_errors(lambda p=dict(params): self._get(object_id, p))  # type: ignore[misc]
            out.extend(c for c in (parse_comment(raw) for raw in body.get("data", [])) if c)
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
            params["after"] = after
        return out

    def _get(self, object_id: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self.http.get(f"{self.api_url}/{object_id}/comments", params=params)
        except httpx.TransportError as exc:
            raise ServerError(f"Graph API unreachable ({type(exc).__name__})") from None
        return check(response)

    @contextmanager
    def live_comments(self, video_id: str) -> Iterator[Iterator[Collected]]:
        """The ``live_comments`` Server-Sent Events stream; connected when the block starts."""
        params = {"access_token": self.token, "comment_rate": "ten_per_second", "fields": FIELDS}
        url = f"{self.stream_url}/{video_id}/live_comments"
        try:
            with connect_sse(self.http, "GET", url, params=params) as source:
                if source.response.status_code != 200:
                    source.response.read()
                    check(source.response)
                yield _events(source.iter_sse())
        except httpx.TransportError as exc:
            raise ServerError(f"stream dropped ({type(exc).__name__})") from None


def _events(events: Iterator[Any]) -> Iterator[Collected]:
    for event in events:
        if not event.data or event.data.startswith(":"):
            continue
        comment = parse_comment(event.json())
        if comment is not None:
            yield comment


def check(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a good answer; the right exception for a refusal."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    code = (error or {}).get("code")
    if response.status_code == 429 or code in RATE_LIMIT_CODES:
        raise RateLimited(reset_time(response.headers))
    if response.status_code >= 500:
        raise ServerError(f"Graph API answered {response.status_code}")
    if error or response.status_code >= 400:
        raise PlatformError(f"Graph API error {code or response.status_code}")
    return body if isinstance(body, dict) else {}


def parse_comment(raw: dict[str, Any]) -> Collected | None:
    """A Graph comment object as a collected item; a comment without ``from`` is kept."""
    if not raw.get("id") or not raw.get("created_time"):
        return None
    sender = raw.get("from") or {}
    parent = raw.get("parent") or {}
    return Collected(
        channel="facebook",
        external_id=str(raw["id"]),
        text=str(raw.get("message") or ""),
        posted_at=datetime.strptime(raw["created_time"], "%Y-%m-%dT%H:%M:%S%z"),
        author_name=sender.get("name") or FACEBOOK_VIEWER,
        permalink=raw.get("permalink_url"),
        parent_external_id=str(parent["id"]) if parent.get("id") else None,
    )
