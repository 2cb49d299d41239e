"""Reading one email into a question: who sent it, when, and what they asked.

The sender's display name gives the first name only; the address is kept as the contact
email. The question is the subject plus the body (see :mod:`intake.email.body`). The
Message-ID identifies the message (a hash of its content when it has none), so importing it
again stores nothing twice. Automatic replies and bounces raise :class:`AutomaticReply`.
"""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

from intake.email.body import body_text
from intake.validation import NAME_LIMIT

EXTERNAL_ID_LIMIT = 200


class AutomaticReply(Exception):
    """An out-of-office reply, bounce or other machine-sent message: not a question."""


@dataclass(frozen=True)
class EmailQuestion:
    """What one email contributes: text, sender's first name and address, and when."""

    external_id: str
    text: str
    first_name: str | None
    address: str | None
    received_at: datetime | None


def parse_email(raw: bytes) -> EmailQuestion:
    """Turn one RFC 5322 message into an :class:`EmailQuestion`.

    Raises :class:`AutomaticReply` for machine-sent mail.
    """
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    if _is_automatic(msg):
        raise AutomaticReply()
    display, address = _sender(msg)
    subject = _header(msg, "Subject")
    body = body_text(msg)
    return EmailQuestion(
        external_id=_external_id(msg, raw),
        text=compose_text(subject, body),
        first_name=first_name(display),
        address=address,
        received_at=_date(msg),
    )


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError):  # malformed header
        return ""
    return " ".join(str(value or "").split())


def _is_automatic(msg: EmailMessage) -> bool:
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if _header(msg, "Precedence").lower() in {"bulk", "junk", "auto_reply"}:
        return True
    if msg.get("X-Autoreply") or msg.get("X-Autorespond"):
        return True
    if msg.get_content_type() == "multipart/report":
        return True
    _, address = _sender(msg)
    local = (address or "").split("@")[0].lower()
    return local in {"mailer-daemon", "postmaster"}


def _sender(msg: EmailMessage) -> tuple[str, str | None]:
    try:
        header = msg["From"]
        addresses = getattr(header, "addresses", ()) if header is not None else ()
    except (ValueError, IndexError, TypeError):
        return "", None
    if not addresses:
        return "", None
    first = addresses[0]
    return str(first.display_name or ""), (str(first.addr_spec or "").strip() or None)


def _external_id(msg: EmailMessage, raw: bytes) -> str:
    message_id = _header(msg, "Message-ID").strip().strip("<>").strip()
    if message_id and len(message_id) <= EXTERNAL_ID_LIMIT:
        return message_id
    # No (usable) Message-ID: the content itself identifies the message.
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _date(msg: EmailMessage) -> datetime | None:
    value = _header(msg, "Date")
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # "31 Dec 9999 23:59:59 -0100" is after the last UTC moment
        return None


_TITLES = {
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "rev", "revd",
    "cllr", "councillor", "lord", "lady",
}  # fmt: skip


def first_name(display: str) -> str | None:
    """'Kath Jones', 'Jones, Kath' and 'Mrs Kath Jones' all give 'Kath'; addresses give None."""
    name = " ".join(display.replace('"', " ").split()).strip("'")
    if not name or "@" in name:
        return None
    if "," in name:
        surname, _, given = name.partition(",")
        name = given.strip() or surname.strip()
    parts = name.split()
    while parts and parts[0].lower().rstrip(".") in _TITLES:
        parts.pop(0)
    if not parts:
        return None
    first = parts[0].strip(".,;:()[]<>'")
    if len(first) < 2 or not any(ch.isalpha() for ch in first):
        return None
    if first.isupper() or first.islower():
        first = first.capitalize()
    return first[:NAME_LIMIT]


_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def compose_text(subject: str, body: str) -> str:
    """Subject then body, unless the subject adds nothing (empty, or the body repeats it)."""
    subject = _REPLY_PREFIX.sub("", subject).strip()
    body = body.strip()
    if not subject:
        return body
    if not body:
        return subject
    squashed = " ".join(body.split()).lower()
    if squashed.startswith(" ".join(subject.split()).lower()):
        return body
    return f"{subject}\n\n{body}"
