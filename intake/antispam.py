"""Bot traps for the public form: a honeypot field and a too-fast-to-be-human time trap.

No third-party CAPTCHA: nothing is loaded from elsewhere and nobody solves a puzzle.

* **Form token.** When the question page is first shown it carries a hidden, signed token
  holding a random *form key* and the time the form was shown. The key is the form's
  idempotency key (see :func:`intake.forms.external_id_for`); the time feeds the time trap.
  The token is signed with the app secret, so a script cannot invent an old timestamp.
* **Honeypot.** A text field (``website``) that people never see: moved off-screen by CSS,
  hidden from assistive technology (``aria-hidden``), out of the tab order (``tabindex=-1``)
  and not autofilled. Scripts that fill every field fill it.
* **Single use.** A token sends one question. Sending it again with the *same* question is
  a double click or a retry and gets the same reference; a different question with a used
  token (a script that waited once and then sends a stream) is trapped. The claim is kept
  in Redis for :data:`TOKEN_MAX_AGE`, and older tokens are refused, so it cannot expire
  before its token does. If Redis is down the claim is skipped: questions still go to the
  outbox, and the per-address limit still applies.
* **Time trap.** A send that arrives less than ``settings.min_fill_seconds`` after the form
  was first shown is too fast for a person (the question page *and* the check page lie in
  between).

A trapped send is never silently "accepted" and never thrown away. The person sees the same
check-your-answers page again, with a neutral request to confirm (it does not say why);
nothing is stored. The honeypot is rendered empty again and a missing or forged token is
replaced by a fresh one, so a human passes on their next click; a script that posts at
once, or always fills the honeypot, keeps getting the confirm page. Only the reason code
is logged, never what was typed.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from redis import Redis
from redis.exceptions import RedisError

HONEYPOT_FIELD = "website"
TOKEN_FIELD = "form_token"
_SALT = "openfloor.intake.form-token"
# A form is good for a day; a person who leaves it longer confirms once more.
TOKEN_MAX_AGE = 24 * 3600


@dataclass(frozen=True)
class FormToken:
    """The signed token of one form: its idempotency key and when it was first shown."""

    key: str
    issued_at: float
    signed: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of the bot traps for one send: ``reason`` is empty when it passed."""

    reason: str = ""

    @property
    def passed(self) -> bool:
        return not self.reason


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_SALT)


def issue(secret: str, now: float | None = None) -> FormToken:
    """A new token for a form shown at ``now`` (default: the current time)."""
    key = secrets.token_urlsafe(16)
    issued_at = round(time.time() if now is None else now, 3)
    signed = _serializer(secret).dumps({"k": key, "t": issued_at})
    return FormToken(key=key, issued_at=issued_at, signed=signed)


def read(secret: str, raw: str | None) -> FormToken | None:
    """The token posted back, or None if it is missing, malformed or not signed by us."""
    if not raw or len(raw) > 200:
        return None
    try:
        data: Any = _serializer(secret).loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    key, issued_at = data.get("k"), data.get("t")
    if not isinstance(key, str) or not isinstance(issued_at, int | float):
        return None
    return FormToken(key=key, issued_at=float(issued_at), signed=raw)


def check(
    posted: Mapping[str, str],
    token: FormToken | None,
    min_fill_seconds: float,
    now: float | None = None,
) -> Verdict:
    """Run the traps on a send.

    Reasons: ``honeypot``, ``token`` (missing, forged or too old), ``too-fast``.
    """
    if posted.get(HONEYPOT_FIELD, ""):
        return Verdict("honeypot")
    if token is None:
        return Verdict("token")
    elapsed = (time.time() if now is None else now) - token.issued_at
    if elapsed > TOKEN_MAX_AGE:
        return Verdict("token")
    if elapsed < min_fill_seconds:
        return Verdict("too-fast")
    return Verdict()


def claim(redis: Redis, prefix: str, token: FormToken, question_key: str) -> Verdict:
    """Use ``token`` for the question ``question_key`` names; ``reused`` if it sent another.

    ``question_key`` identifies the question's text (the web channel's external id), so the
    same question sent again passes and is then absorbed as a repeat by the outbox.
    """
    key = f"{prefix}:form-token:{hashlib.sha256(token.key.encode()).hexdigest()[:32]}"
    try:
        if redis.set(key, question_key, nx=True, ex=TOKEN_MAX_AGE + 60):
            return Verdict()
        first = redis.get(key)
    except RedisError:
        return Verdict()
    if first is None or (first.decode() if isinstance(first, bytes) else first) == question_key:
        return Verdict()
    return Verdict("reused")
