"""Is the question pipe flowing? Queue, workers and backlog, for the staff banner.

A question is *waiting* from the moment it is durable (its outbox row) until the workers have
turned it into a question on the board: an outbox row whose submission is not stored yet, or
a stored submission still pending. Reads two small indexed counts and one Redis round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError
from rq import Worker
from rq.serializers import JSONSerializer
from sqlalchemy import exists, func, select
from sqlalchemy.exc import SQLAlchemyError

from domain.models import OutboxMessage, Submission, SubmissionStatus
from domain.queue import INGEST_QUEUE, PIPELINE_QUEUE, queue
from domain.runtime import Runtime

#: Waiting longer than this is "behind": on air, a live question shows within seconds.
BEHIND_AFTER = timedelta(seconds=30)
#: A worker whose last heartbeat is older than this is not counted as alive.
HEARTBEAT_MAX_AGE = timedelta(seconds=120)


@dataclass(frozen=True)
class QueueStatus:
    """What staff need to know about the pipe; ``problem`` is None when all is well."""

    queue_up: bool
    workers: int | None  # None when Redis cannot be asked
    waiting: int
    oldest: datetime | None

    @property
    def oldest_seconds(self) -> int | None:
        """Age of the longest-waiting question, in whole seconds."""
        if self.oldest is None:
            return None
        return max(0, int((datetime.now(UTC) - self.oldest).total_seconds()))

    @property
    def problem(self) -> str | None:
        """'queue-down', 'workers-down', 'behind' or None."""
        if not self.queue_up:
            return "queue-down"
        if not self.workers:
            return "workers-down" if self.waiting else None
        age = self.oldest_seconds
        if age is not None and age >= BEHIND_AFTER.total_seconds():
            return "behind"
        return None


def queue_status(rt: Runtime) -> QueueStatus:
    """Measure the queue, the live workers and the backlog now (never raises on an outage)."""
    waiting, oldest = _backlog(rt)
    try:
        rt.redis.ping()
        workers = _live_workers(rt)
    except RedisError:
        return QueueStatus(queue_up=False, workers=None, waiting=waiting, oldest=oldest)
    return QueueStatus(queue_up=True, workers=workers, waiting=waiting, oldest=oldest)


def _live_workers(rt: Runtime) -> int:
    cutoff = datetime.now(UTC) - HEARTBEAT_MAX_AGE
    ours = {queue(rt.redis, rt.prefix, n).name for n in (INGEST_QUEUE, PIPELINE_QUEUE)}
    count = 0
    for w in Worker.all(connection=rt.redis, serializer=JSONSerializer):
        beat = _aware(w.last_heartbeat)
        if beat is not None and beat >= cutoff and ours & set(w.queue_names()):
            count += 1
    return count


def _backlog(rt: Runtime) -> tuple[int, datetime | None]:
    stored = exists().where(
        Submission.channel == OutboxMessage.channel,
        Submission.external_id == OutboxMessage.external_id,
    )
    try:
        with rt.db.transaction() as session:
            unsent, unsent_oldest = session.execute(
                select(func.count(), func.min(OutboxMessage.created_at)).where(~stored)
            ).one()
            pending, pending_oldest = session.execute(
                select(func.count(), func.min(Submission.created_at)).where(
                    Submission.status == SubmissionStatus.PENDING
                )
            ).one()
    except SQLAlchemyError:
        return 0, None
    stamps = [s for s in (_aware(unsent_oldest), _aware(pending_oldest)) if s is not None]
    return int(unsent or 0) + int(pending or 0), min(stamps, default=None)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return value
