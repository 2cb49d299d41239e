"""Who may use the JSON API, and how often: bearer tokens (cached briefly) and rate limits.

A request makes at most one Redis round trip (``intake.api.limits``): it counts the request
against the token's limits, reads the address's refused-token counter and the token list's
version, and leases this process a few more requests. A request whose token this process
already knows to be valid is admitted on that lease with no Redis call at all. The version
changes when a token is revoked (:func:`tokens_changed`, which returns once every process has
seen it); without Redis the cache still forgets a token after :data:`TOKEN_CACHE_SECONDS`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass

from flask import g, request
from flask_limiter.util import get_remote_address
from redis.exceptions import RedisError
from sqlalchemy import bindparam, select

from domain.models import ApiToken
from domain.models.api_token import hash_token
from domain.runtime import Runtime
from domain.web.context import runtime
from intake.api.limits import (
    FRESH_SECONDS,
    count_request,
    failures_key,
    spend_lease,
    version_key,
)

#: A token looked up in the database is trusted this long without asking again.
TOKEN_CACHE_SECONDS = 2.0
_CACHE_SIZE = 1024

# Guessing tokens: after this many refused tokens in a minute an address must wait.
AUTH_FAILURES_PER_MINUTE = 30


class ApiError(Exception):
    """An error answered as ``{"error": code, "message": ..., "errors": {...}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors = errors
        self.headers = headers or {}


@dataclass(frozen=True)
class TokenInfo:
    """What a request needs of its token: the id (its submissions' namespace) and state."""

    id: int
    active: bool


class _TokenCache:
    """token hash → (TokenInfo, time looked up), for one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[TokenInfo, float]] = {}
        self.version: bytes | None = None

    def get(self, digest: str) -> TokenInfo | None:
        hit = self._rows.get(digest)
        if hit is None or time.monotonic() - hit[1] > TOKEN_CACHE_SECONDS:
            return None
        return hit[0]

    def put(self, digest: str, info: TokenInfo) -> None:
        with self._lock:
            if len(self._rows) >= _CACHE_SIZE:
                self._rows.clear()
            self._rows[digest] = (info, time.monotonic())

    def seen_version(self, version: bytes | None) -> None:
        """Forget every token when the version read from Redis is new."""
        if version is not None and version != self.version:
            with self._lock:
                self._rows.clear()
                self.version = version


_tokens = _TokenCache()


_TOKEN = select(ApiToken.id, ApiToken.revoked_at).where(ApiToken.token_hash == bindparam("digest"))


def lookup(rt: Runtime, digest: str) -> TokenInfo | None:
    """The id and state of the token of this hash, from this process's cache when fresh."""
    info = _tokens.get(digest)
    if info is not None:
        return info
    with rt.db.engine.connect() as conn:
        row = conn.execute(_TOKEN, {"digest": digest}).first()
    if row is None:
        return None  # unknown tokens are not cached: each one is counted as refused
    info = TokenInfo(id=int(row.id), active=row.revoked_at is None)
    _tokens.put(digest, info)
    return info


def tokens_changed(rt: Runtime) -> None:
    """Tell every web process that a token was revoked; once this returns, all refuse it.

    A process admits a request on its lease only within ``FRESH_SECONDS`` of its last Redis
    answer, so after that long every process has asked Redis again and seen the new version.
    """
    rt.redis.incr(version_key(rt))
    time.sleep(FRESH_SECONDS)


def bearer() -> str | None:
    """The request's bearer token, if it sent one."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate() -> TokenInfo:
    """Count the request against the rate limits, then check its bearer token."""
    rt = runtime()
    address = get_remote_address() or ""
    token = bearer()
    digest = hash_token(token) if token is not None else None
    # per token (by its hash), or per address for requests without one
    rate_key = "api-token:" + digest[:32] if digest else "api-anon:" + address
    known = _tokens.get(digest) if digest else None
    verdict = spend_lease(rt, rate_key) if known is not None and known.active else None
    if verdict is None:
        verdict = count_request(rt, rate_key, address)
        _tokens.seen_version(verdict.version)
    g.api_rate_headers = verdict.headers
    if verdict.exceeded is not None:
        raise ApiError(
            429, "rate_limited", f"Rate limit exceeded: {verdict.exceeded}",
            headers={"Retry-After": verdict.headers.get("Retry-After", "60")},
        )  # fmt: skip
    # Each guessed token would get its own rate-limit bucket: count refusals per address.
    if verdict.refused_tokens >= AUTH_FAILURES_PER_MINUTE:
        raise ApiError(
            429, "rate_limited", "Too many refused tokens; wait a minute",
            headers={"Retry-After": "60"},
        )  # fmt: skip
    # looked up again, not ``known``: a new version read just now may have emptied the cache
    row = lookup(rt, digest) if digest is not None else None
    if row is None or not row.active:
        key = failures_key(rt, address)
        with contextlib.suppress(RedisError):
            if rt.redis.incr(key) == 1:
                rt.redis.expire(key, 60)
    challenge = {"WWW-Authenticate": 'Bearer realm="openfloor"'}
    if token is None:
        raise ApiError(
            401,
            "unauthorized",
            "Send your partner token as 'Authorization: Bearer <token>'",
            headers=challenge,
        )
    if row is None:
        raise ApiError(401, "unauthorized", "This token is not valid", headers=challenge)
    if not row.active:
        raise ApiError(403, "forbidden", "This token has been revoked")
    return row
