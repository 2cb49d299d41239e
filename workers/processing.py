"""Turn pending submissions into questions and tell the live views."""

from __future__ import annotations

from sqlalchemy import select

from domain import events
from domain.models import Question, Submission, SubmissionStatus
from domain.runtime import Runtime


def process_batch(rt: Runtime, meeting_id: int, limit: int) -> int:
    """Process up to ``limit`` pending submissions of a meeting; returns how many."""
    created: list[int] = []
    with rt.db.transaction() as session:
        pending = session.scalars(
            select(Submission)
            .where(
                Submission.meeting_id == meeting_id, Submission.status == SubmissionStatus.PENDING
            )
            .order_by(Submission.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for sub in pending:
            q = Question(
                submission_id=sub.id,
                meeting_id=meeting_id,
                text=sub.raw_text.strip(),
                redacted_text=sub.raw_text.strip(),
            )
            session.add(q)
            sub.status = SubmissionStatus.PROCESSED
            session.flush()
            created.append(q.id)
    if created:
        events.publish(
            rt.redis, rt.prefix, meeting_id, "questions.created", {"question_ids": created}
        )
    return len(created)
