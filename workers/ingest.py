"""Store a queued submission message; the database's unique key is the last word on repeats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.models import Channel, Meeting, Phase, Submission
from domain.queue import SubmissionMessage


class UnknownMeeting(LookupError):
    """The message names a meeting that does not exist."""


def store_submission(session: Session, message: SubmissionMessage) -> tuple[int, bool]:
    """Insert the submission unless (channel, external id) is already stored.

    Returns ``(submission_id, created)``. Safe under at-least-once delivery: a second
    delivery, even racing the first in another worker, finds the existing row.
    """
    existing = _find(session, message)
    if existing is not None:
        return existing, False
    if session.get(Meeting, message.meeting_id) is None:
        raise UnknownMeeting(message.meeting_id)
    sub = Submission(
        meeting_id=message.meeting_id,
        channel=Channel(message.channel),
        external_id=message.external_id,
        reference=message.reference,
        raw_text=message.text,
        author_name=message.author_name,
        location=message.location,
        contact_email=message.contact_email,
        consent_publish=message.consent_publish,
        event_name=message.event_name,
        phase=Phase(message.phase),
        received_at=datetime.fromisoformat(message.received_at),
    )
    try:
        with session.begin_nested():
            session.add(sub)
    except IntegrityError:
        found = _find(session, message)
        if found is None:
            raise
        return found, False
    return sub.id, True


def _find(session: Session, message: SubmissionMessage) -> int | None:
    return session.scalar(
        select(Submission.id).where(
            Submission.channel == Channel(message.channel),
            Submission.external_id == message.external_id,
        )
    )
