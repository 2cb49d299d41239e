"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it accepts, for the real smtplib.

It can refuse an address (a bounce at RCPT), or stall once at RCPT or after accepting DATA so a
test can kill the sender at exactly that point.
"""

from __future__ import annotations

import asyncio
import email
import threading
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.servers import free_port


@dataclass
class Received:
    """One message the server took responsibility for."""

    recipients: list[str]
    message: Message


@dataclass
class Mailbox:
    """The handler: records accepted messages; refusals and stalls are set by the test."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    stall_at_rcpt: set[str] = field(default_factory=set)
    stall_after_data: set[str] = field(default_factory=set)
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
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        self.received.append(Received(list(envelope.rcpt_tos), email.message_from_bytes(raw)))
        held = self.stall_after_data & set(envelope.rcpt_tos)
        if held:
            self.stall_after_data -= held  # once
            await self._stall()
        return "250 2.0.0 Message accepted for delivery"

    def count(self, address: str) -> int:
        """How many accepted messages went to ``address``."""
        return sum(address in r.recipients for r in self.received)


class SmtpServer:
    """aiosmtpd's Controller on a free loopback port."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.mailbox.release.set()
        self.controller.stop()

    def settings(self) -> dict[str, Any]:
        """The openfloor settings that point at this server (plain SMTP on loopback)."""
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_tls": "none",
            "mail_from": "answers@opcc.example.org",
            "smtp_timeout": 3.0,
            "send_lease_seconds": 2.0,
        }
