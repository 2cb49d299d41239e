"""Outgoing email over SMTP (smtplib), configured from the settings.

The conversation is split so the caller can record, between RCPT and DATA, that the message is
about to be handed over: before that point the server has accepted nothing (RFC 5321 discards a
transaction that is not ended by the final "."), so a crash there is safe to send again.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate

from domain.settings import Settings


class MailNotConfigured(RuntimeError):
    """No SMTP host is set (``SMTP_HOST``)."""


class Refused(Exception):
    """The server answered with an error code; 5xx is for good, 4xx is worth trying again."""

    def __init__(self, code: int, reply: str) -> None:
        super().__init__(code, reply)
        self.code = code
        self.reply = reply

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600

    def __str__(self) -> str:
        return f"{self.code} {self.reply}"


@contextmanager
def connect(settings: Settings) -> Iterator[smtplib.SMTP]:
    """An SMTP session: connected, TLS as configured, signed in if a user is set."""
    if not settings.smtp_host:
        raise MailNotConfigured("set SMTP_HOST to send written answers by email")
    mode = settings.smtp_tls.lower()
    if mode not in ("starttls", "ssl", "none"):
        raise MailNotConfigured(f"SMTP_TLS must be starttls, ssl or none, not {mode!r}")
    timeout = settings.smtp_timeout
    context = ssl.create_default_context(cafile=settings.smtp_ca_file or None)
    smtp: smtplib.SMTP
    if mode == "ssl":
        smtp = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    try:
        smtp.ehlo()
        if mode == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        yield smtp
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def open_envelope(smtp: smtplib.SMTP, sender: str, recipient: str) -> None:
    """MAIL FROM and RCPT TO; raises :class:`Refused` when the server says no."""
    code, reply = smtp.mail(sender)
    if code != 250:
        smtp.rset()
        raise Refused(code, _text(reply))
    code, reply = smtp.rcpt(recipient)
    if code not in (250, 251):
        smtp.rset()
        raise Refused(code, _text(reply))


def hand_over(smtp: smtplib.SMTP, message: EmailMessage) -> str:
    """DATA: the server takes responsibility for the message; returns its reply."""
    try:
        code, reply = smtp.data(message.as_bytes())
    except smtplib.SMTPDataError as exc:  # refused before the message (DATA not answered 354)
        raise Refused(exc.smtp_code, _text(exc.smtp_error)) from exc
    # smtplib returns the reply to the final "." without checking it (sendmail does)
    if code != 250:
        raise Refused(code, _text(reply))
    return _text(reply)


def build_message(
    *, sender: str, recipient: str, subject: str, body: str, message_id: str
) -> EmailMessage:
    """A plain-text message with a Message-ID that names the delivery (to find it in logs)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message.set_content(body)
    return message


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
