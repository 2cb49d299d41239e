"""Replies on the channel a question came from: a reply post on X, a comment reply on Facebook.

Posting is not idempotent on either platform, so the caller claims the delivery first and marks
it "handing over" just before the request (see ``workers.answers``). What comes back decides:
the platform's refusal is an answer (nothing was posted); a connection that fails before the
request is sent is safe to try again; a connection lost after it was sent is *unconfirmed*.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import requests
import tweepy

from domain.settings import Settings
from intake.social.backoff import PlatformError, RateLimited, ServerError
from intake.social.credentials import MissingCredentials, token
from intake.social.facebook import check
from intake.social.x import X_HOSTS, RedirectAdapter

#: X counts a link as 23 characters; the reply stays well inside 280.
X_LIMIT = 280


class ReplyRefused(Exception):
    """The platform answered and posted nothing; ``permanent`` when trying again cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class ReplyNotSent(Exception):
    """The request never left (no connection, no credentials): safe to try again."""


class ReplyUnknown(Exception):
    """The request was sent and the answer lost: the reply may exist."""


def reply_text(answers_url: str) -> str:
    """The short public reply: where the written answer is (no names, no question text)."""
    return (
        "Thank you for your question to the Police and Crime Commissioner. It was not reached "
        f"in the meeting; our written answer is here: {answers_url}"
    )


def reply_on_x(settings: Settings, in_reply_to: str, text: str) -> str:
    """Post ``text`` as a reply to post ``in_reply_to`` with the PCC account's user token."""
    try:
        bearer = token(settings, "X_REPLY_TOKEN")
    except MissingCredentials as exc:
        raise ReplyNotSent(str(exc)) from None
    logging.getLogger("tweepy").setLevel(logging.INFO)  # DEBUG would log the token
    client = tweepy.Client(bearer_token=bearer, wait_on_rate_limit=False)
    if settings.x_api_url:
        adapter = RedirectAdapter(settings.x_api_url)
        for host in X_HOSTS:
            client.session.mount(host + "/", adapter)
    try:
        response: Any = client.create_tweet(
            text=text[:X_LIMIT], in_reply_to_tweet_id=in_reply_to, user_auth=False
        )
    except (tweepy.TooManyRequests, tweepy.TwitterServerError) as exc:
        raise ReplyRefused(f"X answered {exc.response.status_code}", permanent=False) from None
    except tweepy.HTTPException as exc:
        raise ReplyRefused(f"X answered {exc.response.status_code}", permanent=True) from None
    except (requests.ConnectTimeout, requests.exceptions.SSLError) as exc:
        raise ReplyNotSent(f"X unreachable ({type(exc).__name__})") from None
    except requests.RequestException as exc:
        raise ReplyUnknown(f"X connection lost ({type(exc).__name__})") from None
    return str(response.data["id"])


def reply_on_facebook(settings: Settings, comment_id: str, text: str) -> str:
    """Comment ``text`` in reply to comment ``comment_id`` with the Page token."""
    try:
        page_token = token(settings, "FACEBOOK_ACCESS_TOKEN")
    except MissingCredentials as exc:
        raise ReplyNotSent(str(exc)) from None
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the token travels in the body
    url = f"{settings.graph_api_url.rstrip('/')}/{comment_id}/comments"
    try:
        with httpx.Client(timeout=httpx.Timeout(10.0, read=30.0)) as http:
            response = http.post(url, data={"message": text, "access_token": page_token})
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise ReplyNotSent(f"Graph API unreachable ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise ReplyUnknown(f"Graph API connection lost ({type(exc).__name__})") from None
    try:
        body = check(response)
    except (RateLimited, ServerError) as exc:
        raise ReplyRefused(str(exc), permanent=False) from None
    except PlatformError as exc:
        raise ReplyRefused(str(exc), permanent=True) from None
    return str(body.get("id", ""))
