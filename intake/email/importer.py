"""Email import: questions sent to the OPCC mailbox, read over IMAP or from a folder of .eml.

Each message becomes one submission (channel ``email``) through :func:`intake.submit.submit`,
keyed by its Message-ID, so running the import again stores nothing twice. The sender's
display name gives the first name only; the address is kept as the contact email. The
question is the subject plus the body (plain text preferred, HTML turned into text without
its markup), with quoted replies, signatures and sign-offs trimmed; attachments are ignored.

This module runs the import and reports what it did. The pieces live beside it: reading a
message into a question (:mod:`intake.email.parsing`), its body as text
(:mod:`intake.email.body`), and where messages come from and how a handled one is marked
(:mod:`intake.email.sources` for a folder of .eml, :mod:`intake.email.imap` for a mailbox).
Their names stay importable from here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from domain.models import Channel, Meeting
from domain.runtime import Runtime
from intake.email.body import body_text, html_to_text, trim_reply, unflow
from intake.email.imap import ImapSource
from intake.email.parsing import (
    EXTERNAL_ID_LIMIT,
    AutomaticReply,
    EmailQuestion,
    compose_text,
    first_name,
    parse_email,
)
from intake.email.sources import FolderSource, MailboxError, MailSource
from intake.submit import submit
from intake.validation import Validation, validate_submission

__all__ = [
    "EXTERNAL_ID_LIMIT",
    "AutomaticReply",
    "EmailQuestion",
    "EmailReport",
    "FolderSource",
    "ImapSource",
    "MailSource",
    "MailboxError",
    "body_text",
    "compose_text",
    "first_name",
    "html_to_text",
    "import_mail",
    "parse_email",
    "trim_reply",
    "unflow",
]

log = logging.getLogger(__name__)


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
