"""Housekeeping jobs: safety nets for lost work, and personal-data retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq import get_current_job
from sqlalchemy import delete, exists, select, update

from domain.models import Meeting, MeetingStatus, OutboxMessage, Submission, SubmissionStatus
from domain.runtime import current
from workers.jobs import schedule_processing
from workers.recovery import reap_dead_workers


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
    """Erase names, towns and emails of meetings closed longer than the retention period."""
    rt = current()
    cutoff = datetime.now(UTC) - timedelta(days=rt.settings.retention_days)
    with rt.db.transaction() as session:
        closed = select(Meeting.id).where(
            Meeting.status == MeetingStatus.CLOSED, Meeting.closed_at < cutoff
        )
        result = session.execute(
            update(Submission)
            .where(Submission.meeting_id.in_(closed), Submission.erased_at.is_(None))
            .values(
                author_name=None,
                location=None,
                contact_email=None,
                consent_publish=False,
                erased_at=datetime.now(UTC),
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
