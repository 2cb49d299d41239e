"""Who may use the JSON API, and how often: bearer tokens (cached briefly) and rate limits.

Every API request makes one Redis round trip for all of it: a Lua script counts the request
against each of the token's limits (fixed windows, as Flask-Limiter's default), reads the
address's refused-token counter and the token list's version. The version changes when a
token is revoked (:func:`tokens_changed`), which empties this process's token cache at once;
without Redis the cache still forgets a token after :data:`TOKEN_CACHE_SECONDS`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from flask import g, request
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from redis.commands.core import Script
from redis.exceptions import RedisError
from sqlalchemy import bindparam, select

from domain.models import ApiToken
from domain.models.api_token import hash_token
from domain.runtime import Runtime
from domain.web.context import runtime

#: A token looked up in the database is trusted this long without asking again.
TOKEN_CACHE_SECONDS = 2.0
_CACHE_SIZE = 1024

# KEYS[1] refused tokens of the address, KEYS[2] token list version, KEYS[3..] one counter per
# limit; ARGV[i] the window in seconds of KEYS[i + 2]. Returns failures, version, then
# (count, seconds left) per limit.
_CHECK = """
local out = {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('GET', KEYS[2]) or ''}
for i = 3, #KEYS do
  local n = redis.call('INCR', KEYS[i])
  local ttl = redis.call('TTL', KEYS[i])
  if n == 1 or ttl < 0 then
    redis.call('EXPIRE', KEYS[i], ARGV[i - 2])
    ttl = tonumber(ARGV[i - 2])
  end
  out[#out + 1] = n
  out[#out + 1] = ttl
end
return out
"""


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


@dataclass(frozen=True)
class Verdict:
    """The outcome of counting one request."""

    refused_tokens: int  # refused tokens from this address in the current minute
    exceeded: RateLimitItem | None  # the limit this request went over, if any
    headers: dict[str, str]


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
_script = Script(None, _CHECK.encode())  # type: ignore[arg-type]  # bytes: no client needed
_memory = FixedWindowRateLimiter(MemoryStorage())


@lru_cache(maxsize=16)
def _limits(spec: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(spec))


def _version_key(rt: Runtime) -> str:
    return f"{rt.prefix}:api-tokens-version"


def failures_key(rt: Runtime, address: str) -> str:
    """Redis key counting refused tokens from one address."""
    return f"{rt.prefix}:api-auth-failures:{address}"


def count_request(rt: Runtime, rate_key: str, address: str) -> Verdict:
    """Count this request against the API rate limit of ``rate_key``: one Redis round trip.

    If Redis does not answer, the limits are counted in this process's memory instead (a
    question must never be refused because Redis is down) and refused tokens are not counted.
    """
    items = _limits(rt.settings.api_rate_limit)
    keys = [f"{rt.prefix}-limits:api:{rate_key}:{i.amount}/{i.get_expiry()}" for i in items]
    now = time.time()
    try:
        out = _script(
            keys=[failures_key(rt, address), _version_key(rt), *keys],
            args=[item.get_expiry() for item in items],
            client=rt.redis,
        )
        refused, version = int(out[0]), out[1]
        _tokens.seen_version(version if isinstance(version, bytes) else str(version).encode())
        counts = [(int(out[2 + 2 * i]), int(out[3 + 2 * i])) for i in range(len(items))]
    except RedisError:
        refused = 0
        counts = []
        for item, key in zip(items, keys, strict=True):
            allowed = _memory.hit(item, key)
            stats = _memory.get_window_stats(item, key)
            count = item.amount - stats.remaining if allowed else item.amount + 1
            counts.append((count, max(0, int(stats.reset_time - now))))
    exceeded: RateLimitItem | None = None
    tightest: tuple[int, RateLimitItem, int] | None = None
    for item, (count, left) in zip(items, counts, strict=True):
        remaining = item.amount - count
        if remaining < 0 and exceeded is None:
            exceeded = item
        if tightest is None or remaining < tightest[0]:
            tightest = (remaining, item, left)
    headers: dict[str, str] = {}
    if tightest is not None:
        remaining, item, left = tightest
        headers = {
            "X-RateLimit-Limit": str(item.amount),
            "X-RateLimit-Remaining": str(max(0, remaining)),
            "X-RateLimit-Reset": str(int(now) + max(left, 0)),
        }
        if exceeded is not None:
            headers["Retry-After"] = str(max(left, 1))
    return Verdict(refused, exceeded, headers)


_TOKEN = select(ApiToken.id, ApiToken.revoked_at).where(ApiToken.token_hash == bindparam("digest"))


def lookup(rt: Runtime, token: str) -> TokenInfo | None:
    """The token's id and state, from this process's cache when it is fresh enough."""
    digest = hash_token(token)
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
    """Tell every web process that a token was revoked: their caches are emptied at once."""
    rt.redis.incr(_version_key(rt))


def bearer() -> str | None:
    """The request's bearer token, if it sent one."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _rate_key() -> str:
    """Per token (by its hash), or per address for requests without one."""
    token = bearer()
    if token:
        return "api-token:" + hash_token(token)[:32]
    return "api-anon:" + (get_remote_address() or "")


def authenticate() -> TokenInfo:
    """Count the request against the rate limits, then check its bearer token."""
    rt = runtime()
    address = get_remote_address() or ""
    verdict = count_request(rt, _rate_key(), address)
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
    token = bearer()
    row = lookup(rt, token) if token is not None else None
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
