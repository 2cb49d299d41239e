"""Board records written straight to the database (no worker), for board tests."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

from domain.models import (
    Channel,
    Meeting,
    Phase,
    Question,
    QuestionGroup,
    QuestionStatus,
    Submission,
    Theme,
)
from domain.runtime import Runtime

_ids = count(1)


def add_theme(rt: Runtime, label: str) -> int:
    """A theme row; returns its id."""
    with rt.db.transaction() as session:
        theme = Theme(slug=f"t-{next(_ids)}", label=label)
        session.add(theme)
        session.flush()
        return theme.id


def add_group(
    rt: Runtime, meeting: Meeting, composed: str = "", theme_id: int | None = None
) -> int:
    """A question group; returns its id."""
    with rt.db.transaction() as session:
        group = QuestionGroup(meeting_id=meeting.id, composed_question=composed, theme_id=theme_id)
        session.add(group)
        session.flush()
        return group.id


def add_question(
    rt: Runtime,
    meeting: Meeting,
    group_id: int | None,
    text: str,
    *,
    name: str | None = None,
    town: str | None = None,
    consent: bool = True,
    channel: Channel = Channel.WEB,
    phase: Phase = Phase.ADVANCE,
    status: QuestionStatus = QuestionStatus.NEW,
    theme_id: int | None = None,
) -> int:
    """A submission and its question in ``group_id``; returns the question id."""
    n = next(_ids)
    with rt.db.transaction() as session:
        sub = Submission(meeting_id=meeting.id, channel=channel, external_id=f"b-{n}",
                         reference=f"Q-BRD-{n:04d}", raw_text=text, author_name=name,
                         location=town, consent_publish=consent, phase=phase,
                         received_at=datetime.now(UTC))  # fmt: skip
        session.add(sub)
        session.flush()
        q = Question(submission_id=sub.id, meeting_id=meeting.id, text=text, redacted_text=text,
                     group_id=group_id, status=status, theme_id=theme_id)  # fmt: skip
        session.add(q)
        session.flush()
        return q.id
