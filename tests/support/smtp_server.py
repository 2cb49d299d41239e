"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it accepts, for the real smtplib.

It can refuse an address (a bounce at RCPT), or stall once at RCPT or after accepting DATA so a
test can kill the sender at exactly that point.
"""

from __future__ import annotations

import asyncio
import email
import ssl
import threading
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.servers import free_port


@dataclass
class Received:
    """One message the server took responsibility for, and how the session was secured."""

    recipients: list[str]
    message: Message
    tls: bool = False
    login: str = ""


@dataclass
class Mailbox:
    """The handler: records accepted messages; refusals and stalls are set by the test."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    stall_at_rcpt: set[str] = field(default_factory=set)
    stall_after_data: set[str] = field(default_factory=set)
    # refused after the whole message arrived (the reply to the final ".")
    refuse_data: dict[str, str] = field(default_factory=dict)
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def _stall(self) -> None:
        self.stalled.set()
        while not self.release.is_set():
            await asyncio.sleep(0.02)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        if address in self.stall_at_rcpt:
            self.stall_at_rcpt.discard(address)  # once
            await self._stall()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for address in envelope.rcpt_tos:
            if address in self.refuse_data:
                return self.refuse_data[address]
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        login = session.auth_data.login.decode() if session.authenticated else ""
        message = email.message_from_bytes(raw)
        transport = server.transport
        implicit = transport is not None and transport.get_extra_info("ssl_object") is not None
        tls = bool(session.ssl) or implicit
        self.received.append(Received(list(envelope.rcpt_tos), message, tls, login))
        held = self.stall_after_data & set(envelope.rcpt_tos)
        if held:
            self.stall_after_data -= held  # once
            await self._stall()
        return "250 2.0.0 Message accepted for delivery"

    def count(self, address: str) -> int:
        """How many accepted messages went to ``address``."""
        return sum(address in r.recipients for r in self.received)


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SmtpServer.USER.encode(),
        SmtpServer.PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


class SmtpServer:
    """aiosmtpd's Controller on a free loopback port.

    With ``tls_dir``: a certificate from a throw-away CA (trustme) whose PEM is written there,
    and either STARTTLS and sign-in (``USER`` / ``PASSWORD``) required, or TLS from the first
    byte (``implicit_tls``, no sign-in).
    """

    USER = "opcc-mailer"
    PASSWORD = "mail-secret-123"

    def __init__(self, tls_dir: Path | None = None, *, implicit_tls: bool = False) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.ca_file = ""
        self.mode = "ssl" if implicit_tls else "starttls"
        options: dict[str, Any] = {}
        if tls_dir is not None:
            ca = trustme.CA()
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert("127.0.0.1").configure_cert(context)
            self.ca_file = str(tls_dir / "smtp-ca.pem")
            ca.cert_pem.write_to_path(self.ca_file)
            if implicit_tls:
                # aiosmtpd offers AUTH only after STARTTLS, so this one takes mail without it
                options = {"ssl_context": context}
            else:
                options = {"tls_context": context, "require_starttls": True,
                           "auth_required": True, "authenticator": _authenticator}  # fmt: skip
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **options)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.mailbox.release.set()
        self.controller.stop()

    def settings(self) -> dict[str, Any]:
        """The openfloor settings that point at this server."""
        secure = {"smtp_tls": self.mode, "smtp_ca_file": self.ca_file}
        if self.mode == "starttls":
            secure |= {"smtp_user": self.USER, "smtp_password": self.PASSWORD}
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            **(secure if self.ca_file else {"smtp_tls": "none"}),
            "mail_from": "answers@opcc.example.org",
            "smtp_timeout": 3.0,
            "send_lease_seconds": 2.0,
        }
