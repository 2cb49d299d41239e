"""One collected post or comment, and the queue message it becomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.models import Meeting, MeetingStatus, Phase
from domain.queue import TEXT_LIMIT, SubmissionMessage
from intake.references import new_reference

#: What a comment without ``from`` is shown as (the Graph API hides commenters from most tokens).
FACEBOOK_VIEWER = "a Facebook viewer"


@dataclass(frozen=True)
class Collected:
    """A post or comment as found on its platform."""

    channel: str  # "twitter" or "facebook"
    external_id: str  # the platform's id
    text: str
    posted_at: datetime
    author_name: str | None = None
    author_handle: str | None = None
    permalink: str | None = None
    parent_external_id: str | None = None


def to_message(meeting: Meeting, item: Collected) -> SubmissionMessage | None:
    """The queue message for ``item``, or None when it has no text at all (a bare photo)."""
    text = (item.text or "").strip()
    if not text:
        return None
    live = meeting.status == MeetingStatus.LIVE
    return SubmissionMessage(
        meeting_id=meeting.id,
        channel=item.channel,
        external_id=item.external_id,
        reference=new_reference(),
        text=text[:TEXT_LIMIT],
        received_at=item.posted_at.isoformat(),
        phase=(Phase.LIVE if live else Phase.ADVANCE).value,
        author_name=_cut(item.author_name, 120),
        author_handle=_cut(item.author_handle, 120),
        permalink=_cut(item.permalink, 500),
        parent_external_id=item.parent_external_id or None,
    )


def _cut(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else None
