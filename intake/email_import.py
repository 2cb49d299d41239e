"""Email import: questions sent to the OPCC mailbox, read over IMAP or from a folder of .eml.

Each message becomes one submission (channel ``email``) through :func:`intake.submit.submit`,
keyed by its Message-ID, so running the import again stores nothing twice. The sender's
display name gives the first name only; the address is kept as the contact email. The
question is the subject plus the body (plain text preferred, HTML turned into text without
its markup), with quoted replies, signatures and sign-offs trimmed; attachments are ignored.

In IMAP, messages are read with ``BODY.PEEK[]`` (reading does not mark them) and marked
``\\Seen`` only once the question is stored, then moved if ``move_to`` is set. A message that
cannot become a question (empty, too long) is marked ``\\Flagged`` and left unread for a
person; later runs skip it. Automatic replies are marked read and skipped.
"""

from __future__ import annotations

import contextlib
import email
import hashlib
import imaplib
import logging
import re
import shutil
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import Protocol

from domain.models import Channel, Meeting
from domain.runtime import Runtime
from intake.submit import submit
from intake.validation import NAME_LIMIT, Validation, validate_submission

log = logging.getLogger(__name__)

EXTERNAL_ID_LIMIT = 200


class AutomaticReply(Exception):
    """An out-of-office reply, bounce or other machine-sent message: not a question."""


class MailboxError(RuntimeError):
    """The mailbox could not be reached, logged in to, or changed."""


@dataclass(frozen=True)
class EmailQuestion:
    """What one email contributes: text, sender's first name and address, and when."""

    external_id: str
    text: str
    first_name: str | None
    address: str | None
    received_at: datetime | None


# --- parsing ------------------------------------------------------------------------------


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
    return moment.astimezone(UTC)


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


def body_text(msg: EmailMessage) -> str:
    """The message's own words: plain text preferred, else HTML as text; replies trimmed."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = _decoded(part)
    if part.get_content_type() == "text/html":
        text = html_to_text(content)
    else:
        text = content
        if str(part.get_param("format", "")).lower() == "flowed":
            delsp = str(part.get_param("delsp", "")).lower() == "yes"
            text = unflow(text, delsp=delsp)
    return trim_reply(text)


def _decoded(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, ValueError, AssertionError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def unflow(text: str, *, delsp: bool = False) -> str:
    """Undo RFC 3676 format=flowed soft line breaks (a line ending in a space continues)."""
    out: list[str] = []
    current = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        if line != "-- " and line.endswith(" "):
            current += line[:-1] if delsp else line
            continue
        out.append(current + line)
        current = ""
    if current:
        out.append(current)
    return "\n".join(out)


class _TextExtractor(HTMLParser):
    """Text content of an HTML body; scripts, styles and quoted blocks left out."""

    SKIP = frozenset({"script", "style", "head", "title", "blockquote", "template", "noscript"})
    BLOCK = frozenset(
        {
            "p", "div", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
            "section", "article", "header", "footer", "hr", "pre", "address",
        }
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip_depth += 1
        elif tag == "br" or tag in self.BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" or tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Plain text of an HTML email: tags dropped (never interpreted), entities decoded."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_ON_WROTE = re.compile(r"^on\b.{0,200}\bwrote:?$", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^(-{2,}\s*original message\s*-{2,}|_{8,}|-{8,}|={8,}|begin forwarded message:?)$",
    re.IGNORECASE,
)
_MOBILE = re.compile(
    r"^(sent from my \w+|sent from (outlook|mail|yahoo mail)\b|get outlook for \w+)",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(r"^(sent|date|to|subject|cc):", re.IGNORECASE)
_VALEDICTION = re.compile(
    r"^((kind|best|warm|warmest|many|with)\s+)?"
    r"(regards|wishes|thanks|thank you|cheers|yours( sincerely| faithfully| truly)?|sincerely"
    r"|all the best|thanks in advance|regards and thanks)[\s,.!]*$",
    re.IGNORECASE,
)


def trim_reply(text: str) -> str:
    """Cut quoted replies, signatures, phone footers and the sign-off block at the end."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if line.rstrip() == "--" or _SEPARATOR.match(stripped) or _MOBILE.match(stripped):
            break
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if _ON_WROTE.match(stripped) or (
            stripped.lower().startswith("on ") and _ON_WROTE.match(f"{stripped} {following}")
        ):
            break
        if stripped.lower().startswith("from:") and any(
            _HEADER_LINE.match(x.strip()) for x in lines[i + 1 : i + 4]
        ):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    return _trim_sign_off("\n".join(kept)).strip()


