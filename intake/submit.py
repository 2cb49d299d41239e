"""The one way every non-social channel hands a question over: outbox first, then queue."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.models import Meeting, MeetingState, MeetingStatus, Phase
from domain.queue import SubmissionMessage
from domain.runtime import Runtime
from intake import outbox, pusher
from intake.references import new_reference

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    """What the sender is told: their reference, and whether this was a repeat."""

    reference: str
    duplicate: bool


def phase_for(meeting: Meeting | MeetingState) -> Phase:
    """Questions sent while the meeting is on air are live questions."""
    return Phase.LIVE if meeting.status == MeetingStatus.LIVE else Phase.ADVANCE


def submit(
    rt: Runtime,
    meeting: Meeting | MeetingState,
    *,
    channel: str,
    text: str,
    external_id: str | None = None,
    author_name: str | None = None,
    location: str | None = None,
    contact_email: str | None = None,
    consent_publish: bool = False,
    event_name: str | None = None,
    received_at: datetime | None = None,
) -> Receipt:
    """Make the question durable (outbox row committed), then hand it to the queue at once.

    Raises SQLAlchemy errors if the database is down; the caller keeps the person's text.
    """
    reference = new_reference()
    message = SubmissionMessage(
        meeting_id=meeting.id,
        channel=channel,
        external_id=external_id or reference,
        reference=reference,
        text=text,
        received_at=(received_at or datetime.now(UTC)).isoformat(),
        phase=phase_for(meeting).value,
        author_name=author_name or None,
        location=location or None,
        contact_email=contact_email or None,
        consent_publish=bool(consent_publish),
        event_name=event_name or None,
    )
    row_id, stored_reference, created = outbox.store(rt, message)
    if created:
        pusher.send(rt, row_id, message)
    return Receipt(reference=stored_reference, duplicate=not created)
