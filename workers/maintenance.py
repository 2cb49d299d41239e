"""Housekeeping jobs: safety nets for lost work, and personal-data retention."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from rq import get_current_job
from sqlalchemy import Select, and_, delete, exists, select
from sqlalchemy.orm import Session

from domain.erasure import erase_submissions
from domain.models import (
    FINAL_DELIVERY,
    AnswerDelivery,
    Coverage,
    Meeting,
    MeetingStatus,
    OutboxMessage,
    Question,
    QuestionGroup,
    QuestionStatus,
    Submission,
    SubmissionStatus,
    WrittenAnswer,
)
from domain.models.answer import recipient_key
from domain.runtime import current
from workers.jobs import schedule_processing
from workers.recovery import reap_dead_workers

log = logging.getLogger(__name__)


def requeue_stalled() -> int:
    """Hand back dead workers' jobs; queue a pipeline run for every meeting with pending work."""
    rt = current()
    job = get_current_job()
    reap_dead_workers(rt.redis, rt.prefix, me=job.worker_name if job is not None else None)
    with rt.db.transaction() as session:
        meeting_ids = session.scalars(
            select(Submission.meeting_id)
            .where(Submission.status == SubmissionStatus.PENDING)
            .distinct()
        ).all()
    for meeting_id in meeting_ids:
        schedule_processing(meeting_id)
    return len(meeting_ids)


def purge_outbox() -> int:
    """Delete relayed outbox rows whose submission is stored (they duplicate personal data)."""
    rt = current()
    cutoff = datetime.now(UTC) - timedelta(hours=1)
    stored = exists().where(
        Submission.channel == OutboxMessage.channel,
        Submission.external_id == OutboxMessage.external_id,
    )
    with rt.db.transaction() as session:
        result = session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.relayed_at.is_not(None), OutboxMessage.relayed_at < cutoff, stored
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


def erase_expired() -> int:
    """Erase personal data of meetings closed longer than the retention period.

    Names, towns, emails, social handles, links and platform ids go; the questions stay
    (redacted), so the meeting report's figures do not change. A person still owed a written
    answer by email keeps their data until it is delivered (or refused by their mail server).
    """
    rt = current()
    cutoff = datetime.now(UTC) - timedelta(days=rt.settings.retention_days)
    with rt.db.transaction() as session:
        closed = select(Meeting.id).where(
            Meeting.status == MeetingStatus.CLOSED, Meeting.closed_at < cutoff
        )
        held = awaiting_answer(session, closed)
        if held:
            log.info(
                "retention: %d submission(s) kept until their written answer is sent", len(held)
            )
        where = and_(Submission.meeting_id.in_(closed), Submission.id.not_in(held))
        return len(erase_submissions(session, where))


def awaiting_answer(session: Session, meetings: Select[Any]) -> set[int]:
    """Submissions still owed their written answer: an email not yet delivered to that address
    (or no answer approved yet), or a reply on X or Facebook not yet posted."""
    owed = {
        sid
        for sid in session.scalars(
            select(AnswerDelivery.submission_id)
            .join(Submission, Submission.id == AnswerDelivery.submission_id)
            .where(
                Submission.meeting_id.in_(meetings),
                Submission.erased_at.is_(None),
                AnswerDelivery.channel != "email",
                AnswerDelivery.status.not_in(FINAL_DELIVERY),
            )
        )
        if sid is not None
    }
    return owed | _awaiting_email(session, meetings)


def _awaiting_email(session: Session, meetings: Select[Any]) -> set[int]:
    rows = session.execute(
        select(Submission.id, Submission.contact_email, Question.group_id)
        .join(Question, Question.submission_id == Submission.id)
        .join(QuestionGroup, QuestionGroup.id == Question.group_id)
        .where(
            Submission.meeting_id.in_(meetings),
            Submission.erased_at.is_(None),
            Submission.contact_email.is_not(None),
            QuestionGroup.coverage == Coverage.NOT_COVERED,
            Question.status.not_in((QuestionStatus.FLAGGED, QuestionStatus.REJECTED)),
        )
    ).all()
    if not rows:
        return set()
    answers = {
        a.group_id: a
        for a in session.scalars(
            select(WrittenAnswer).where(WrittenAnswer.group_id.in_({r.group_id for r in rows}))
        )
    }
    done = {
        (d.answer_id, d.recipient_key)
        for d in session.scalars(
            select(AnswerDelivery).where(
                AnswerDelivery.answer_id.in_([a.id for a in answers.values()]),
                AnswerDelivery.status.in_(FINAL_DELIVERY),
            )
        )
    }
    held: set[int] = set()
    for row in rows:
        answer = answers.get(row.group_id)
        key = recipient_key(row.contact_email or "")
        if answer is None or answer.approved_at is None or (answer.id, key) not in done:
            held.add(row.id)
    return held