def _trim_sign_off(text: str) -> str:
    lines = text.rstrip().split("\n")
    content = [i for i, line in enumerate(lines) if line.strip()]
    # Only the last few lines can be a sign-off ("Kind regards,\nKath\n07700 900123").
    for index in reversed(content[-6:]):
        if _VALEDICTION.match(lines[index].strip()):
            after = [line.strip() for line in lines[index + 1 :] if line.strip()]
            if len(after) <= 4 and all(len(line) <= 60 for line in after):
                return "\n".join(lines[:index])
            break
    return text


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


# --- sources ------------------------------------------------------------------------------


class MailSource(Protocol):
    """Where messages come from and how a handled one is marked."""

    def messages(self) -> Iterator[tuple[str, bytes]]:
        """(label, raw message) for each message still to import."""
        ...

    def done(self, label: str) -> None:
        """The message is stored (or was already): do not offer it again."""
        ...

    def skipped(self, label: str) -> None:
        """An automatic reply: not a question, do not offer it again."""
        ...

    def problem(self, label: str) -> None:
        """Not importable: leave it for a person."""
        ...


class FolderSource:
    """A folder of ``.eml`` files; handled ones are moved to ``move_to`` when it is given."""

    def __init__(self, folder: Path, move_to: Path | None = None) -> None:
        if not folder.is_dir():
            raise MailboxError(f"{folder} is not a folder")
        self.folder = folder
        self.move_to = move_to

    def messages(self) -> Iterator[tuple[str, bytes]]:
        for path in sorted(self.folder.glob("*.eml")):
            yield path.name, path.read_bytes()

    def done(self, label: str) -> None:
        if self.move_to is not None:
            self.move_to.mkdir(parents=True, exist_ok=True)
            shutil.move(str(self.folder / label), str(self.move_to / label))

    def skipped(self, label: str) -> None:
        self.done(label)

    def problem(self, label: str) -> None:
        """Left where it is, to be read by a person."""


