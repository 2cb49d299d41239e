"""An IMAP mailbox as a source of emails to import.

Messages are read with ``BODY.PEEK[]`` (reading does not mark them) and marked ``\\Seen``
only once the question is stored, then moved if ``move_to`` is set. A message that cannot
become a question (empty, too long) is marked ``\\Flagged`` and left unread for a person;
later runs skip it. Automatic replies are marked read and skipped.
"""

from __future__ import annotations

import contextlib
import imaplib
import ssl
from collections.abc import Iterator
from types import TracebackType

from intake.email.sources import MailboxError


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
