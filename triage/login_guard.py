"""What makes guessing staff passwords slow and uninformative.

* Every refusal costs one password hash: an unknown email is checked against a dummy hash,
  so the time taken does not tell whether an account exists.
* Per account (a keyed hash of the email, whether or not the account exists) a few wrong
  passwords are free; then the account is locked for ``login_lockout_seconds``, doubling
  with each further failure up to :data:`MAX_LOCK_SECONDS`. This is on top of the
  per-address limit, which a botnet spreads thin. Counts live in Redis; if Redis is down
  the lockout is skipped (signing in must still work on meeting night).
* ``next`` after sign-in is followed only to a path on this site.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from functools import cache
from urllib.parse import urlsplit

from redis.exceptions import RedisError
from werkzeug.security import check_password_hash, generate_password_hash

from domain.models import StaffUser
from domain.runtime import Runtime

MAX_LOCK_SECONDS = 15 * 60
# Failures are forgotten this long after the last one.
FAILURE_MEMORY_SECONDS = 3600


@cache
def _dummy_hash() -> str:
    # Same method and cost as real hashes (werkzeug's default), for a password nobody knows.
    return generate_password_hash(secrets.token_urlsafe(24))


def password_matches(user: StaffUser | None, password: str) -> bool:
    """True if ``user`` is active and ``password`` is theirs; always costs one hash."""
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return False
    matches = user.check_password(password)
    return matches and user.active


def _account_key(rt: Runtime, email: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{rt.prefix}:login:{digest}"


def locked_for(rt: Runtime, email: str, secret: str) -> int:
    """Whole seconds this account stays locked (0 when it is not)."""
    try:
        remaining = rt.redis.pttl(_account_key(rt, email, secret) + ":lock")
    except RedisError:
        return 0
    return math.ceil(int(remaining) / 1000) if int(remaining) > 0 else 0


def record_failure(rt: Runtime, email: str, secret: str) -> None:
    """Count a wrong password; past the free attempts, lock with exponential back-off."""
    settings = rt.settings
    key = _account_key(rt, email, secret)
    try:
        failures = int(rt.redis.incr(key + ":failures"))
        rt.redis.expire(key + ":failures", FAILURE_MEMORY_SECONDS)
        over = failures - settings.login_free_attempts
        if over >= 0:
            seconds = min(settings.login_lockout_seconds * 2**over, MAX_LOCK_SECONDS)
            rt.redis.set(key + ":lock", "1", px=max(1, int(seconds * 1000)))
    except RedisError:
        return


def record_success(rt: Runtime, email: str, secret: str) -> None:
    """A correct password clears the account's failures."""
    key = _account_key(rt, email, secret)
    try:
        rt.redis.delete(key + ":failures", key + ":lock")
    except RedisError:
        return


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None.

    Browsers drop tabs and newlines and read a backslash as a slash, so ``/\\t/evil.example``
    and ``/\\evil.example`` lead off-site: anything but plain printable ASCII is refused.
    """
    if not target or len(target) > 2000:
        return None
    if not all(33 <= ord(ch) < 127 for ch in target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