class ImapSource:
    """An IMAP4rev1 mailbox (SSL by default). Use as a context manager."""

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        user: str,
        password: str,
        use_ssl: bool = True,
        mailbox: str = "INBOX",
        move_to: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port or (993 if use_ssl else 143)
        self.user = user
        self.password = password
        self.use_ssl = use_ssl
        self.mailbox = mailbox
        self.move_to = move_to
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.conn: imaplib.IMAP4 | None = None

    def __enter__(self) -> ImapSource:
        try:
            if self.use_ssl:
                context = self.ssl_context or ssl.create_default_context()
                self.conn = imaplib.IMAP4_SSL(
                    self.host, self.port, ssl_context=context, timeout=self.timeout
                )
            else:
                self.conn = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"could not connect to {self.host}:{self.port} ({exc})") from exc
        try:
            self.conn.login(self.user, self.password)
        except imaplib.IMAP4.error as exc:
            self._shutdown()
            raise MailboxError(f"the mail server refused the login for {self.user}") from exc
        typ, _ = self.conn.select(_quote(self.mailbox))
        if typ != "OK":
            self._shutdown()
            raise MailboxError(f"mailbox {self.mailbox} could not be opened")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.conn is None:
            return
        try:
            if self.conn.state == "SELECTED":
                self.conn.close()
            self.conn.logout()
        except (OSError, imaplib.IMAP4.error):
            self._shutdown()
        self.conn = None

    def _shutdown(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.shutdown()
            self.conn = None

    @property
    def _c(self) -> imaplib.IMAP4:
        if self.conn is None:
            raise MailboxError("not connected")
        return self.conn

    def _ok(self, what: str, response: tuple[str, list[object]]) -> list[object]:
        typ, data = response
        if typ != "OK":
            raise MailboxError(f"the mail server refused to {what}")
        return data

    def messages(self) -> Iterator[tuple[str, bytes]]:
        data = self._ok("search", self._c.uid("SEARCH", "UNSEEN", "UNFLAGGED"))
        first = data[0] if data else b""
        uids = first.decode().split() if isinstance(first, bytes) else []
        for uid in uids:
            fetched = self._ok("fetch a message", self._c.uid("FETCH", uid, "(BODY.PEEK[])"))
            raw = next(
                (p[1] for p in fetched if isinstance(p, tuple) and isinstance(p[1], bytes)), None
            )
            if raw is not None:
                yield uid, raw

    def _flag(self, label: str, flag: str) -> None:
        self._ok("mark a message", self._c.uid("STORE", label, "+FLAGS", f"({flag})"))

    def done(self, label: str) -> None:
        self._flag(label, "\\Seen")
        if self.move_to:
            target = _quote(self.move_to)
            if "MOVE" in self._c.capabilities:
                self._ok(f"move a message to {self.move_to}", self._c.uid("MOVE", label, target))
            else:
                # Without MOVE (RFC 6851): copy, mark deleted, expunge. Plain EXPUNGE also
                # removes other messages already marked deleted in this mailbox, which is
                # what a mail client would do on closing it.
                self._ok(f"copy a message to {self.move_to}", self._c.uid("COPY", label, target))
                self._flag(label, "\\Deleted")
                self._ok("expunge", self._c.expunge())

    def skipped(self, label: str) -> None:
        self._flag(label, "\\Seen")

    def problem(self, label: str) -> None:
        self._flag(label, "\\Flagged")


def _quote(mailbox: str) -> str:
    """A mailbox name as an IMAP quoted string."""
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- importing ----------------------------------------------------------------------------


@dataclass
class EmailReport:
    """Counts, and one line per message a person needs to look at (no personal data)."""

    created: int = 0
    duplicates: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.created} new question(s), {self.duplicates} already imported, "
            f"{self.skipped} automatic repl(ies) skipped, {len(self.problems)} need a person"
        )


def import_mail(rt: Runtime, meeting: Meeting, source: MailSource) -> EmailReport:
    """Import every message ``source`` offers into ``meeting``."""
    report = EmailReport()
    for label, raw in source.messages():
        try:
            parsed = parse_email(raw)
        except AutomaticReply:
            source.skipped(label)
            report.skipped += 1
            continue
        except Exception as exc:  # a message we cannot read must not stop the others
            # The exception's text may quote the message, and a file name may be a person's
            # name: log the exception's type only (the command's report names the message).
            log.warning("an email could not be parsed (%s)", type(exc).__name__)
            source.problem(label)
            report.problems.append(f"{label}: could not be read as an email")
            continue
        result = _validate(parsed, meeting)
        if result.clean is None:
            source.problem(label)
            report.problems.append(f"{label}: " + "; ".join(result.short_messages()))
            continue
        receipt = submit(
            rt,
            meeting,
            channel=Channel.EMAIL.value,
            text=result.clean.text,
            external_id=parsed.external_id,
            author_name=result.clean.author_name,
            contact_email=result.clean.contact_email,
            received_at=parsed.received_at,
        )
        source.done(label)
        if receipt.duplicate:
            report.duplicates += 1
        else:
            report.created += 1
    log.info(
        "email import into meeting %s: %d new, %d duplicates, %d skipped, %d problems",
        meeting.id,
        report.created,
        report.duplicates,
        report.skipped,
        len(report.problems),
    )
    return report


def _validate(parsed: EmailQuestion, meeting: Meeting) -> Validation:
    name, address = parsed.first_name, parsed.address
    result = validate_submission(text=parsed.text, name=name, email=address, meeting=meeting)
    # The name and address come from headers, not from the sender typing them: if they do
    # not pass, keep the question without them rather than lose it.
    fields = {e.field for e in result.errors}
    if fields and fields <= {"name", "email"}:
        result = validate_submission(
            text=parsed.text,
            name=None if "name" in fields else name,
            email=None if "email" in fields else address,
            meeting=meeting,
        )
    return result
