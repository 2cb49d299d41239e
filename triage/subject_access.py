"""Subject access and erasure: everything held about an email address or a social handle."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from domain.erasure import erase_submissions
from domain.models import Meeting, OutboxMessage, Question, Submission, SubmissionStatus
from domain.models.audit import record


class NotReady(Exception):
    """Some of the person's questions are still on their way through the pipeline."""


@dataclass(frozen=True)
class Identifier:
    """What a person gave us to find their data: an email address or a social handle."""

    kind: str  # "email" or "handle"
    value: str  # normalised: lower-case email, or handle without the leading @

    @classmethod
    def parse(cls, raw: str) -> Identifier | None:
        """``kath@example.org`` → email; ``@kath_s`` or ``kath_s`` → handle; blank → None."""
        text = raw.strip()
        if not text or len(text) > 254 or any(ch.isspace() for ch in text):
            return None
        if "@" in text[1:]:
            return cls("email", text.lower())
        handle = text.lstrip("@").lower()
        return cls("handle", handle) if handle else None

    def where(self) -> ColumnElement[bool]:
        """The submissions this identifier names (case-insensitive, @ optional on handles)."""
        if self.kind == "email":
            return func.lower(Submission.contact_email) == self.value
        return func.lower(Submission.author_handle).in_([self.value, "@" + self.value])

    def digest(self) -> str:
        """What the audit log keeps instead of the identifier itself."""
        return hashlib.sha256(f"{self.kind}:{self.value}".encode()).hexdigest()[:16]


def find(session: Session, ident: Identifier) -> list[dict[str, Any]]:
    """Every submission held about ``ident``, with what became of it, oldest first."""
    rows = session.execute(
        select(Submission, Question, Meeting)
        .join(Meeting, Meeting.id == Submission.meeting_id)
        .outerjoin(Question, Question.submission_id == Submission.id)
        .where(ident.where())
        .order_by(Submission.received_at, Submission.id)
    ).all()
    return [_describe(sub, question, meeting) for sub, question, meeting in rows]


def waiting_in_outbox(session: Session, ident: Identifier) -> int:
    """Questions from this person accepted but not yet stored (still in the outbox)."""
    field = "contact_email" if ident.kind == "email" else "author_handle"
    keys = set()
    for channel, external_id, payload in session.execute(
        select(OutboxMessage.channel, OutboxMessage.external_id, OutboxMessage.payload)
    ):
        if str(payload.get(field) or "").lower().lstrip("@") == ident.value.lstrip("@"):
            keys.add((channel, external_id))
    if not keys:
        return 0
    stored = {
        (sub.channel.value, sub.external_id)
        for sub in session.scalars(select(Submission).where(ident.where()))
    }
    return len(keys - stored)


def erase(session: Session, ident: Identifier, *, actor_id: int | None) -> int:
    """Erase what is held about ``ident`` and record it in the audit log; how many rows.

    Raises NotReady while any of their questions is still being processed, so nothing is
    erased halfway; staff try again a minute later.
    """
    pending = session.scalar(
        select(func.count())
        .select_from(Submission)
        .where(ident.where(), Submission.status == SubmissionStatus.PENDING)
    )
    waiting = (pending or 0) + waiting_in_outbox(session, ident)
    if waiting:
        raise NotReady(f"{waiting} of their questions are still being processed")
    ids = erase_submissions(session, ident.where())
    record(
        session,
        "data.erase",
        actor_id=actor_id,
        target_type="person",
        identifier_kind=ident.kind,
        identifier_digest=ident.digest(),
        submissions=ids,
    )
    return len(ids)


def _describe(sub: Submission, question: Question | None, meeting: Meeting) -> dict[str, Any]:
    return {
        "reference": sub.reference,
        "meeting": meeting.title,
        "meeting_date": meeting.scheduled_start.date().isoformat(),
        "channel": sub.channel.value,
        "phase": sub.phase.value,
        "received_at": sub.received_at.isoformat(),
        "text": sub.raw_text,
        "name": sub.author_name,
        "town": sub.location,
        "email": sub.contact_email,
        "social_handle": sub.author_handle,
        "link": sub.permalink,
        "agreed_to_be_named": sub.consent_publish,
        "event": sub.event_name,
        "status": question.status.value if question is not None else "being processed",
        "written_answer": question.written_answer if question is not None else None,
        "erased_at": sub.erased_at.isoformat() if sub.erased_at else None,
    }
