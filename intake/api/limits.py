"""The API's rate limits: counted in Redis, spent from a per-process lease between answers.

Each limit is a fixed window (as Flask-Limiter's default) counted in Redis. A Redis answer
grants this process a *lease*: a few requests of that window it may admit without asking
again. A lease is at most :data:`LEASE_MOST` requests and never more than a
:data:`LEASE_SHARE`-th of what the window has left, so far from the limit most requests make
no Redis call, and near it every request asks Redis, one by one: the limit is never exceeded.
A lease a process does not spend stays counted, so a window may end a few requests short of
its limit (at most a :data:`LEASE_SHARE`-th of it per process).

The same Redis call reads the address's refused-token count and the token list's version
(``intake.api.access`` empties its token cache when the version changes). A lease is spent
only by a request whose token this process already knows to be valid, and only within
:data:`FRESH_SECONDS` of the last Redis answer: a revocation announced through Redis stops
a token within that time. Without Redis the limits are counted in this process's memory.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from redis.commands.core import Script
from redis.exceptions import RedisError

from domain.runtime import Runtime

#: Most requests one Redis answer lets a process admit on its own.
LEASE_MOST = 32
#: A lease is never more than this fraction (1/n) of what is left in the window.
LEASE_SHARE = 8
#: A lease is spent only this long after the last Redis answer (revocations reach it so).
FRESH_SECONDS = 0.25
#: Leases kept per process (one per token and limit); beyond it they are all dropped.
_MAX_LEASES = 4096

# KEYS[1] refused tokens of the address, KEYS[2] token list version, KEYS[3..] one counter per
# limit. ARGV[1] the lease share, ARGV[2] the largest lease, then (window seconds, amount) per
# limit. Returns failures, version, then (count, seconds left, granted) per limit; the count
# includes the whole grant, and this request is the grant's first.
_CHECK = """
local share, most = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('GET', KEYS[2]) or ''}
for i = 3, #KEYS do
  local window, amount = tonumber(ARGV[2 * i - 3]), tonumber(ARGV[2 * i - 2])
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  local grant = math.max(1, math.min(most, math.floor((amount - used) / share)))
  local n = redis.call('INCRBY', KEYS[i], grant)
  local ttl = redis.call('TTL', KEYS[i])
  if n == grant or ttl < 0 then
    redis.call('EXPIRE', KEYS[i], window)
    ttl = window
  end
  out[#out + 1] = n
  out[#out + 1] = ttl
  out[#out + 1] = grant
end
return out
"""


@dataclass(frozen=True)
class Verdict:
    """The outcome of counting one request."""

    refused_tokens: int  # refused tokens from this address in the current minute
    exceeded: RateLimitItem | None  # the limit this request went over, if any
    headers: dict[str, str]
    version: bytes | None = None  # the token list's version, when Redis answered


@dataclass
class _Lease:
    """What one Redis answer left this process of one window."""

    left: int  # requests it may still admit on its own
    count: int  # the window's count at that answer, every lease included
    ends: float  # monotonic time the window ends
    reset: int  # the same, as a Unix time (the X-RateLimit-Reset header)
    answered: float  # monotonic time of the answer


_script = Script(None, _CHECK.encode())  # type: ignore[arg-type]  # bytes: no client needed
_memory = FixedWindowRateLimiter(MemoryStorage())
_leases: dict[str, _Lease] = {}
_lock = threading.Lock()


@lru_cache(maxsize=16)
def limits_of(spec: str) -> tuple[RateLimitItem, ...]:
    """The parsed limits of a setting such as ``"600 per minute"``."""
    return tuple(parse_many(spec))


def failures_key(rt: Runtime, address: str) -> str:
    """Redis key counting refused tokens from one address."""
    return f"{rt.prefix}:api-auth-failures:{address}"


def version_key(rt: Runtime) -> str:
    """Redis key of the token list's version (incremented on every revocation)."""
    return f"{rt.prefix}:api-tokens-version"


def _keys(rt: Runtime, rate_key: str, items: tuple[RateLimitItem, ...]) -> list[str]:
    return [f"{rt.prefix}-limits:api:{rate_key}:{i.amount}/{i.get_expiry()}" for i in items]


def spend_lease(rt: Runtime, rate_key: str) -> Verdict | None:
    """Admit the request on this process's leases, with no Redis call; None if it cannot."""
    items = limits_of(rt.settings.api_rate_limit)
    keys = _keys(rt, rate_key, items)
    now = time.monotonic()
    with _lock:
        leases = [_leases.get(key) for key in keys]
        for lease in leases:
            if lease is None or lease.left < 1 or now >= lease.ends:
                return None
            if now - lease.answered > FRESH_SECONDS:
                return None
        for lease in leases:
            lease.left -= 1  # type: ignore[union-attr]
        counts = [(lease.count - lease.left, lease.reset) for lease in leases]  # type: ignore[union-attr]
    return Verdict(0, None, _headers(items, counts))


def count_request(rt: Runtime, rate_key: str, address: str) -> Verdict:
    """Count this request in Redis (one round trip) and take a lease for the next ones.

    If Redis does not answer, the limits are counted in this process's memory instead (a
    question must never be refused because Redis is down) and refused tokens are not counted.
    """
    items = limits_of(rt.settings.api_rate_limit)
    keys = _keys(rt, rate_key, items)
    args: list[int] = [LEASE_SHARE, LEASE_MOST]
    for item in items:
        args += [item.get_expiry(), item.amount]
    wall = time.time()
    try:
        out = _script(keys=[failures_key(rt, address), version_key(rt), *keys], args=args,
                      client=rt.redis)  # fmt: skip
    except RedisError:
        return Verdict(0, *_in_memory(items, keys, wall))
    now = time.monotonic()
    version = out[1] if isinstance(out[1], bytes) else str(out[1]).encode()
    counts: list[tuple[int, int]] = []
    exceeded: RateLimitItem | None = None
    with _lock:
        if len(_leases) >= _MAX_LEASES:
            _leases.clear()
        for i, (item, key) in enumerate(zip(items, keys, strict=True)):
            count, ttl, grant = (int(v) for v in out[2 + 3 * i : 5 + 3 * i])
            if count - grant + 1 > item.amount and exceeded is None:
                exceeded = item
            reset = int(wall) + max(ttl, 0)
            _leases[key] = _Lease(grant - 1, count, now + max(ttl, 0), reset, now)
            counts.append((count - (grant - 1), reset))
        if exceeded is not None:
            for key in keys:
                _leases[key].left = 0
    return Verdict(int(out[0]), exceeded, _headers(items, counts, exceeded), version)


def _in_memory(
    items: tuple[RateLimitItem, ...], keys: list[str], wall: float
) -> tuple[RateLimitItem | None, dict[str, str]]:
    counts: list[tuple[int, int]] = []
    exceeded: RateLimitItem | None = None
    for item, key in zip(items, keys, strict=True):
        allowed = _memory.hit(item, key)
        stats = _memory.get_window_stats(item, key)
        counts.append((item.amount - stats.remaining if allowed else item.amount + 1,
                       int(stats.reset_time)))  # fmt: skip
        if not allowed and exceeded is None:
            exceeded = item
    return exceeded, _headers(items, counts, exceeded)


def _headers(
    items: tuple[RateLimitItem, ...],
    counts: list[tuple[int, int]],
    exceeded: RateLimitItem | None = None,
) -> dict[str, str]:
    """X-RateLimit-* of the tightest limit, from (requests counted, reset time) per limit."""
    tightest = min(zip(items, counts, strict=True), key=lambda p: p[0].amount - p[1][0],
                   default=None)  # fmt: skip
    if tightest is None:
        return {}
    item, (count, reset) = tightest
    headers = {
        "X-RateLimit-Limit": str(item.amount),
        "X-RateLimit-Remaining": str(max(0, item.amount - count)),
        "X-RateLimit-Reset": str(reset),
    }
    if exceeded is not None:
        headers["Retry-After"] = str(max(reset - int(time.time()), 1))
    return headers
