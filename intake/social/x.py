"""X (Twitter) recent search through tweepy's v2 Client: the hashtag and the account's mentions."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import requests
import tweepy
from requests.adapters import HTTPAdapter

from intake.social.backoff import (
    PlatformError,
    RateLimited,
    ServerError,
    reset_time,
    retry_server_errors,
)
from intake.social.items import Collected

TWEET_FIELDS = ["created_at", "conversation_id", "referenced_tweets", "author_id"]
#: A first poll reads back at most this many pages (X keeps seven days of recent search).
MAX_PAGES = 50
X_HOSTS = ("https://api.twitter.com", "https://api.x.com")


class RedirectAdapter(HTTPAdapter):
    """Sends tweepy's fixed-host requests to another base URL (the rehearsal's fake X)."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = request.url or ""
        for host in X_HOSTS:
            if url.startswith(host):
                request.url = self.base_url + url[len(host) :]
        return super().send(request, **kwargs)


def build_query(hashtag: str, account: str) -> str:
    """Recent-search query for the meeting: its hashtag or mentions of the account, no retweets."""
    terms = []
    if hashtag.strip().lstrip("#"):
        terms.append("#" + hashtag.strip().lstrip("#"))
    if account.strip().lstrip("@"):
        terms.append("@" + account.strip().lstrip("@"))
    if not terms:
        return ""
    return f"({' OR '.join(terms)}) -is:retweet"


class XSource:
    """One meeting's view of X: pages of recent search newer than a ``since_id``."""

    def __init__(self, bearer_token: str, api_url: str = "") -> None:
        # tweepy logs request headers (the token) and bodies (names) at DEBUG
        logging.getLogger("tweepy").setLevel(logging.INFO)
        self.client = tweepy.Client(bearer_token=bearer_token, wait_on_rate_limit=False)
        if api_url:
            adapter = RedirectAdapter(api_url)
            for host in X_HOSTS:
                self.client.session.mount(host + "/", adapter)
        self.headers: Mapping[str, str] = {}
        self.client.session.hooks["response"].append(self._remember)

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.headers = response.headers

    def poll(self, query: str, since_id: str | None) -> tuple[list[Collected], str | None]:
        """Every post newer than ``since_id`` (all pages), and the newest id to resume from."""
        items: list[Collected] = []
        newest: str | None = None
        token: str | None = None
        for _ in range(MAX_PAGES):
            page = retry_server_errors(lambda t=token: self._page(query, since_id, t))  # type: ignore[misc]
            meta = page.meta or {}
            if newest is None:
                newest = meta.get("newest_id")
            items.extend(_items(page))
            token = meta.get("next_token")
            if not token:
                break
        return items, newest or since_id

    def _page(self, query: str, since_id: str | None, token: str | None) -> Any:
        try:
            return self.client.search_recent_tweets(
                query,
                since_id=since_id,
                next_token=token,
                max_results=100,
                tweet_fields=TWEET_FIELDS,
                expansions=["author_id"],
                user_fields=["username", "name"],
            )
        except tweepy.TooManyRequests as exc:
            raise RateLimited(reset_time(exc.response.headers)) from None
        except tweepy.TwitterServerError as exc:
            raise ServerError(f"X answered {exc.response.status_code}") from None
        except tweepy.HTTPException as exc:
            raise PlatformError(f"X answered {exc.response.status_code}") from None
        except requests.RequestException as exc:
            raise ServerError(f"X unreachable ({type(exc).__name__})") from None


def _items(page: Any) -> list[Collected]:
    users = {str(u.id): u for u in (page.includes or {}).get("users", [])}
    out = []
    for tweet in page.data or []:
        user = users.get(str(tweet.author_id))
        handle = user.username if user is not None else None
        parent = None
        for ref in tweet.referenced_tweets or []:
            if ref.type in ("replied_to", "quoted"):
                parent = str(ref.id)
        out.append(
            Collected(
                channel="twitter",
                external_id=str(tweet.id),
                text=tweet.text,
                posted_at=tweet.created_at,
                author_name=user.name if user is not None else None,
                author_handle=f"@{handle}" if handle else None,
                permalink=f"https://x.com/{handle or 'i'}/status/{tweet.id}",
                parent_external_id=parent,
            )
        )
    return out
